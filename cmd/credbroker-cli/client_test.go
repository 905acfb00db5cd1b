//go:build unix

package main

// Tests of the client side as the CLI uses it (wire.Client and the
// fetch/unlock flow) against a fake daemon: a herd prompting once, a
// refused code asked again, mfa_wait said on one line, the socket folder
// checked before a daemon is started, the daemon's log named.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/wire"
)

const (
	fakeCreds  = `{"Version":1,"AccessKeyId":"ASIAFAKE","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T00:00:00Z"}` + "\n"
	fakeDevice = "arn:aws:iam::123456789012:mfa/p"
)

// fakeDaemon answers credentials and MFA codes as the daemon does; answer
// decides each answer from the number of GETs and POSTs so far and the
// code posted ("" for a GET).
type fakeDaemon struct {
	socket string
	answer func(gets, posts int, code string) (status int, body string)

	mu          sync.Mutex
	gets, posts int
	codes       []string
}

func startFakeDaemon(t *testing.T, answer func(gets, posts int, code string) (int, string)) *fakeDaemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "cbc") // short: a socket path has at most 103 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &fakeDaemon{socket: filepath.Join(dir, "broker.sock"), answer: answer}
	l, err := net.Listen("unix", d.socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return d
}

func (d *fakeDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct{ Profile, Code string }
	_ = json.NewDecoder(r.Body).Decode(&req)
	d.mu.Lock()
	switch r.Method {
	case "GET":
		d.gets++
	case "POST":
		d.posts++
		d.codes = append(d.codes, req.Code)
	}
	status, body := d.answer(d.gets, d.posts, req.Code)
	d.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (d *fakeDaemon) counts() (gets, posts int, codes []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gets, d.posts, slices.Clone(d.codes)
}

// env is the environment of a client of d that never starts a daemon.
func (d *fakeDaemon) env(k string) string {
	switch k {
	case "CREDBROKER_SOCKET":
		return d.socket
	case "CREDBROKER_NO_AUTOSTART":
		return "1"
	}
	return ""
}

// countingPrompter stands for the human at the terminal: it counts the
// prompts and takes delay to answer each.
type countingPrompter struct {
	code  string
	delay time.Duration
	err   error

	mu      sync.Mutex
	devices []string
}

func (p *countingPrompter) PromptCode(ctx context.Context, device string) (string, error) {
	p.mu.Lock()
	p.devices = append(p.devices, device)
	p.mu.Unlock()
	time.Sleep(p.delay)
	return p.code, p.err
}

func (p *countingPrompter) prompts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.devices)
}

func mfaAnswer(code, message, hint string, serial bool) string {
	body := map[string]string{"code": code, "message": message}
	if hint != "" {
		body["hint"] = hint
	}
	if serial {
		body["mfa_serial"] = fakeDevice
	}
	data, _ := json.Marshal(body)
	return string(data)
}

// TestHerdPromptsOnce: many credential_process calls hear mfa_required at
// once; one asks on the terminal, the others wait for it and then get the
// credentials its code unlocked.
func TestHerdPromptsOnce(t *testing.T) {
	t.Parallel()
	d := startFakeDaemon(t, func(gets, posts int, code string) (int, string) {
		if posts > 0 {
			return 200, fakeCreds
		}
		return 401, mfaAnswer("mfa_required", "mfa code required", "run: credbroker unlock p", true)
	})
	human := &countingPrompter{code: "123456", delay: 300 * time.Millisecond}
	const herd = 6
	var wg sync.WaitGroup
	bodies := make([][]byte, herd)
	errs := make([]error, herd)
	for i := range herd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One app per caller, as each is a process of its own.
			a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: d.env, prompter: human}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			bodies[i], errs[i] = a.fetch(ctx, "p", true)
		}()
	}
	wg.Wait()
	for i := range herd {
		if errs[i] != nil || string(bodies[i]) != fakeCreds {
			t.Errorf("caller %d: %q, %v", i, bodies[i], errs[i])
		}
	}
	if got := human.prompts(); len(got) != 1 || got[0] != fakeDevice {
		t.Errorf("prompted %d times (%v), want once for %s", len(got), got, fakeDevice)
	}
	if _, posts, _ := d.counts(); posts != 1 {
		t.Errorf("%d codes submitted, want 1", posts)
	}
}

