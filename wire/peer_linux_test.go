package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credbroker/credbroker/internal/asuser"
)

// impostorEnv tells the test binary, run again as nobody, to listen on a
// socket instead of testing.
const impostorEnv = "CREDBROKER_TEST_IMPOSTOR_SOCKET"

// TestDoRefusesAnotherUsersDaemon plays the attack the check is for:
// another local user (nobody) made the caller's socket folder first, as
// /tmp/credbroker-UID can be made by anyone, and listens there. Do must
// send it nothing, and say whose socket it is; a daemon of the caller's own
// uid is still accepted.
func TestDoRefusesAnotherUsersDaemon(t *testing.T) {
	if sock := os.Getenv(impostorEnv); sock != "" {
		impostor(t, sock)
		return
	}
	asuser.Need(t)
	t.Parallel()

	// nobody must reach the binary (t.TempDir's parents are 0700) and own
	// the socket's folder, as a squatter of /tmp/credbroker-UID would.
	dir := asuser.TestDir(t, "cbimpostor")
	bin := filepath.Join(dir, "wire.test")
	asuser.CopySelf(t, bin)
	squatted := filepath.Join(dir, fmt.Sprintf("credbroker-%d", os.Getuid()))
	if err := os.Mkdir(squatted, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(squatted, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(squatted, "broker.sock")

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := asuser.Command(ctx, asuser.Nobody, bin, "-test.run=^TestDoRefusesAnotherUsersDaemon$", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), impostorEnv+"="+sock)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the impostor: %v", err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var said []string
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the impostor exited before listening (%v):\n%s", cmd.Wait(), strings.Join(said, "\n"))
			}
			said = append(said, l)
			ready = l == "listening"
		case <-ctx.Done():
			t.Fatal("the impostor did not listen within a minute")
		}
	}
	if fi, err := os.Stat(sock); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Fatalf("the impostor's socket: %v (setpriv did not switch users?)", err)
	}

	status, body, err := Do(sock, "POST", PathMFA, []byte(`{"profile":"p","code":"123456"}`), 10*time.Second)
	if !errors.Is(err, ErrForeignDaemon) || status != 0 || body != nil {
		t.Errorf("Do on nobody's socket = %d %q %v; want ErrForeignDaemon", status, body, err)
	}
	if err != nil {
		for _, want := range []string{sock, "uid 65534", fmt.Sprintf("not by you (uid %d)", os.Getuid()), "refusing to talk to it"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error %q does not say %q", err, want)
			}
		}
		var h interface{ Hint() string }
		if !errors.As(err, &h) || h.Hint() != "set CREDBROKER_SOCKET, or remove the folder "+squatted {
			t.Errorf("the error %q gives no hint to remove %s", err, squatted)
		}
	}

	// The impostor must have been sent nothing (no request, no code).
	stdin.Close()
	for l := range lines {
		said = append(said, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("impostor: %v\n%s", err, strings.Join(said, "\n"))
	}
	for _, l := range said {
		if strings.HasPrefix(l, "request ") {
			t.Errorf("the impostor got a request: %s", l)
		}
	}

	// A daemon of our own uid, in a folder of ours, is talked to.
	own := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	if status, body, err := Do(own, "GET", PathHealth, nil, 10*time.Second); err != nil || status != 200 || string(body) != "ok" {
		t.Errorf("Do on our own daemon = %d %q %v", status, body, err)
	}
}

// impostor is the child side of TestDoRefusesAnotherUsersDaemon: it
// listens on sock, says "listening", reports every request it gets, and
// stops when its stdin closes.
func impostor(t *testing.T, sock string) {
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("impostor: listen on %s: %v", sock, err)
	}
	defer l.Close()
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("request %s %s\n", r.Method, r.URL.Path)
		_, _ = io.WriteString(w, `{"Version":1,"AccessKeyId":"ASIAIMPOSTOR","SecretAccessKey":"x","SessionToken":"y","Expiration":"2030-01-01T00:00:00Z"}`)
	})}
	go func() { _ = srv.Serve(l) }()
	fmt.Println("listening")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}

func TestTrustServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		socket      string
		server, own int
		ok          bool
	}{
		{"our own daemon", "/tmp/credbroker-1000/broker.sock", 1000, 1000, true},
		{"root's listener, not at the system socket", "/tmp/credbroker-1000/broker.sock", 0, 1000, false},
		{"root's own daemon, we are root", "/root/.local/state/credbroker/run/broker.sock", 0, 0, true},
		{"another user's", "/tmp/credbroker-1000/broker.sock", 1001, 1000, false},
		{"another user's, we are root", "/tmp/credbroker-0/broker.sock", 65534, 0, false},
		{"the system daemon's user", SystemSocket, 998, 1000, true},
		{"the system socket, unclean", "/run/credbroker/./broker.sock", 998, 1000, true},
		{"the system daemon's user elsewhere", "/run/user/1000/credbroker/broker.sock", 998, 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := trustServer(tc.socket, tc.server, tc.own, false)
			if (err == nil) != tc.ok {
				t.Fatalf("trustServer(%s, %d, %d) = %v, want ok %v", tc.socket, tc.server, tc.own, err, tc.ok)
			}
			if err != nil && (!errors.Is(err, ErrForeignDaemon) || !strings.Contains(err.Error(), tc.socket) ||
				!strings.Contains(err.Error(), fmt.Sprintf("uid %d", tc.server))) {
				t.Errorf("error %q: want ErrForeignDaemon naming the socket and uid %d", err, tc.server)
			}
		})
	}
}

// TestTrustRootWhereNamed: a daemon run by root is trusted on a socket the
// caller named itself (CREDBROKER_SOCKET), and nowhere else but the system
// service's socket.
func TestTrustRootWhereNamed(t *testing.T) {
	t.Parallel()
	if err := trustServer("/srv/cb/broker.sock", 0, 1000, true); err != nil {
		t.Errorf("root on a named socket: %v", err)
	}
	if err := trustServer("/srv/cb/broker.sock", 1001, 1000, true); err == nil {
		t.Error("another user on a named socket was trusted")
	}
	c, _ := ClientFor(func(k string) string { return map[string]string{"CREDBROKER_SOCKET": "/srv/cb/broker.sock"}[k] })
	d, _ := ClientFor(func(k string) string { return map[string]string{"HOME": "/home/u"}[k] })
	if !c.TrustRoot || d.TrustRoot {
		t.Errorf("TrustRoot: named socket %v, default socket %v", c.TrustRoot, d.TrustRoot)
	}
}

func TestDialError(t *testing.T) {
	t.Parallel()
	dial := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", errno)}
	}
	for _, tc := range []struct {
		name   string
		socket string
		err    error
		want   string
		is     error
	}{
		{"system socket, not in the group", SystemSocket, dial(syscall.EACCES),
			"you may not use the system daemon at /run/credbroker/broker.sock", os.ErrPermission},
		{"own socket, permission denied", "/tmp/x/broker.sock", dial(syscall.EACCES), "daemon on /tmp/x/broker.sock: dial unix: connect: permission denied", os.ErrPermission},
		{"nobody listens", SystemSocket, dial(syscall.ECONNREFUSED), "no credbroker daemon answers on /run/credbroker/broker.sock", ErrNoDaemon},
		{"no socket", "/tmp/x/broker.sock", dial(syscall.ENOENT), "no credbroker daemon answers on /tmp/x/broker.sock", ErrNoDaemon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := dialError(tc.socket, tc.err)
			if err.Error() != tc.want || !errors.Is(err, tc.is) {
				t.Errorf("dialError = %q (is %v: %v), want %q", err, tc.is, errors.Is(err, tc.is), tc.want)
			}
		})
	}
}
