package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/install"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// app is what every command shares: the process's streams and environment,
// and the keystore and config, opened at most once.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	keys *keystore.Store
	cfg  *profile.Config
	// prompter asks for MFA codes; nil is the terminal (see codes).
	prompter mfa.Prompter
	// filePassphrase is CREDBROKER_FILE_PASSPHRASE as the process got it:
	// main takes it out of the environment before anything starts, so
	// that no child or daemon inherits it.
	filePassphrase string
	// daemonKeys, when set, makes keystore open the keyring as the daemon
	// does: a passphrase it does not have is asked for over the socket,
	// never on a terminal.
	daemonKeys bool
	// debug is --debug: say on stderr what is called where (see debugf).
	debug bool
	// givenMFACode is --mfa-code: handed to the daemon once, when it asks
	// for a code, then forgotten (see mfaCode).
	givenMFACode string
}

// codes is what asks a human for MFA codes: one mfa.TTYPrompter per
// process (it refuses a code typed twice), unless a test set another.
func (a *app) codes() mfa.Prompter {
	if a.prompter == nil {
		a.prompter = &mfa.TTYPrompter{}
	}
	return a.prompter
}

// run executes one command line and returns the exit code.
func run(args []string, a *app) int {
	ctx := context.Background()
	root := newRootCmd(a)
	a.completeProfiles(root)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var exit exitStatus
	if errors.As(err, &exit) {
		return int(exit) // a command's own status (credbroker exec), said by it
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

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "credbroker",
		Short: "Temporary AWS credentials from keys kept in the OS keyring",
		Long: `credbroker keeps long-lived IAM access keys (and, if you choose, the seed of a
virtual MFA device) in the OS keyring, and hands temporary STS credentials to
every AWS SDK and the AWS CLI through credential_process (credbroker configure
prod adds it to ~/.aws/config):

  [profile prod]
  credential_process = credbroker credential-process --profile prod

Profiles live in $CREDBROKER_CONFIG (default ~/.config/credbroker/config),
written like ~/.aws/config: role_arn, source_profile, mfa_serial, external_id,
role_session_name, duration_seconds, region, endpoint_url, include_profile,
mfa_process, source_identity, session_policy, policy_arns, use_fips_endpoint,
use_dualstack_endpoint, services, ca_bundle, ignore_configured_endpoint_urls.

The keyring backend is $CREDBROKER_KEYRING (file, secret-service, keyctl, pass,
kwallet, keychain, wincred); the file backend uses $CREDBROKER_FILE_DIR and
$CREDBROKER_FILE_PASSPHRASE or asks for the passphrase on the terminal.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("credbroker {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{c, err.Error()}
	})
	root.AddCommand(newAddCmd(a), newListCmd(a), newRemoveCmd(a), newTOTPCmd(a), newCredentialProcessCmd(a),
		newDaemonCmd(a), newUnlockCmd(a), newStatusCmd(a))
	root.AddCommand(newServiceCmd(a), newPolicyCmd(a), newSandboxCmd(a), newDemoCmd(a), newMFACmd(a), newExportCmd(a), newExecCmd(a))
	root.AddCommand(newServeCmd(a))
	root.AddCommand(newWhoamiCmd(a), newDecodeCmd(a), newClearCmd(a))
	root.PersistentFlags().BoolVar(&a.debug, "debug", false, "say on stderr what is called where: daemon socket, STS endpoint and action, chain steps (never a secret; or CREDBROKER_DEBUG=1)")
	root.AddCommand(newRotateCmd(a), newLoginCmd(a), newConfigureCmd(a))
	return root
}

// exitStatus ends credbroker with a command's own exit status, saying
// nothing more.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is a command line mistake; the hint points at --help.
type usageError struct {
	cmd *cobra.Command
	msg string
}

func (e usageError) Error() string { return e.msg }

// Hint points at the command's help.
func (e usageError) Hint() string { return "run: " + e.cmd.CommandPath() + " --help" }

// hintedError is a failure and what to do about it (its hint, "" for
// nothing): a failed rotation or enrolment says what exists where and what
// to run.
type hintedError struct{ msg, hint string }

func (e *hintedError) Error() string { return e.msg }

// Hint is what to do.
func (e *hintedError) Hint() string { return e.hint }

// exactProfile accepts exactly one valid PROFILE argument.
func exactProfile(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{c, fmt.Sprintf("%s takes one PROFILE argument, got %d", c.CommandPath(), len(args))}
	}
	if err := profile.ValidProfileName(args[0]); err != nil {
		return usageError{c, err.Error()}
	}
	return nil
}

// configPath is $CREDBROKER_CONFIG or the per-user default (as an
// absolute path: the daemon reads it for this caller); "" when neither
// CREDBROKER_CONFIG nor HOME is set: then there is no config file (profiles
// live in the keyring alone), never one found from the working directory,
// which whoever owns that folder would choose.
func (a *app) configPath() string { return wire.ConfigPath(a.getenv) }

func (a *app) config() (*profile.Config, error) {
	if a.cfg == nil {
		cfg, err := profile.LoadSources(profile.Sources{Credbroker: a.configPath(), AWS: wire.AWSConfigPath(a.getenv)})
		if err != nil {
			return nil, err
		}
		a.cfg = cfg
	}
	return a.cfg, nil
}

// ownConfig is credbroker's own file alone: a daemon's [daemon] and
// [access] settings, and the profiles it serves to other users.
func (a *app) ownConfig() (*profile.Config, error) {
	return profile.LoadConfig(a.configPath())
}

func (a *app) keystore() (*keystore.Store, error) {
	if a.keys == nil {
		cfg := keystore.ConfigFromEnv(a.getenv)
		if cfg.FilePassphrase == "" {
			cfg.FilePassphrase = a.filePassphrase
		}
		if cfg.FilePassphrase == "" {
			// The system service gets its passphrase as a systemd
			// credential (LoadCredential=), never in its environment.
			p, found, err := install.PassphraseFromCredentials(a.getenv)
			if err != nil {
				return nil, err
			}
			if found {
				cfg.FilePassphrase = p
			}
		}
		cfg.Passphrase = func(prompt string) (string, error) {
			if a.daemonKeys {
				return "", keystore.ErrPassphraseRequired
			}
			p, err := mfa.ReadSecretFromTTY("", prompt+": ")
			if errors.Is(err, mfa.ErrNoTerminal) {
				return "", errors.New("no passphrase: CREDBROKER_FILE_PASSPHRASE is unset and there is no terminal to ask on")
			}
			return p, err
		}
		if !a.daemonKeys {
			// A command's user may be answering the keyring's own prompt;
			// past a second, it is told what the command waits for.
			cfg.CallTimeout = keystore.InteractiveCallTimeout
			cfg.Wait = func(backend string) func() {
				stop := wire.SayAfter(wire.SlowAfter, a.stderr, "credbroker: waiting for the keyring ("+backend+") to answer (is it asking you to unlock it?)...")
				return func() { stop() }
			}
		}
		keys, err := keystore.Open(cfg)
		if err != nil {
			return nil, err
		}
		a.keys = keys
	}
	return a.keys, nil
}

// broker returns the credential engine of this process (no daemon) and
// the profiles it resolves, read from this process's config and
// environment.
func (a *app) broker() (*broker.Broker, *profile.Resolver, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, nil, err
	}
	keys, err := a.keystore()
	if err != nil {
		return nil, nil, err
	}
	b, err := broker.New(broker.Options{
		Keys:     keys,
		Prompter: a.codes(),
		Warn:     a.warn,
		StateDir: a.stateDir(),
	})
	if err != nil {
		return nil, nil, err
	}
	return b, b.Resolver(cfg, a.getenv), nil
}

func (a *app) warn(msg string) { fmt.Fprintf(a.stderr, "credbroker: warning: %s\n", msg) }

// describe turns an error into one line and, where it helps, the command
// that fixes it (the error table's, see broker.Explain).
func describe(err error) (msg, hint string) {
	msg, hint, _ = broker.Explain(err)
	return msg, hint
}

// version is the module's version and the commit it was built from, as
// the Go toolchain recorded them ("(devel)" for a build from a checkout).
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " commit " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v + " " + info.GoVersion
}
