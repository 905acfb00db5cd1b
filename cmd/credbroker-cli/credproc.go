package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// credentialProcessTimeout bounds a call: long enough for a human to type an
// MFA code, short enough that a hung daemon does not hang the SDK forever.
const credentialProcessTimeout = 3 * time.Minute

func newCredentialProcessCmd(a *app) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "credential-process --profile PROFILE",
		Short: "Print temporary credentials as credential_process JSON",
		Long: `Print temporary credentials for PROFILE in the JSON the AWS SDKs and CLI read
from credential_process. Put this in ~/.aws/config:

  [profile PROFILE]
  credential_process = credbroker credential-process --profile PROFILE

The credentials come from the credbroker daemon, which keeps them in memory
and refreshes them ahead of expiry. When no daemon answers, one is started in
the background (unless CREDBROKER_NO_AUTOSTART=1). When an MFA code is needed
and no seed is stored, the code is asked on the terminal; without one, run
credbroker unlock PROFILE.

On failure nothing is printed on stdout, one line on stderr says what is wrong
and what to do, and the exit code is 1.`,
		Args: cobraNoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := requiredProfile(c, "credential-process", name); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context(), credentialProcessTimeout)
			defer cancel()
			body, err := a.fetch(ctx, name, true)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(body)
			return err
		},
	}
	c.Flags().StringVar(&name, "profile", "", "the profile to get credentials for")
	return c
}

// requiredProfile checks the --profile a command cannot do without:
// given, and a valid name. command names the command in the error.
func requiredProfile(c *cobra.Command, command, name string) error {
	if name == "" {
		return usageError{c, command + " needs --profile PROFILE"}
	}
	if err := profile.ValidProfileName(name); err != nil {
		return usageError{c, err.Error()}
	}
	return nil
}

func cobraNoArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{c, c.CommandPath() + " takes no arguments; name the profile with --profile"}
	}
	return nil
}

// fetch gets profile's credentials from the daemon, starting one if none
// answers and asking for an MFA code on the terminal when the daemon needs
// one (if prompt and there is a terminal).
func (a *app) fetch(ctx context.Context, name string, prompt bool) ([]byte, error) {
	a.traceChain(name)
	// Past a second, one line says what the daemon waits for (the next
	// MFA time step, a retry against STS), or that it is at work.
	onWait, stop := wire.SayWaits(wire.SlowAfter, a.stderr, "credbroker: waiting for credentials for profile "+name+" (the daemon is starting or asking STS)...")
	c, body, err := a.askHearing(ctx, name, onWait)
	stop()
	c.OnWait = nil
	if a.passphraseWanted(err) {
		if err = a.givePassphrase(ctx, c, prompt); err == nil {
			body, err = c.Credentials(ctx, name)
		}
	}
	if _, ok := codeWanted(err); ok && prompt {
		body, err = a.unlock(ctx, c, name, err)
	}
	if err == nil && a.givenMFACode != "" {
		a.givenMFACode = ""
		a.warn("--mfa-code was not used: the daemon needed no MFA code for profile " + name)
	}
	return body, err
}

// processOutput is profile name's credentials from the daemon (fetch,
// within timeout), read as credential_process JSON.
func (a *app) processOutput(ctx context.Context, name string, prompt bool, timeout time.Duration) (wire.ProcessOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := a.fetch(ctx, name, prompt)
	if err != nil {
		return wire.ProcessOutput{}, err
	}
	var out wire.ProcessOutput
	if err := json.Unmarshal(body, &out); err != nil || out.AccessKeyID == "" || out.SecretAccessKey == "" {
		return wire.ProcessOutput{}, errors.New("the daemon's answer is not credential_process JSON")
	}
	return out, nil
}

// passphraseWanted reports whether err is the daemon asking for the file
// keyring's passphrase.
func (a *app) passphraseWanted(err error) bool {
	var de *wire.Error
	return errors.As(err, &de) && de.Code.WantsPassphrase()
}

// givePassphrase gives the daemon the file keyring's passphrase: the one
// this process was given (CREDBROKER_FILE_PASSPHRASE), else one asked on
// the terminal when prompt (several clients asking at once take turns, and
// only the first asks). Without either, the daemon's answer stands (its
// hint says to run credbroker unlock).
func (a *app) givePassphrase(ctx context.Context, c *wire.Client, prompt bool) error {
	if a.filePassphrase != "" {
		return c.Unlock(ctx, a.filePassphrase)
	}
	if !prompt {
		return &wire.Error{ErrorBody: wire.ErrorBody{Code: wire.CodePassphrase, Message: "the daemon's file keyring is locked",
			Hint: "run: credbroker unlock"}}
	}
	release, err := c.PromptLock(ctx)
	if err != nil {
		return err
	}
	defer release()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if !st.Locked {
		return nil // another client unlocked it meanwhile
	}
	pass, err := mfa.ReadSecretFromTTY("", "Passphrase of the file keyring (credbroker daemon): ")
	if errors.Is(err, mfa.ErrNoTerminal) {
		return &wire.Error{ErrorBody: wire.ErrorBody{Code: wire.CodePassphrase,
			Message: "the daemon's file keyring is locked, and there is no terminal to ask its passphrase on",
			Hint:    "run: credbroker unlock (in a terminal), or set CREDBROKER_FILE_PASSPHRASE for scripts"}}
	}
	if err != nil {
		return err
	}
	return c.Unlock(ctx, pass)
}