// TestPromptLock: the second holder waits for the first to let go.
func TestPromptLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := wire.NewClient(filepath.Join(dir, "broker.sock"))
	unlock, err := c.PromptLock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "prompt.lock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("prompt.lock: %v %v", fi, err)
	}
	// Another client (another open file, as in another process) waits...
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := wire.NewClient(c.Socket).PromptLock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second PromptLock while the first is held = %v, want it to wait until its deadline", err)
	}
	// ...until the first lets go.
	got := make(chan error, 1)
	go func() {
		unlock2, err := wire.NewClient(c.Socket).PromptLock(t.Context())
		if err == nil {
			unlock2()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("the second PromptLock returned (%v) while the first was held", err)
	default:
	}
	released := time.Now()
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the second PromptLock still waits %s after the first was released", time.Since(released))
	}
	// LockDir moves it.
	other := t.TempDir()
	c2 := &wire.Client{Socket: "/run/credbroker/broker.sock", LockDir: other}
	unlock3, err := c2.PromptLock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	unlock3()
	if _, err := os.Stat(filepath.Join(other, "prompt.lock")); err != nil {
		t.Fatalf("LockDir: %v", err)
	}
}

// TestSystemClientLocksInItsOwnFolder: a client of the system daemon,
// whose folder belongs to the service's user, serialises its prompts in
// its own user's folder.
func TestSystemClientLocksInItsOwnFolder(t *testing.T) {
	t.Parallel()
	run := t.TempDir()
	a := &app{getenv: func(k string) string {
		switch k {
		case "CREDBROKER_SOCKET":
			return "/run/credbroker/broker.sock"
		case "XDG_RUNTIME_DIR":
			return run
		}
		return ""
	}}
	c, autostart := a.client()
	if c.Socket != "/run/credbroker/broker.sock" || c.LockDir != filepath.Join(run, "credbroker") || !autostart {
		t.Errorf("client = %+v, autostart %v", c, autostart)
	}
	a.getenv = func(k string) string {
		if k == "CREDBROKER_SOCKET" {
			return filepath.Join(run, "s")
		}
		return ""
	}
	if c, _ := a.client(); c.LockDir != "" {
		t.Errorf("a client of its own daemon locks in %s, want the socket's folder", c.LockDir)
	}
}

// TestRefusedCodeIsAskedAgain: after mfa_refused (a wrong code), the next
// credential_process and credbroker unlock ask for a code, as after
// mfa_required.
func TestRefusedCodeIsAskedAgain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		stdout string
	}{
		{"credential-process", []string{"credential-process", "--profile", "p"}, fakeCreds},
		{"unlock", []string{"unlock", "p"}, "Unlocked profile p.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startFakeDaemon(t, func(gets, posts int, code string) (int, string) {
				if posts > 0 {
					return 200, fakeCreds
				}
				return 403, mfaAnswer("mfa_refused", "profile p: GetSessionToken: AccessDenied: MultiFactorAuthentication failed with invalid MFA one time pass code",
					"wait for the next code, then run: credbroker unlock p", true)
			})
			human := &countingPrompter{code: "654321"}
			var stdout, stderr bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: d.env, prompter: human}
			if code := run(tc.args, a); code != 0 || stdout.String() != tc.stdout {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
			}
			if got := human.prompts(); len(got) != 1 || got[0] != fakeDevice {
				t.Errorf("prompts: %v, want one for %s", got, fakeDevice)
			}
			if _, _, codes := d.counts(); !slices.Equal(codes, []string{"654321"}) {
				t.Errorf("%d codes submitted, want the one typed", len(codes))
			}
		})
	}
}

