package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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

func TestDo(t *testing.T) {
	t.Parallel()
	socket := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case PathCredentials:
			_, _ = io.WriteString(w, `{"profile":"`+r.URL.Query().Get("profile")+`","x":1}`+"\n")
		case PathMFA:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	status, body, err := Do(socket, "GET", PathCredentials+"?profile=a%2Bb", nil, time.Second)
	if err != nil || status != 200 || string(body) != `{"profile":"a+b","x":1}`+"\n" {
		t.Fatalf("GET = %d %q %v", status, body, err)
	}
	status, body, err = Do(socket, "POST", PathMFA, []byte(`{"code":"1"}`), time.Second)
	if err != nil || status != 201 || string(body) != `{"code":"1"}` {
		t.Fatalf("POST = %d %q %v", status, body, err)
	}
	if status, _, err := Do(socket, "GET", "/nope", nil, time.Second); err != nil || status != 404 {
		t.Fatalf("404 = %d %v", status, err)
	}
	_, _, err = Do(filepath.Join(filepath.Dir(socket), "missing"), "GET", PathHealth, nil, time.Second)
	if !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("missing socket: %v", err)
	}
}

func TestReadAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw string
		status    int
		body      string
		err       string
	}{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 200, "ok", ""},
		{"to the end", "HTTP/1.1 503 Service Unavailable\r\nX: y\r\n\r\nbody", 503, "body", ""},
		{"not http", "SSH-2.0-OpenSSH\r\n", 0, "", "not HTTP"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, "", "Content-Length"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 0, "", "transfer encoding"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, "", "read answer body"},
		{"truncated headers", "HTTP/1.1 200 OK\r\nContent-", 0, "", "headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := readAnswer(bufio.NewReader(strings.NewReader(tc.raw)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || status != tc.status || string(body) != tc.body {
				t.Fatalf("= %d %q %v", status, body, err)
			}
		})
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
	env := func(k string) string {
		if k == "CREDBROKER_SOCKET" {
			return socket
		}
		return ""
	}
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
	// No daemon: the full client takes over (to start one).
	noDaemon := func(k string) string {
		if k == "CREDBROKER_SOCKET" {
			return socket + ".missing"
		}
		return ""
	}
	if _, done := fastCredentialProcess([]string{"credential-process", "--profile", "ok"}, io.Discard, io.Discard, noDaemon); done {
		t.Error("answered without a daemon")
	}
}

func TestUserSocket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CREDBROKER_SOCKET": "/x/s", "XDG_RUNTIME_DIR": "/run/user/1"}, "/x/s"},
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1"}, "/run/user/1/credbroker/broker.sock"},
		{map[string]string{"XDG_RUNTIME_DIR": "relative"}, filepath.Join(os.TempDir(), "credbroker-"+strconv.Itoa(os.Getuid()), "broker.sock")},
	} {
		if got := UserSocket(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.env, got, tc.want)
		}
	}
}

// TestStaysLean: the credbroker program links the standard library and
// this package only. Anything more (the AWS SDK, the keyring libraries, the
// service manager, net/http) runs its package initialisation on every
// credential_process call.
func TestStaysLean(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/credbroker/credbroker/cmd/credbroker").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/credbroker/credbroker/broker/wire" && pkg != "github.com/credbroker/credbroker/cmd/credbroker" {
			t.Errorf("cmd/credbroker links %s", pkg)
		}
	}
	out, err = exec.Command("go", "list", "-deps", "github.com/credbroker/credbroker/cmd/credbroker").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if strings.Contains(string(out), "net/http\n") {
		t.Error("cmd/credbroker links net/http")
	}
}
