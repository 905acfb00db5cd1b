package main

import "strings"

// daemonEnv is env (KEY=VALUE entries, in order) with only the variables
// a daemon started on demand takes from the process that starts it
// (daemonNeeds).
func daemonEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if name, _, ok := strings.Cut(kv, "="); ok && daemonNeeds(name) {
			out = append(out, kv)
		}
	}
	return out
}

// daemonNeeds says whether the daemon takes the variable name. The process
// that starts it is whichever SDK process happened to ask first, and it may
// hold credentials of its own (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// another tool's tokens) that a long-lived daemon must not keep; and what
// an SDK reads (region, endpoints, config files, CA bundle) comes with each
// request, from each caller (wire.Caller), never from whoever started the
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
	case passphraseVar:
		return false
	}
	for _, family := range []string{"LC_", "XDG_", "CREDBROKER_"} {
		if strings.HasPrefix(name, family) {
			return true
		}
	}
	return false
}