// TestMFAWaitSaysWhy: mfa_wait (a code was refused moments ago) is no
// reason to prompt: its message and hint are said, on one line for
// credential-process.
func TestMFAWaitSaysWhy(t *testing.T) {
	t.Parallel()
	const msg, hint = "profile p: an MFA code was refused 12 s ago; the next may be sent in 18 s", "wait for the next code, then run: credbroker unlock p"
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"credential-process", []string{"credential-process", "--profile", "p"}, "credbroker: error: " + msg + "; " + hint + "\n"},
		{"unlock", []string{"unlock", "p"}, "credbroker: error: " + msg + "\ncredbroker: hint: " + hint + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startFakeDaemon(t, func(gets, posts int, code string) (int, string) {
				return 429, mfaAnswer("mfa_wait", msg, hint, true)
			})
			human := &countingPrompter{code: "654321"}
			var stdout, stderr bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: d.env, prompter: human}
			if code := run(tc.args, a); code != 1 || stdout.Len() != 0 || stderr.String() != tc.stderr {
				t.Fatalf("exit %d, stdout %q, stderr %q; want stderr %q", code, stdout.String(), stderr.String(), tc.stderr)
			}
			if got := human.prompts(); len(got) != 0 {
				t.Errorf("prompted %d times, want none", len(got))
			}
			if _, posts, _ := d.counts(); posts != 0 {
				t.Errorf("%d codes submitted", posts)
			}
		})
	}
}

// TestEnsureDaemonChecksTheFolder: nothing is created, locked or started
// in a socket folder others may write or that belongs to another user
// (who may have made /tmp/credbroker-UID first).
func TestEnsureDaemonChecksTheFolder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		make func(t *testing.T, dir string)
		want string
	}{
		{"writable by others", func(t *testing.T, dir string) { chmod(t, dir, 0o777) }, "writable by others (mode 0777)"},
		{"writable by the group", func(t *testing.T, dir string) { chmod(t, dir, 0o770) }, "writable by others (mode 0770)"},
		{"another user's", func(t *testing.T, dir string) {
			needRoot(t)
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "belongs to uid 65534"},
		{"a symlink", func(t *testing.T, dir string) {
			if err := os.Symlink(t.TempDir(), dir); err != nil {
				t.Fatal(err)
			}
		}, "is not a folder (a symlink?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "credbroker-0")
			if tc.name != "a symlink" {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			tc.make(t, dir)
			started := false
			c := &wire.Client{Socket: filepath.Join(dir, "broker.sock"), StartWait: time.Second}
			err := c.EnsureDaemon(t.Context(), func() (<-chan error, error) {
				started = true
				return nil, errors.New("not started")
			}, "/x/daemon.log")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("EnsureDaemon = %v, want an error naming %s and saying %q", err, dir, tc.want)
			}
			if started {
				t.Error("a daemon was started")
			}
			for _, name := range []string{"autostart.lock", "prompt.lock"} {
				if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s was created: %v", name, err)
				}
			}
			if _, err := c.PromptLock(t.Context()); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PromptLock = %v, want %q", err, tc.want)
			}
		})
	}
	// A missing folder is made, 0700.
	dir := filepath.Join(t.TempDir(), "credbroker-0")
	c := &wire.Client{Socket: filepath.Join(dir, "broker.sock"), StartWait: time.Second}
	err := c.EnsureDaemon(t.Context(), func() (<-chan error, error) { return nil, errors.New("not started") }, "/x/daemon.log")
	if err == nil || !strings.Contains(err.Error(), "not started") {
		t.Errorf("EnsureDaemon in a new folder = %v, want start called", err)
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket folder: %v %v, want a 0700 folder", fi, err)
	}
}

// TestEnsureDaemonNamesItsLog: a daemon that starts but does not answer is
// reported with where its log is.
func TestEnsureDaemonNamesItsLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := &wire.Client{Socket: filepath.Join(dir, "broker.sock"), StartWait: 50 * time.Millisecond}
	logPath := filepath.Join(dir, "state", "daemon.log")
	err := c.EnsureDaemon(t.Context(), func() (<-chan error, error) { return make(chan error), nil }, logPath)
	if !errors.Is(err, wire.ErrNoDaemon) || !strings.Contains(err.Error(), "does not answer") || !strings.Contains(err.Error(), "see its log "+logPath) {
		t.Errorf("EnsureDaemon = %v, want ErrNoDaemon naming %s", err, logPath)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CREDBROKER_TEST_NO_ROOT") == "1" {
		t.Skip("CREDBROKER_TEST_NO_ROOT=1: giving a folder to user nobody needs root")
	}
	t.Fatal("this test gives a folder to user nobody, which needs root (CI runs the tests as root); " +
		"run as root, or set CREDBROKER_TEST_NO_ROOT=1 to skip it")
}

