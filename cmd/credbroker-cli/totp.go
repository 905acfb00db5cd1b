package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
)

// maxSeedInput bounds what totp add reads: an otpauth URI is well under it.
const maxSeedInput = 4096

func newTOTPCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "totp",
		Short: "Keep a virtual MFA device's seed and make its codes",
	}
	c.AddCommand(newTOTPAddCmd(a), newTOTPCodeCmd(a))
	return c
}

func newTOTPAddCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "add PROFILE",
		Short: "Store a virtual MFA device's seed (base32 or otpauth:// URI read from stdin)",
		Long: `Store the seed of PROFILE's virtual MFA device in the keyring, so credbroker
makes the MFA codes itself. The seed is read from stdin, as the base32 secret
AWS shows under "Show secret key" or as the otpauth://totp/... URI of the QR
code; on a terminal it is asked for without echo.

Anything else is refused and nothing is stored: an existing seed survives.
Keeping the seed on the same machine as the key makes the MFA a second
factor against stolen keys, not against a stolen machine; choose accordingly.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			profile := args[0]
			var input string
			if isTerminal(a.stdin) {
				s, err := mfa.ReadSecretFromTTY("", "TOTP seed (base32 or otpauth:// URI): ")
				if err != nil {
					return err
				}
				input = s
			} else {
				data, err := io.ReadAll(io.LimitReader(a.stdin, maxSeedInput+1))
				if err != nil {
					return fmt.Errorf("read seed from stdin: %w", err)
				}
				if len(data) > maxSeedInput {
					return fmt.Errorf("seed input is longer than %d bytes: expected a base32 secret or an otpauth://totp/ URI", maxSeedInput)
				}
				input = string(data)
			}
			seed, err := mfa.ParseSeed(input)
			if err != nil {
				return fmt.Errorf("profile %s: %w; nothing was stored", profile, err)
			}
			b, err := a.broker()
			if err != nil {
				return err
			}
			if _, err := b.Resolver().Resolve(profile); err != nil {
				return err
			}
			keys, _ := a.keystore()
			if err := keys.Put(keystore.KindTOTPSeed, profile, []byte(seed.Encode())); err != nil {
				return fmt.Errorf("store TOTP seed of profile %s: %w", profile, err)
			}
			a.notifyDaemon(c.Context(), profile)
			if !seed.AWSCompatible() {
				a.warn(fmt.Sprintf("AWS virtual MFA devices use SHA1, 6 digits and 30 s steps; this seed is %s", seed))
			}
			fmt.Fprintf(a.stdout, "Stored the TOTP seed of profile %s. Compare `credbroker totp code %s` with your authenticator app once.\n", profile, profile)
			return nil
		},
	}
}

func newTOTPCodeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "code PROFILE",
		Short: "Print the current TOTP code of PROFILE's stored seed",
		Long: `Print the current code of the virtual MFA seed stored for PROFILE (or, for a
role profile, for the first profile of its source_profile chain that has one),
for the console sign-in or any tool that asks for a code.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			b, err := a.broker()
			if err != nil {
				return err
			}
			chain, err := b.Resolver().Resolve(args[0])
			if err != nil {
				return err
			}
			keys, _ := a.keystore()
			seed, found, err := (&broker.SeedCodes{Keys: keys}).Seed(chain.Path)
			if err != nil {
				return err
			}
			if !found {
				return noSeedError{args[0]}
			}
			code, err := seed.Code(time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, code)
			return nil
		},
	}
}

// noSeedError: totp code for a profile without a stored seed.
type noSeedError struct{ profile string }

func (e noSeedError) Error() string {
	return "no TOTP seed is stored for profile " + e.profile + " or its source profiles"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
