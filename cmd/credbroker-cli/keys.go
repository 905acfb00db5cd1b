package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
)

var (
	// Long-lived IAM user keys start AKIA; ASIA keys are temporary and
	// need a session token. Secret keys are 40 characters of base64.
	accessKeyIDPattern = regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`)
	secretKeyPattern   = regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`)
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
	if strings.HasPrefix(k.AccessKeyID, "ASIA") {
		return k, errors.New("access key id starts with ASIA: that is a temporary key; store a long-lived IAM user key (AKIA...)")
	}
	if !accessKeyIDPattern.MatchString(k.AccessKeyID) {
		return k, badKeyIDError(k)
	}
	if !secretKeyPattern.MatchString(k.SecretAccessKey) {
		// Never echo the secret, not even part of it.
		return k, fmt.Errorf("the secret access key is not 40 characters of letters, digits, / and + (got %d characters)", len(k.SecretAccessKey))
	}
	return k, nil
}

// badKeyIDError says what is wrong with k's access key id. The id is
// quoted only when it has the form of an access key id (capitals and
// digits, 16 to 32 of them: an id of another kind, or mistyped): anything
// else may be the secret, pasted first by mistake, and not one character
// of it is repeated, only its length and what it starts with.
func badKeyIDError(k keystore.AccessKey) error {
	const want = "is not an IAM access key id (AKIA followed by 16 capital letters and digits)"
	id := k.AccessKeyID
	if looksLikeKeyID(id) {
		return fmt.Errorf("%q %s", id, want)
	}
	if id == "" {
		return errors.New("the access key id is empty")
	}
	msg := fmt.Sprintf("the access key id given (%d characters, starting with %s; not shown, in case it is a secret) %s", len(id), charClass(id[0]), want)
	if accessKeyIDPattern.MatchString(k.SecretAccessKey) {
		msg += "; the key id and the secret look swapped: give the key id first"
	}
	return errors.New(msg)
}

// looksLikeKeyID reports whether s has the form of an access key id of
// any kind, ^[A-Z0-9]{16,32}$ (AWS issues 20 capitals and digits). No
// regexp: a bounded repeat costs its compilation in every process start.
func looksLikeKeyID(s string) bool {
	if len(s) < 16 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// charClass names the kind of character c is, in words.
func charClass(c byte) string {
	switch {
	case c >= 'A' && c <= 'Z':
		return "a capital letter"
	case c >= 'a' && c <= 'z':
		return "a lowercase letter"
	case c >= '0' && c <= '9':
		return "a digit"
	case c == '/' || c == '+':
		return "/ or +"
	}
	return "another character"
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
	return &cobra.Command{
		Use:   "list",
		Short: "List profiles and what is stored for each (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, r, err := a.broker()
			if err != nil {
				return err
			}
			cfg, _ := a.config()
			keys, err := a.keystore()
			if err != nil {
				return err
			}
			items, err := keys.List()
			if err != nil {
				return err
			}
			has := map[keystore.Kind]map[string]bool{}
			for _, it := range items {
				if has[it.Kind] == nil {
					has[it.Kind] = map[string]bool{}
				}
				has[it.Kind][it.Name] = true
			}
			names := map[string]bool{}
			for n := range cfg.Profiles {
				names[n] = true
			}
			for n := range has[keystore.KindAccessKey] {
				names[n] = true
			}
			for n := range has[keystore.KindTOTPSeed] {
				names[n] = true
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tACCESS KEY\tTOTP SEED\tCREDENTIALS")
			for _, n := range slices.Sorted(maps.Keys(names)) {
				keyCol := "-"
				if has[keystore.KindAccessKey][n] {
					k, err := keys.AccessKey(n)
					if err != nil {
						return err
					}
					keyCol = cache.LastFour(k.AccessKeyID)
				}
				seedCol := "-"
				if has[keystore.KindTOTPSeed][n] {
					seedCol = "stored"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", n, keyCol, seedCol, describeProfile(r, n))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if len(names) == 0 {
				fmt.Fprintf(a.stderr, "credbroker: no profiles yet: run credbroker add PROFILE, and describe roles in %s\n", cfg.Path)
			}
			return nil
		},
	}
}

// describeProfile says in a few words how a profile's credentials are made.
func describeProfile(r *profile.Resolver, name string) string {
	chain, err := r.Resolve(name)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	if len(chain.Steps) == 0 {
		b.WriteString("session from its own key")
	} else {
		b.WriteString("role " + chain.Steps[len(chain.Steps)-1].RoleARN)
		if chain.Source == name {
			b.WriteString(" from its own key")
		} else {
			b.WriteString(" via " + chain.Path[1])
		}
	}
	if chain.MFASerial != "" {
		b.WriteString(" with MFA")
	}
	return b.String()
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
