package wire

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// StateDir is where credbroker keeps its logs: $XDG_STATE_HOME/credbroker,
// else ~/.local/state/credbroker.
func StateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "credbroker")
	}
	home := getenv("HOME")
	if home == "" {
		home = os.TempDir()
	}
	return filepath.Join(home, ".local", "state", "credbroker")
}

// DaemonLog is where a daemon started on demand writes its output.
func DaemonLog(getenv func(string) string) string {
	return filepath.Join(StateDir(getenv), "daemon.log")
}

// DaemonEnv is env (KEY=VALUE entries, in order) with only the variables
// a daemon started on demand takes from the process that starts it
// (daemonNeeds).
func DaemonEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if name, _, ok := strings.Cut(kv, "="); ok && daemonNeeds(name) {
			out = append(out, kv)
		}
	}
	return out
}

// PassphraseVar gives scripts and CI the file keyring's passphrase. A
// client reads it and hands it to the daemon over the socket; no daemon
// ever has it in its environment.
const PassphraseVar = "CREDBROKER_FILE_PASSPHRASE"

// daemonNeeds says whether the daemon takes the variable name. The process
// that starts it is whichever SDK process happened to ask first, and it may
// hold credentials of its own (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// another tool's tokens) that a long-lived daemon must not keep; and what
// an SDK reads (region, endpoints, config files, CA bundle) comes with each
// request, from each caller (Caller), never from whoever started the
// daemon. So it takes its keyring's settings (CREDBROKER_*, but never the
// file keyring's passphrase, which it is given over the socket; pass's and
// gpg's folders), how to reach STS (proxies, the TLS roots of the system),
// the session bus of a desktop keyring, and the basics of a process: its
// folders (HOME, TMPDIR, XDG_*: the socket and the log), PATH, user and
// locale.
func daemonNeeds(name string) bool {
	switch name {
	case "PATH", "HOME", "USER", "LOGNAME", "TZ", "LANG", "TMPDIR",
		"DBUS_SESSION_BUS_ADDRESS", "PASSWORD_STORE_DIR", "GNUPGHOME",
		"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy",
		"SSL_CERT_FILE", "SSL_CERT_DIR":
		return true
	case PassphraseVar:
		return false
	}
	for _, family := range []string{"LC_", "XDG_", "CREDBROKER_"} {
		if strings.HasPrefix(name, family) {
			return true
		}
	}
	return false
}

// daemonExitError describes a daemon started on demand that exited: the
// error and hint it printed last in its log (never a secret: credbroker
// never prints one).
func daemonExitError(logPath string, exit error) error {
	data, _ := os.ReadFile(logPath)
	msg, hint := "", ""
	for _, line := range strings.Split(string(data), "\n") {
		if m, ok := strings.CutPrefix(line, "credbroker: error: "); ok {
			msg, hint = m, ""
		} else if h, ok := strings.CutPrefix(line, "credbroker: hint: "); ok {
			hint = h
		}
	}
	if msg == "" {
		return fmt.Errorf("the daemon started on demand exited (%v); see %s", exit, logPath)
	}
	return &Error{ErrorBody: ErrorBody{Code: CodeDaemonFailed, Message: "the daemon could not start: " + msg, Hint: hint}}
}
