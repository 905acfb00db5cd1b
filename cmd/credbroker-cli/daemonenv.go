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
// another tool's tokens) that a long-lived daemon must not keep. So it takes
// only its config and keyring (CREDBROKER_*), the STS endpoint and region as
// the SDKs read them, how to reach STS (proxies, CA bundles), the session
// bus of a desktop keyring, and the basics of a process: its folders (HOME,
// TMPDIR, XDG_*: the socket and the log), PATH, user and locale.
func daemonNeeds(name string) bool {
	switch name {
	case "PATH", "HOME", "USER", "LOGNAME", "TZ", "LANG", "TMPDIR",
		"DBUS_SESSION_BUS_ADDRESS",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_REGION", "AWS_DEFAULT_REGION",
		"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy",
		"SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE":
		return true
	}
	for _, family := range []string{"LC_", "XDG_", "CREDBROKER_"} {
		if strings.HasPrefix(name, family) {
			return true
		}
	}
	return false
}
