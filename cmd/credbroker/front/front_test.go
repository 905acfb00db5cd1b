package front

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/credbroker/credbroker/wire"
)

// serve answers requests on a Unix socket in a short temp folder with h.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cbw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "s")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return socket
}

// socketEnv is an environment that names socket as CREDBROKER_SOCKET and
// nothing else.
func socketEnv(socket string) func(string) string {
	return func(k string) string {
		if k == "CREDBROKER_SOCKET" {
			return socket
		}
		return ""
	}
}

func TestCredentialProcessProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
		ok   bool
	}{
		{[]string{"credential-process", "--profile", "prod"}, "prod", true},
		{[]string{"credential-process", "--profile=prod"}, "prod", true},
		{[]string{"credential-process", "--profile", "--help"}, "", false},
		{[]string{"credential-process", "--profile="}, "", false},
		{[]string{"credential-process"}, "", false},
		{[]string{"credential-process", "--profile", "a", "extra"}, "", false},
		{[]string{"list"}, "", false},
		{nil, "", false},
	} {
		got, ok := credentialProcessProfile(tc.args)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q = %q %v", tc.args, got, ok)
		}
	}
}

func TestFastCredentialProcess(t *testing.T) {
	t.Parallel()
	creds := `{"Version":1,"AccessKeyId":"ASIAX","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T00:00:00Z"}` + "\n"
	socket := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("profile") {
		case "ok":
			_, _ = io.WriteString(w, creds)
		case "denied":
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"code":"forbidden","message":"profile denied: no access rule allows uid 7","hint":"ask\nthe owner"}`)
		case "mfa":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"code":"mfa_required","message":"mfa code required","mfa_serial":"arn:aws:iam::1:mfa/x"}`)
		case "refused":
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"code":"mfa_refused","message":"mfa code refused","hint":"wait for the next code, then run: credbroker unlock refused","mfa_serial":"arn:aws:iam::1:mfa/x"}`)
		case "wait":
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"code":"mfa_wait","message":"a code was refused 10 s ago","hint":"wait for the next code, then run: credbroker unlock wait"}`)
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, `<html>`)
		}
	}))
	env := socketEnv(socket)
	for _, tc := range []struct {
		profile        string
		code           int
		done           bool
		stdout, stderr string
	}{
		{"ok", 0, true, creds, ""},
		{"denied", 1, true, "", "credbroker: error: profile denied: no access rule allows uid 7; ask the owner\n"},
		{"mfa", 0, false, "", ""},     // a code to ask for: the full client prompts
		{"refused", 0, false, "", ""}, // a code to ask for again: the full client prompts
		{"wait", 1, true, "", "credbroker: error: a code was refused 10 s ago; wait for the next code, then run: credbroker unlock wait\n"},
		{"other", 0, false, "", ""}, // an answer it cannot read: the full client explains
	} {
		var stdout, stderr bytes.Buffer
		code, done := fastCredentialProcess([]string{"credential-process", "--profile", tc.profile}, &stdout, &stderr, env)
		if code != tc.code || done != tc.done || stdout.String() != tc.stdout || stderr.String() != tc.stderr {
			t.Errorf("%s: code %d done %v stdout %q stderr %q", tc.profile, code, done, stdout.String(), stderr.String())
		}
	}
	// CREDBROKER_DEBUG: a true value leaves it to the full client, which
	// traces; a false one ("0", "false") is no trace: the fast path.
	for debug, fast := range map[string]bool{"1": false, "true": false, "0": true, "false": true} {
		withDebug := func(k string) string {
			if k == "CREDBROKER_DEBUG" {
				return debug
			}
			return env(k)
		}
		if _, done := fastCredentialProcess([]string{"credential-process", "--profile", "ok"}, io.Discard, io.Discard, withDebug); done != fast {
			t.Errorf("CREDBROKER_DEBUG=%s: fast path %v, want %v", debug, done, fast)
		}
	}
	// No daemon: the full client takes over (to start one).
	noDaemon := socketEnv(socket + ".missing")
	if _, done := fastCredentialProcess([]string{"credential-process", "--profile", "ok"}, io.Discard, io.Discard, noDaemon); done {
		t.Error("answered without a daemon")
	}
}

// TestFastPathHandlesEveryCode: the small program answers every code a
// daemon sends with the daemon's one line, except those that want an MFA
// code typed, which it leaves to credbroker-cli (it cannot prompt).
func TestFastPathHandlesEveryCode(t *testing.T) {
	t.Parallel()
	for _, code := range wire.Codes {
		socket := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusConflict)
			body, _ := json.Marshal(wire.ErrorBody{Code: code, Message: "m " + string(code), Hint: "h", MFASerial: "arn:aws:iam::1:mfa/x"})
			_, _ = w.Write(body)
		}))
		env := socketEnv(socket)
		var stdout, stderr bytes.Buffer
		exit, done := fastCredentialProcess([]string{"credential-process", "--profile", "p"}, &stdout, &stderr, env)
		switch {
		case code.WantsCode() || code.WantsPassphrase():
			if done {
				t.Errorf("%s: answered itself (exit %d, %q), want credbroker-cli to prompt", code, exit, stderr.String())
			}
		case !done || exit != 1 || stdout.Len() != 0 || stderr.String() != "credbroker: error: m "+string(code)+"; h\n":
			t.Errorf("%s: done %v exit %d stdout %q stderr %q", code, done, exit, stdout.String(), stderr.String())
		}
	}
}