// ask asks the daemon for profile's credentials, starting one first when
// none answers (and starting on demand is allowed).
func (a *app) ask(ctx context.Context, name string) (*wire.Client, []byte, error) {
	return a.askHearing(ctx, name, nil)
}

// askHearing is ask, telling onWait what the daemon says it waits for.
func (a *app) askHearing(ctx context.Context, name string, onWait func(string, time.Duration)) (*wire.Client, []byte, error) {
	c, autostart := a.client()
	c.OnWait = onWait
	body, err := c.Credentials(ctx, name)
	if errors.Is(err, wire.ErrNoDaemon) && autostart {
		if err = c.EnsureDaemon(ctx, a.startDaemon, a.daemonLog()); err == nil {
			body, err = c.Credentials(ctx, name)
		}
	}
	for wire.WaitThrottled(ctx, err) {
		body, err = c.Credentials(ctx, name) // this uid's share, a moment later
	}
	return c, body, err
}

// codeWanted reports whether err is the daemon asking for an MFA code a
// human may type, and for which device: mfa_required, or mfa_refused (the
// last code was wrong; the next one may do). mfa_wait (a code was refused
// moments ago) is not: its message says how long to wait.
func codeWanted(err error) (*wire.Error, bool) {
	var de *wire.Error
	if !errors.As(err, &de) || de.MFASerial == "" {
		return nil, false
	}
	return de, de.Code.WantsCode()
}

// unlock gets a code for the device named in the daemon's answer (asked,
// an error that codeWanted accepts): --mfa-code, the profile's
// mfa_process, or the terminal (see mfaCode); and submits it. Without
// any of them the daemon's answer stands (its hint says to run
// credbroker unlock).
//
// Many credential_process calls may hear the same answer at once: under a
// lock shared by this user's clients (PromptLock), each asks the daemon
// again and only one that still hears it prompts; the others find the
// profile unlocked by then.
func (a *app) unlock(ctx context.Context, c *wire.Client, name string, asked error) ([]byte, error) {
	if _, ok := codeWanted(asked); !ok {
		return nil, asked
	}
	release, err := c.PromptLock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	body, err := c.Credentials(ctx, name)
	de, ok := codeWanted(err)
	if !ok {
		return body, err
	}
	code, perr := a.mfaCode(ctx, name, de.MFASerial)
	if errors.Is(perr, mfa.ErrNoTerminal) {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	return c.SubmitMFA(ctx, name, code)
}

// client returns a client for the daemon to ask (see wire.ClientSocket).
func (a *app) client() (c *wire.Client, autostart bool) {
	c, autostart = wire.ClientFor(a.getenv)
	a.traceDaemon(c)
	socket := c.Socket
	if filepath.Clean(socket) == wire.SystemSocket || othersFolder(filepath.Dir(socket)) {
		// The system daemon's folder (or another user's daemon's, at a
		// socket named in CREDBROKER_SOCKET) is its user's: serialise
		// this user's prompts in the folder its own daemon would use.
		own := wire.UserSocket(func(k string) string {
			if k == "CREDBROKER_SOCKET" {
				return ""
			}
			return a.getenv(k)
		})
		c.LockDir = filepath.Dir(own)
	}
	return c, autostart
}

// daemonLog is where a daemon started on demand writes its output.
func (a *app) daemonLog() string { return filepath.Join(a.stateDir(), "daemon.log") }

// stateDir is $XDG_STATE_HOME/credbroker or ~/.local/state/credbroker.
func (a *app) stateDir() string { return wire.StateDir(a.getenv) }

// notifyDaemon tells a running daemon that profile's key or seed changed,
// so it stops serving what it made from the old ones. No daemon: nothing
// to tell.
func (a *app) notifyDaemon(ctx context.Context, name string) {
	c, _ := a.client()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Forget(ctx, name); err != nil && !errors.Is(err, wire.ErrNoDaemon) {
		a.warn("the running daemon was not told about the change: " + err.Error() + "; restart it")
	}
}
