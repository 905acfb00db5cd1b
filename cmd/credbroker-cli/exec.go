package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/wire"
)

// execMarker names the profile an `exec` runs with, in its command's
// environment: a nested exec is refused unless asked (it would run with
// the outer profile's credentials in its own environment, a common mistake).
const execMarker = "CREDBROKER_EXEC_PROFILE"

func newExecCmd(a *app) *cobra.Command {
	var nest, server bool
	c := &cobra.Command{
		Use:   "exec [--server] PROFILE [--] [CMD [ARGS...]]",
		Short: "Run a command with PROFILE's temporary credentials in its environment",
		Long: `Run CMD (or $SHELL) with PROFILE's temporary credentials in
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
AWS_CREDENTIAL_EXPIRATION, AWS_REGION and AWS_DEFAULT_REGION when the profile
sets a region, and CREDBROKER_EXEC_PROFILE. The exit status is CMD's.

With --server, CMD gets no keys: a container credentials endpoint (as
credbroker serve ecs) runs on a free loopback port while CMD runs, and CMD
gets AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN,
so that its SDK fetches fresh credentials whenever the ones it has run out:
for a program that runs longer than credentials last. Without --server the
credentials in the environment do not refresh.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{c, "exec takes a PROFILE, then the command to run"}
			}
			return exactProfile(c, args[:1])
		},
		RunE: func(c *cobra.Command, args []string) error {
			name, command := args[0], args[1:]
			if len(command) > 0 && command[0] == "--" {
				command = command[1:] // flags stop at PROFILE: the -- is CMD's separator
			}
			if outer := a.getenv(execMarker); outer != "" && !nest {
				return usageError{c, fmt.Sprintf("already inside credbroker exec %s: its credentials are in this environment (pass --nest to run inside it anyway)", outer)}
			}
			if len(command) == 0 {
				shell := a.getenv("SHELL")
				if shell == "" {
					shell = "/bin/sh"
				}
				command = []string{shell}
			}
			if server {
				return a.execWithServer(c.Context(), name, command)
			}
			out, err := a.processOutput(c.Context(), name, true, credentialProcessTimeout)
			if err != nil {
				return err
			}
			return a.runCommand(command, execEnv(os.Environ(), out, name, a.profileRegion(name)))
		},
	}
	c.Flags().BoolVar(&nest, "nest", false, "run inside another credbroker exec")
	c.Flags().BoolVar(&server, "server", false, "give CMD a credentials endpoint that refreshes instead of keys")
	addMFACodeFlag(c, a)
	c.Flags().SetInterspersed(false) // flags after PROFILE belong to CMD
	return c
}

// runCommand runs command with env and ends with its exit status.
func (a *app) runCommand(command, env []string) error {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	// ^C goes to the command (same process group); credbroker waits
	// for it and ends with its status.
	signal.Ignore(os.Interrupt, syscall.SIGQUIT)
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exitStatus(exit.ExitCode())
	case err != nil:
		return fmt.Errorf("run %s: %w", command[0], err)
	}
	return nil
}

// execWithServer runs command with a container credentials endpoint for
// profile, which stops when command ends.
func (a *app) execWithServer(ctx context.Context, name string, command []string) error {
	if _, err := a.firstCredentials(ctx, name); err != nil {
		return err
	}
	e, endpointEnv, err := a.startECS(name, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer e.close()
	return a.runCommand(command, execServerEnv(os.Environ(), endpointEnv, name, a.profileRegion(name)))
}

// execServerEnv is env with the endpoint's variables (endpointEnv) in
// place of any credentials the caller had: static keys and profiles win
// over the container endpoint in every SDK's chain, and a relative URI or
// a token file wins over the full URI and token.
func execServerEnv(env, endpointEnv []string, profile, region string) []string {
	return withoutCallerCredentials(env, region, append(endpointEnv, execMarker+"="+profile))
}

// execEnv is env with the credentials (and the region, when the profile
// sets one) in place of any the caller had: no stale key of another
// profile may stay beside them.
func execEnv(env []string, out wire.ProcessOutput, profile, region string) []string {
	return withoutCallerCredentials(env, region, []string{"AWS_ACCESS_KEY_ID=" + out.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + out.SecretAccessKey, "AWS_SESSION_TOKEN=" + out.SessionToken,
		"AWS_CREDENTIAL_EXPIRATION=" + out.Expiration, execMarker + "=" + profile})
}

// withoutCallerCredentials is env without any credentials, profile or
// credentials endpoint the caller had (nor the file keyring's
// passphrase), then add, then the region when the profile sets one.
func withoutCallerCredentials(env []string, region string, add []string) []string {
	drop := map[string]bool{"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
		"AWS_SECURITY_TOKEN": true, "AWS_CREDENTIAL_EXPIRATION": true, "AWS_PROFILE": true, "AWS_DEFAULT_PROFILE": true,
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": true, "AWS_CONTAINER_CREDENTIALS_FULL_URI": true,
		"AWS_CONTAINER_AUTHORIZATION_TOKEN": true, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": true,
		execMarker: true, wire.PassphraseVar: true}
	if region != "" {
		drop["AWS_REGION"], drop["AWS_DEFAULT_REGION"] = true, true
	}
	var kept []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			kept = append(kept, kv)
		}
	}
	kept = append(kept, add...)
	if region != "" {
		kept = append(kept, "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region)
	}
	return kept
}

// profileRegion is the region the profile's own section sets, "" when it
// sets none (the caller's AWS_REGION then stays as it was).
func (a *app) profileRegion(name string) string {
	cfg, err := a.config()
	if err != nil {
		return ""
	}
	if p := cfg.Profiles[name]; p != nil {
		return p.Region
	}
	return ""
}

// regionOrEnv is the region the profile sets, else this process's
// AWS_REGION or AWS_DEFAULT_REGION, else "": the region serve imds
// reports and the console opens in.
func (a *app) regionOrEnv(name string) string {
	if r := a.profileRegion(name); r != "" {
		return r
	}
	if r := a.getenv("AWS_REGION"); r != "" {
		return r
	}
	return a.getenv("AWS_DEFAULT_REGION")
}
