package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
)

// app is what every command shares: the process's streams and environment,
// and the keystore and config, opened at most once.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	keys *keystore.Store
	cfg  *broker.Config
}

// run executes one command line and returns the exit code.
func run(args []string, a *app) int {
	defer restoreTerminalOnSignal()()
	ctx := context.Background()
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	msg, hint := describe(err)
	if cmd != nil && cmd.Name() == "credential-process" {
		// An SDK shows credential_process's stderr as is: keep to one line.
		if hint != "" {
			msg += "; " + hint
		}
		fmt.Fprintf(a.stderr, "credbroker: error: %s\n", msg)
		return 1
	}
	fmt.Fprintf(a.stderr, "credbroker: error: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(a.stderr, "credbroker: hint: %s\n", hint)
	}
	return 1
}

// restoreTerminalOnSignal makes ^C during a prompt without echo leave the
// terminal as it was: it saves the terminal's state and, on SIGINT or
// SIGTERM, restores it and exits 130. Without a terminal it does nothing
// and signals keep their default effect.
func restoreTerminalOnSignal() (stop func()) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return func() {}
	}
	state, err := term.GetState(int(tty.Fd()))
	if err != nil {
		tty.Close()
		return func() {}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			_ = term.Restore(int(tty.Fd()), state)
			_, _ = tty.WriteString("\n")
			os.Exit(130)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		tty.Close()
	}
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "credbroker",
		Short: "Temporary AWS credentials from keys kept in the OS keyring",
		Long: `credbroker keeps long-lived IAM access keys (and, if you choose, the seed of a
virtual MFA device) in the OS keyring, and hands temporary STS credentials to
every AWS SDK and the AWS CLI through credential_process:

  [profile prod]
  credential_process = credbroker credential-process --profile prod

Profiles live in $CREDBROKER_CONFIG (default ~/.config/credbroker/config),
written like ~/.aws/config: role_arn, source_profile, mfa_serial, external_id,
role_session_name, duration_seconds, region, endpoint_url.

The keyring backend is $CREDBROKER_KEYRING (file, secret-service, keyctl, pass,
kwallet, keychain, wincred); the file backend uses $CREDBROKER_FILE_DIR and
$CREDBROKER_FILE_PASSPHRASE or asks for the passphrase on the terminal.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{c, err.Error()}
	})
	root.AddCommand(newAddCmd(a), newListCmd(a), newRemoveCmd(a), newTOTPCmd(a), newCredentialProcessCmd(a))
	return root
}

// usageError is a command line mistake; the hint points at --help.
type usageError struct {
	cmd *cobra.Command
	msg string
}

func (e usageError) Error() string { return e.msg }

// exactProfile accepts exactly one valid PROFILE argument.
func exactProfile(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{c, fmt.Sprintf("%s takes one PROFILE argument, got %d", c.CommandPath(), len(args))}
	}
	if err := broker.ValidProfileName(args[0]); err != nil {
		return usageError{c, err.Error()}
	}
	return nil
}

// configPath is $CREDBROKER_CONFIG or the per-user default.
func (a *app) configPath() string {
	if p := a.getenv("CREDBROKER_CONFIG"); p != "" {
		return p
	}
	dir := a.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "credbroker", "config")
}

func (a *app) config() (*broker.Config, error) {
	if a.cfg == nil {
		cfg, err := broker.LoadConfig(a.configPath())
		if err != nil {
			return nil, err
		}
		a.cfg = cfg
	}
	return a.cfg, nil
}

func (a *app) keystore() (*keystore.Store, error) {
	if a.keys == nil {
		cfg := keystore.ConfigFromEnv(a.getenv)
		cfg.Passphrase = func(prompt string) (string, error) {
			p, err := mfa.ReadSecretFromTTY("", prompt+": ")
			if errors.Is(err, mfa.ErrNoTerminal) {
				return "", errors.New("no passphrase: CREDBROKER_FILE_PASSPHRASE is unset and there is no terminal to ask on")
			}
			return p, err
		}
		keys, err := keystore.Open(cfg)
		if err != nil {
			return nil, err
		}
		a.keys = keys
	}
	return a.keys, nil
}

func (a *app) broker() (*broker.Broker, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	keys, err := a.keystore()
	if err != nil {
		return nil, err
	}
	return broker.New(broker.Options{
		Config:   cfg,
		Keys:     keys,
		Prompter: &mfa.TTYPrompter{},
		Getenv:   a.getenv,
		Warn:     a.warn,
	})
}

func (a *app) warn(msg string) { fmt.Fprintf(a.stderr, "credbroker: warning: %s\n", msg) }

// describe turns an error into one line and, where it helps, the command
// that fixes it.
func describe(err error) (msg, hint string) {
	msg = err.Error()
	var usage usageError
	var unknown *broker.UnknownProfileError
	var cfgErr *broker.ConfigError
	var cycle *broker.CycleError
	var stsErr *broker.STSError
	var noKey *broker.NoAccessKeyError
	var noSeed noSeedError
	switch {
	case errors.As(err, &usage):
		return msg, "run: " + usage.cmd.CommandPath() + " --help"
	case errors.As(err, &unknown):
		return msg, "add a [profile " + unknown.Name + "] section to " + unknown.ConfigPath + " or run: credbroker add " + unknown.Name
	case errors.As(err, &cycle):
		return msg, "make one profile of the loop use its own key (no source_profile)"
	case errors.As(err, &cfgErr):
		return msg, "fix the line and try again"
	case errors.As(err, &noKey):
		return msg, "run: credbroker add " + noKey.Source
	case errors.Is(err, broker.ErrRootKey):
		return msg, "create an IAM user with least privilege and store its key instead; --allow-root overrides this"
	case errors.As(err, &stsErr):
		switch {
		case errors.Is(err, broker.ErrKeyRejected):
			return msg, "the stored key was deleted, deactivated or mistyped: run credbroker add " + stsErr.Profile
		case errors.Is(err, broker.ErrMFARefused):
			return msg, "nothing was retried (repeated failures can lock the device); check the clock and the seed (credbroker totp code " + stsErr.Profile + " against your authenticator)"
		case errors.Is(err, broker.ErrSTSUnreachable):
			return msg, "check the network and AWS_ENDPOINT_URL_STS / endpoint_url"
		case errors.Is(err, broker.ErrAccessDenied):
			return msg, "check the role's trust policy and the caller's sts:AssumeRole permission"
		}
	case errors.Is(err, broker.ErrMFARequired):
		return msg, "store the device's seed (credbroker totp add PROFILE) or run the command in a terminal"
	case errors.As(err, &noSeed):
		return msg, "run: credbroker totp add " + noSeed.profile + " < seed.txt"
	case errors.Is(err, keystore.ErrWrongPassphrase):
		return msg, "check CREDBROKER_FILE_PASSPHRASE"
	}
	return msg, ""
}
