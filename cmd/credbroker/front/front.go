// Package front is the credbroker program SDKs run through
// credential_process.
//
// # Why a program of its own
//
// Every credential_process call is a new process, and Go initialises every
// package linked into a binary before main runs: the AWS SDK, the keyring
// libraries and the service manager cost a few milliseconds and thousands
// of page faults even when unused. This package imports only the standard
// library and package wire (not net/http), so that the credbroker binary
// built on it starts almost as fast as a program that prints fixed text. A
// warm credential_process is answered here with one request to the daemon;
// everything else (starting a daemon, prompting for an MFA code, every
// other command) is done by credbroker-cli, which Main runs in its place.
//
// # What it never does
//
// It never writes credentials anywhere but the stdout it is given, and
// never logs.
package front

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/credbroker/credbroker/internal/harden"

	"github.com/credbroker/credbroker/wire"
)

// cliName is the full command-line program Main runs for everything but a
// warm credential_process; it is installed next to credbroker.
const cliName = "credbroker-cli"

// fastTimeout bounds the fast path. A daemon answers from memory in
// microseconds, or after one refresh on a cold cache; if even that takes
// longer, the full client asks again (joining the same refresh) and waits
// as long as it takes.
const fastTimeout = 10 * time.Second

// Main is the credbroker program. A credential_process call for which the
// daemon has credentials at hand is answered here, from one request over
// the socket; everything else — starting a daemon, asking for an MFA code,
// every other command — is handed to credbroker-cli, which runs in this
// process's place. It returns the exit code.
func Main(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	// It holds credentials, and maybe the keyring's passphrase, for a
	// moment: no core dump, no same-user tracing.
	_ = harden.Process()
	if code, done := fastCredentialProcess(args, stdout, stderr, getenv); done {
		return code
	}
	return runCLI(args, stderr)
}

// fastCredentialProcess answers `credential-process --profile NAME` when
// the daemon does. When none answers it starts one (as credbroker-cli
// would, under the same lock: of a herd started together, one starts it
// and the others wait for it, all staying this small program), and when
// the daemon's file keyring waits for its passphrase and this process was
// given one (CREDBROKER_FILE_PASSPHRASE), it hands it over. done is false
// when the full client must take over: a code or passphrase to ask a human
// for, or an answer to make sense of.
func fastCredentialProcess(args []string, stdout, stderr io.Writer, getenv func(string) string) (code int, done bool) {
	profile, ok := credentialProcessProfile(args)
	if debug, err := strconv.ParseBool(getenv("CREDBROKER_DEBUG")); !ok || (err == nil && debug) {
		return 0, false // credbroker-cli traces what it calls (--debug)
	}
	c, autostart := wire.ClientFor(getenv)
	ctx, cancel := context.WithTimeout(context.Background(), fastTimeout)
	defer cancel()
	// A warm answer takes a millisecond; a cold one (STS, a daemon to
	// start, a retry) may take seconds: past one, say on stderr what the
	// daemon waits for (the next MFA time step, a retry against STS), or
	// that it is at work.
	onWait, stop := wire.SayWaits(wire.SlowAfter, stderr, "credbroker: waiting for credentials for profile "+profile+" (the daemon is starting or asking STS)...")
	defer stop()
	c.OnWait = onWait
	body, err := c.Credentials(ctx, profile)
	if errors.Is(err, wire.ErrNoDaemon) && autostart {
		cli, perr := cliPath()
		if perr != nil {
			return 0, false
		}
		start := func() (<-chan error, error) { return wire.StartDaemon(cli, os.Environ(), wire.DaemonLog(getenv)) }
		if err = c.EnsureDaemon(ctx, start, wire.DaemonLog(getenv)); err == nil {
			body, err = c.Credentials(ctx, profile)
		}
	}
	for wire.WaitThrottled(ctx, err) {
		body, err = c.Credentials(ctx, profile) // this uid's share, a moment later
	}
	var de *wire.Error
	if pass := getenv(wire.PassphraseVar); errors.As(err, &de) && de.Code.WantsPassphrase() && pass != "" {
		if err = c.Unlock(ctx, pass); err == nil {
			body, err = c.Credentials(ctx, profile)
		}
	}
	switch {
	case err == nil:
		if _, err := stdout.Write(body); err != nil {
			return 1, true
		}
		return 0, true
	case !errors.As(err, &de) || de.Message == "" || de.Code.WantsCode() || de.Code.WantsPassphrase():
		return 0, false // trouble, or a human to ask: the full client explains, or asks
	}
	msg := de.Message
	if de.Hint != "" {
		msg += "; " + de.Hint
	}
	// One line: SDKs show credential_process's stderr as is.
	fmt.Fprintf(stderr, "credbroker: error: %s\n", strings.ReplaceAll(msg, "\n", " "))
	return 1, true
}

// credentialProcessProfile recognises exactly the command line the
// credential_process setting runs.
func credentialProcessProfile(args []string) (string, bool) {
	var profile string
	switch {
	case len(args) == 3 && args[0] == "credential-process" && args[1] == "--profile":
		profile = args[2]
	case len(args) == 2 && args[0] == "credential-process" && strings.HasPrefix(args[1], "--profile="):
		profile = strings.TrimPrefix(args[1], "--profile=")
	default:
		return "", false
	}
	if profile == "" || strings.HasPrefix(profile, "-") {
		return "", false
	}
	return profile, true
}

// cliPath is credbroker-cli next to this executable.
func cliPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	path := filepath.Join(filepath.Dir(exe), cliName+exeSuffix)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s is missing next to %s: install both programs (go install github.com/credbroker/credbroker/cmd/...)", cliName, exe)
	}
	return path, nil
}
