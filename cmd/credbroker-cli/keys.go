package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
)

func newAddCmd(a *app) *cobra.Command {
	var fromEnv, allowRoot bool
	c := &cobra.Command{
		Use:   "add PROFILE",
		Short: "Store an IAM user's access key in the keyring",
		Long: `Store an IAM user's long-lived access key for PROFILE in the keyring.

The key is asked for on the terminal (the secret without echo), read as two
lines (key id, then secret) from stdin when stdin is not a terminal, or taken
from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with --env.

Before storing, credbroker asks STS who the key belongs to (GetCallerIdentity):
a key STS rejects is not stored, and neither is a root user's key unless
--allow-root (AWS: never use root credentials for everyday work). An existing
key is replaced only once the new one checks out; cached sessions of the
profile are dropped.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			key, err := a.readAccessKey(fromEnv)
			if err != nil {
				return err
			}
			b, r, err := a.broker()
			if err != nil {
				return err
			}
			arn, err := b.CheckKey(c.Context(), r, name, key, allowRoot)
			if err != nil {
				return err
			}
			keys, _ := a.keystore()
			if err := keys.PutAccessKey(name, key); err != nil {
				return fmt.Errorf("store access key of profile %s: %w", name, err)
			}
			if _, err := b.Forget(r, name); err != nil {
				return err
			}
			a.notifyDaemon(c.Context(), name)
			fmt.Fprintf(a.stdout, "Stored access key %s of %s for profile %s in the %s keyring.\n",
				cache.LastFour(key.AccessKeyID), arn, name, keys.Backend())
			return nil
		},
	}
	c.Flags().BoolVar(&fromEnv, "env", false, "read the key from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	c.Flags().BoolVar(&allowRoot, "allow-root", false, "store a root user's key anyway (not recommended)")
	return c
}

// readAccessKey gets a key pair from the environment, the terminal or
// stdin, and checks its form before anything talks to STS.
func (a *app) readAccessKey(fromEnv bool) (keystore.AccessKey, error) {
	var k keystore.AccessKey
	switch {
	case fromEnv:
		k.AccessKeyID, k.SecretAccessKey = a.getenv("AWS_ACCESS_KEY_ID"), a.getenv("AWS_SECRET_ACCESS_KEY")
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			return k, errors.New("--env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set")
		}
		if a.getenv("AWS_SESSION_TOKEN") != "" {
			return k, errors.New("AWS_SESSION_TOKEN is set: these are temporary credentials; store a long-lived IAM user key")
		}
	case isTerminal(a.stdin):
		id, err := mfa.ReadSecretFromTTY("", "Access key ID: ")
		if err != nil {
			return k, err
		}
		secret, err := mfa.ReadSecretFromTTY("", "Secret access key: ")
		if err != nil {
			return k, err
		}
		k.AccessKeyID, k.SecretAccessKey = id, secret
	default:
		lines, err := readLines(a.stdin, 2)
		if err != nil {
			return k, fmt.Errorf("read key from stdin: %w", err)
		}
		if len(lines) != 2 {
			return k, errors.New("expected two lines on stdin: the access key id, then the secret access key")
		}
		k.AccessKeyID, k.SecretAccessKey = lines[0], lines[1]
	}
	k.AccessKeyID, k.SecretAccessKey = strings.TrimSpace(k.AccessKeyID), strings.TrimSpace(k.SecretAccessKey)
	return k, k.Validate()
}

// readLines reads up to n non-empty lines of at most 4 KiB in all.
func readLines(r io.Reader, n int) ([]string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 4096))
	var lines []string
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			if len(lines) == n {
				return nil, fmt.Errorf("more than %d lines", n)
			}
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newListCmd(a *app) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "list",
		Short: "List profiles and what is stored for each (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkOutput(c, output); err != nil {
				return err
			}
			_, r, err := a.broker()
			if err != nil {
				return err
			}
			keys, _ := a.keystore()
			profiles, err := broker.Inventory(keys, r)
			if err != nil {
				return err
			}
			for _, warning := range r.Config.Warnings {
				fmt.Fprintf(a.stderr, "credbroker: warning: %s\n", warning)
			}
			if output == "json" {
				return printJSON(a.stdout, newListing(profiles, r))
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tACCESS KEY\tTOTP SEED\tCREDENTIALS\tFROM")
			for _, p := range profiles {
				seed, how := "-", "error: "
				if p.Seed {
					seed = "stored"
				}
				if p.Err != nil {
					how += p.Err.Error()
				} else {
					how = p.Chain.Describe()
				}
				from, _ := r.Origin(p.Name)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, dash(p.KeyID), seed, how, dash(from))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if len(profiles) == 0 {
				fmt.Fprintf(a.stderr, "credbroker: no profiles yet: run credbroker add PROFILE, and describe roles in %s\n", r.Config.Path)
			}
			return nil
		},
	}
	outputFlag(c, &output)
	return c
}

func newRemoveCmd(a *app) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "remove PROFILE",
		Short: "Remove a profile's key, TOTP seed and cached sessions from the keyring",
		Long: `Remove PROFILE's access key and TOTP seed from the keyring, and every cached
session made from them (including those of role profiles whose source_profile
leads to PROFILE). The config file is not changed. A long-lived key cannot be
recovered once removed, so this asks for confirmation on the terminal unless
--yes.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			b, r, err := a.broker()
			if err != nil {
				return err
			}
			keys, _ := a.keystore()
			items, err := keys.List()
			if err != nil {
				return err
			}
			var mine []keystore.Item
			for _, it := range items {
				if it.Name == name && (it.Kind == keystore.KindAccessKey || it.Kind == keystore.KindTOTPSeed) {
					mine = append(mine, it)
				}
			}
			if len(mine) == 0 {
				return fmt.Errorf("no access key or TOTP seed is stored for profile %s", name)
			}
			if !yes {
				answer, err := mfa.ReadLineFromTTY("", fmt.Sprintf("Remove the access key and TOTP seed of profile %s? [y/N] ", name))
				if errors.Is(err, mfa.ErrNoTerminal) {
					return errors.New("no terminal to confirm on: pass --yes to remove without asking")
				}
				if err != nil {
					return err
				}
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return errors.New("nothing removed")
				}
			}
			for _, it := range mine {
				if err := keys.Delete(it.Kind, it.Name); err != nil {
					return fmt.Errorf("remove %s of profile %s: %w", it.Kind, name, err)
				}
				fmt.Fprintf(a.stdout, "Removed the %s of profile %s.\n", strings.ReplaceAll(string(it.Kind), "-", " "), name)
			}
			dropped, err := b.Forget(r, name)
			if err != nil {
				return err
			}
			a.notifyDaemon(c.Context(), name)
			if dropped > 0 {
				fmt.Fprintf(a.stdout, "Dropped %d cached session(s) made from it.\n", dropped)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return c
}
