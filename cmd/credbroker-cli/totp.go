package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/wire"
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
So is a seed of other parameters than AWS virtual MFA devices use (SHA1, 6
digits, 30 s steps), whose codes STS would refuse.
Keeping the seed on the same machine as the key makes the MFA a second
factor against stolen keys, not against a stolen machine; choose accordingly.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
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
				return fmt.Errorf("profile %s: %w; nothing was stored", name, err)
			}
			if !seed.AWSCompatible() {
				// STS checks codes as AWS virtual MFA devices make them
				// (RFC 6238 with SHA1, 6 digits, 30 s steps): with any
				// other seed every code would be refused, and repeated
				// refusals can lock the device.
				params := strings.TrimSuffix(strings.TrimPrefix(seed.String(), "mfa.Seed{"), "}")
				return fmt.Errorf("profile %s: this seed makes codes with %s, but AWS virtual MFA devices use SHA1, 6 digits and 30 s steps, so STS would refuse every code; nothing was stored", name, params)
			}
			_, r, err := a.broker()
			if err != nil {
				return err
			}
			if _, err := r.Resolve(name); err != nil {
				return err
			}
			keys, _ := a.keystore()
			if err := keys.Put(keystore.KindTOTPSeed, name, []byte(seed.Encode())); err != nil {
				return fmt.Errorf("store TOTP seed of profile %s: %w", name, err)
			}
			a.notifyDaemon(c.Context(), name)
			fmt.Fprintf(a.stdout, "Stored the TOTP seed of profile %s. Compare `credbroker totp code %s` with your authenticator app once.\n", name, name)
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
for the console sign-in or any tool that asks for a code.

AWS refuses a code used twice for one device, so the code of a time step is
handed out once, whether here or by the daemon: when this step's code was
already used, this waits for the next step (at most 30 s, said on stderr).
When a daemon of yours runs, it makes the code, with the record of used
steps it keeps; otherwise the code is made here, under the same lock.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			_, r, err := a.broker()
			if err != nil {
				return err
			}
			chain, err := r.Resolve(args[0])
			if err != nil {
				return err
			}
			if chain.MFASerial != "" {
				if code, asked, err := a.daemonTOTPCode(c.Context(), args[0]); asked {
					if err != nil {
						return err
					}
					fmt.Fprintln(a.stdout, code)
					return nil
				}
			}
			keys, _ := a.keystore()
			seed, found, err := (&broker.SeedCodes{Keys: keys}).Seed(chain.Path)
			if err != nil {
				return err
			}
			if !found {
				return noSeedError{args[0]}
			}
			code, err := a.totpCode(c.Context(), keys, chain.MFASerial, seed)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, code)
			return nil
		},
	}
}

// totpCode is the code of the first time step not yet used for device,
// recorded as used in the keystore, as the daemon records the codes it
// sends (broker.StepStore): a code shown here for the console sign-in and
// sent again by the daemon in the same step would be refused by AWS. With
// no device (no mfa_serial in the chain) the daemon never uses the seed,
// and the current code is all there is to give.
func (a *app) totpCode(ctx context.Context, keys *keystore.Store, device string, seed mfa.Seed) (string, error) {
	if device == "" {
		return seed.Code(time.Now())
	}
	gen := &mfa.Generator{
		Steps:  a.stepStore(keys),
		Notify: a.sayStepWait,
	}
	return gen.Code(ctx, device, seed)
}

// stepStore is the record of the MFA time steps used, kept in keys and
// locked per device in the folder this user's daemon locks them in.
func (a *app) stepStore(keys *keystore.Store) broker.StepStore {
	return broker.StepStore{Keys: keys, LockDir: filepath.Join(a.stateDir(), "locks")}
}

// daemonTOTPCode asks a running daemon of this user for a code of
// profile's seed (never starting one). asked is false when no daemon of
// this user answers (none runs, or the system daemon, whose keyring is
// not this user's), or it finds no seed: then the code is made here (or
// the missing seed said here, as without a daemon).
func (a *app) daemonTOTPCode(ctx context.Context, name string) (code string, asked bool, err error) {
	c, _ := a.client()
	c.OnWait = func(_ string, wait time.Duration) { a.sayStepWait(wait) }
	ans, err := c.TOTPCode(ctx, name)
	if a.passphraseWanted(err) {
		// A daemon started on demand waits for its file keyring's
		// passphrase: give it, as credential_process does.
		if err = a.givePassphrase(ctx, c, true); err == nil {
			ans, err = c.TOTPCode(ctx, name)
		}
	}
	var de *wire.Error
	if errors.Is(err, wire.ErrNoDaemon) || errors.As(err, &de) && (de.Code == wire.CodeForbidden || de.Code == wire.CodeNoSeed) {
		return "", false, nil // made here, or said here why not
	}
	return ans.Code, true, err
}

// sayStepWait says on stderr that the code waits for the next time step.
func (a *app) sayStepWait(wait time.Duration) {
	fmt.Fprintf(a.stderr, "credbroker: the code of this time step was already used (AWS refuses a code twice); waiting %s for the next one\n", wait.Round(time.Second))
}

// noSeedError: totp code for a profile without a stored seed.
type noSeedError struct{ name string }

func (e noSeedError) Error() string {
	return "no TOTP seed is stored for profile " + e.name + " or its source profiles"
}

// Hint says how to store one.
func (e noSeedError) Hint() string { return "run: credbroker totp add " + e.name + " < seed.txt" }
