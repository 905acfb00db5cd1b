package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// mfaCodeHelp is the --mfa-code flag's help: a code on the command line is
// visible to other local users (ps) while credbroker runs; it is good for
// one 30-second step, and used once.
const mfaCodeHelp = "a 6-digit MFA code for the profile's device, used once if the daemon asks for one (visible in the process list while credbroker runs; mfa_process or the prompt keep it out of it)"

// addMFACodeFlag gives c --mfa-code: the code for the MFA step the daemon
// asks for, instead of the prompt or mfa_process. Never stored.
func addMFACodeFlag(c *cobra.Command, a *app) {
	c.Flags().Var((*mfaCodeFlag)(&a.givenMFACode), "mfa-code", mfaCodeHelp)
}

// mfaCodeFlag is a flag value that takes only 6 digits, so that a typo is
// a usage error before anything asks the daemon.
type mfaCodeFlag string

func (f *mfaCodeFlag) String() string { return "" } // never shown back
func (f *mfaCodeFlag) Type() string   { return "CODE" }
func (f *mfaCodeFlag) Set(v string) error {
	if !isMFACode(v) {
		return errors.New("an MFA code is 6 digits")
	}
	*f = mfaCodeFlag(v)
	return nil
}

func isMFACode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mfaCode gets a code for device, which the daemon asked for on behalf of
// profile name: the --mfa-code given (once: it is forgotten as it is
// handed over), else what the profile's mfa_process prints, else one
// typed on the terminal. The error of a prompt with no terminal is
// mfa.ErrNoTerminal.
func (a *app) mfaCode(ctx context.Context, name, device string) (string, error) {
	if a.givenMFACode != "" {
		code := a.givenMFACode
		a.givenMFACode = ""
		return code, nil
	}
	if command := a.mfaProcess(name, device); command != "" {
		return a.runMFAProcess(ctx, name, command)
	}
	return a.codes().PromptCode(ctx, device)
}

// mfaProcess is the mfa_process of profile name's chain in this caller's
// own config, when its device is device ("" otherwise): the command comes
// from the caller's files, never from the daemon, which may be another
// user's.
func (a *app) mfaProcess(name, device string) string {
	cfg, err := a.config()
	if err != nil {
		return ""
	}
	// Any profile a source_profile names may be a key in the keyring,
	// which this process does not open (the daemon has it).
	r := &profile.Resolver{Config: cfg, Getenv: a.getenv, Stored: func() ([]string, error) {
		var names []string
		for _, p := range cfg.Profiles {
			names = append(names, p.SourceProfile)
		}
		return append(names, name), nil
	}}
	chain, err := r.Resolve(name)
	if err != nil || chain.MFASerial != device {
		return ""
	}
	return chain.MFAProcess
}

// mfaProcessTimeout bounds an mfa_process: a password manager may ask its
// user to unlock it first, but a command that hangs must not hang the
// SDK that runs credential_process.
const mfaProcessTimeout = time.Minute

// runMFAProcess runs an mfa_process as aws-vault does: through the shell,
// in this user's environment, with its stderr on ours, and takes the code
// from its stdout (surrounding white space trimmed). What it printed is
// never echoed: it may be more than a code.
func (a *app) runMFAProcess(ctx context.Context, name, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, mfaProcessTimeout)
	defer cancel()
	shell := []string{"/bin/sh", "-c", command}
	if runtime.GOOS == "windows" {
		shell = []string{"cmd.exe", "/C", command}
	}
	cmd := exec.CommandContext(ctx, shell[0], shell[1:]...)
	cmd.Env = withoutVar(os.Environ(), wire.PassphraseVar)
	var out bytes.Buffer
	cmd.Stdout = &limitedBuffer{buf: &out, max: 4096}
	cmd.Stderr = a.stderr
	// A child of the shell that keeps stdout open must not hold us past
	// the time limit.
	cmd.WaitDelay = 2 * time.Second
	stop := wire.SayAfter(wire.SlowAfter, a.stderr, "credbroker: waiting for the mfa_process of profile "+name+" to print an MFA code...")
	err := cmd.Run()
	stop()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return "", fmt.Errorf("profile %s: mfa_process printed no MFA code within %s", name, mfaProcessTimeout)
	case err != nil:
		return "", fmt.Errorf("profile %s: mfa_process failed: %v", name, err)
	}
	code := strings.TrimSpace(out.String())
	if !isMFACode(code) {
		return "", fmt.Errorf("profile %s: mfa_process printed something other than a 6-digit MFA code on its standard output", name)
	}
	return code, nil
}

// limitedBuffer keeps the first max bytes written to it and drops the
// rest (an mfa_process that prints a lot is not a code anyway).
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// withoutVar is env without key.
func withoutVar(env []string, key string) []string {
	var kept []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			kept = append(kept, kv)
		}
	}
	return kept
}