func TestDaemonEnv(t *testing.T) {
	t.Parallel()
	kept := []string{
		"PATH=/usr/bin:/bin", "HOME=/home/u", "USER=u", "LOGNAME=u", "TZ=UTC", "LANG=C.UTF-8", "LC_ALL=C", "LC_TIME=en_GB",
		"TMPDIR=/tmp", "XDG_RUNTIME_DIR=/run/user/1000", "XDG_STATE_HOME=/home/u/.state",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus",
		"CREDBROKER_CONFIG=/home/u/c", "CREDBROKER_KEYRING=file", "CREDBROKER_SOCKET=/tmp/s",
		"PASSWORD_STORE_DIR=/home/u/.pw", "GNUPGHOME=/home/u/.gnupg",
		"HTTPS_PROXY=http://p:3128", "HTTP_PROXY=http://p:3128", "NO_PROXY=localhost",
		"https_proxy=http://p:3128", "http_proxy=http://p:3128", "no_proxy=localhost",
		"SSL_CERT_FILE=/etc/ca.pem", "SSL_CERT_DIR=/etc/ssl/certs",
		"LANG=", // a name given twice stays as given
	}
	dropped := []string{
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN=token", "AWS_PROFILE=prod", "AWS_CONFIG_FILE=/x", "AWS_SHARED_CREDENTIALS_FILE=/y",
		"AWS_WEB_IDENTITY_TOKEN_FILE=/t", "AWS_CONTAINER_AUTHORIZATION_TOKEN=t", "GITHUB_TOKEN=ghp_x", "VAULT_TOKEN=s.x",
		"SSH_AUTH_SOCK=/tmp/ssh", "LD_PRELOAD=/evil.so", "PS1=$ ", "path=/lowercase", "XDG=", "CREDBROKER=", "LC=",
		"=C:=C:\\", "NOEQUALS",
		// The passphrase reaches the daemon over the socket; what an SDK
		// reads comes with each request.
		"CREDBROKER_FILE_PASSPHRASE=p", "AWS_ENDPOINT_URL=http://e", "AWS_ENDPOINT_URL_STS=http://sts",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", "AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1",
		"AWS_CA_BUNDLE=/etc/ca.pem", "AWS_USE_FIPS_ENDPOINT=true",
	}
	var env []string
	for i := range max(len(kept), len(dropped)) {
		if i < len(dropped) {
			env = append(env, dropped[i])
		}
		if i < len(kept) {
			env = append(env, kept[i])
		}
	}
	if got := wire.DaemonEnv(env); !slices.Equal(got, kept) {
		t.Errorf("daemonEnv kept:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(kept, "\n"))
	}
}

// TestEveryCodeIsHandled: for every class of the error table, a daemon
// answering with its code and HTTP status gets the right treatment from
// credential-process: a code that wants an MFA code is prompted for and
// submitted; every other is one line on stderr, message then hint, and
// exit 1 with nothing on stdout.
func TestEveryCodeIsHandled(t *testing.T) {
	t.Parallel()
	for _, c := range append(slices.Clone(broker.Classes), broker.ClassOf(errors.New("unforeseen"))) {
		t.Run(string(c.Code), func(t *testing.T) {
			t.Parallel()
			msg, hint := "the daemon says "+string(c.Code), "do something about "+string(c.Code)
			d := startFakeDaemon(t, func(gets, posts int, code string) (int, string) {
				if posts > 0 {
					return 200, fakeCreds
				}
				return c.HTTPStatus, mfaAnswer(string(c.Code), msg, hint, c.Code.WantsCode())
			})
			human := &countingPrompter{code: "123456"}
			var stdout, stderr bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: d.env, prompter: human}
			exit := run([]string{"credential-process", "--profile", "p"}, a)
			if c.Code.WantsCode() {
				if exit != 0 || stdout.String() != fakeCreds || len(human.prompts()) != 1 {
					t.Fatalf("exit %d, stdout %q, %d prompts: want the code asked for and the credentials", exit, stdout.String(), len(human.prompts()))
				}
				return
			}
			want := "credbroker: error: " + msg + "; " + hint + "\n"
			if exit != 1 || stdout.Len() != 0 || stderr.String() != want || len(human.prompts()) != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q, %d prompts; want exit 1 and %q", exit, stdout.String(), stderr.String(), len(human.prompts()), want)
			}
		})
	}
}
