package wire

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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
			status, body, err := readAnswer(bufio.NewReader(strings.NewReader(tc.raw)), nil)
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

func TestUserSocket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CREDBROKER_SOCKET": "/x/s", "XDG_RUNTIME_DIR": "/run/user/1"}, "/x/s"},
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1"}, "/run/user/1/credbroker/broker.sock"},
		{map[string]string{"XDG_RUNTIME_DIR": "relative", "HOME": "/home/u"}, "/home/u/.local/state/credbroker/run/broker.sock"},
		{map[string]string{"HOME": "/home/u", "XDG_STATE_HOME": "/home/u/state"}, "/home/u/state/credbroker/run/broker.sock"},
		// No home folder at all: /tmp is the last resort.
		{map[string]string{}, filepath.Join(os.TempDir(), "credbroker-"+strconv.Itoa(os.Getuid()), "broker.sock")},
	} {
		if got := UserSocket(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.env, got, tc.want)
		}
	}
}

// TestSocketPerKeyring: one daemon serves one keyring; a caller whose
// keyring settings are not the defaults gets a socket (and so a daemon) of
// its own, the same for two spellings of one folder.
func TestSocketPerKeyring(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	def := UserSocket(env())
	pass := UserSocket(env("CREDBROKER_KEYRING", "pass"))
	store := UserSocket(env("CREDBROKER_KEYRING", "pass", "PASSWORD_STORE_DIR", "/home/u/other-store"))
	same := UserSocket(env("CREDBROKER_KEYRING", "pass", "PASSWORD_STORE_DIR", "/home/u/x/../other-store"))
	if def != "/run/user/1000/credbroker/broker.sock" {
		t.Errorf("default socket = %s", def)
	}
	if pass == def || store == pass || store != same {
		t.Errorf("sockets: default %s, pass %s, pass+store %s, same store spelt otherwise %s", def, pass, store, same)
	}
	if !strings.HasPrefix(filepath.Base(pass), "broker-") || filepath.Dir(pass) != filepath.Dir(def) {
		t.Errorf("pass socket = %s", pass)
	}
	if got := UserSocket(env("CREDBROKER_KEYRING", "pass", "CREDBROKER_SOCKET", "/x/s")); got != "/x/s" {
		t.Errorf("CREDBROKER_SOCKET is not obeyed: %s", got)
	}
}

// TestSymlinkedSocketNotFollowed: a symlink planted where the socket
// should be (pointing at a listener of someone's choosing) is never
// followed: nothing is sent, and the error says what to remove.
func TestSymlinkedSocketNotFollowed(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	target := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	link := filepath.Join(filepath.Dir(target), "broker.sock")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	status, body, err := Do(link, "GET", PathHealth, nil, 5*time.Second)
	var h interface{ Hint() string }
	if !errors.Is(err, ErrUnsafeSocket) || status != 0 || body != nil || !errors.As(err, &h) || !strings.Contains(h.Hint(), "rm "+link) {
		t.Fatalf("Do through a symlink = %d %q %v", status, body, err)
	}
	if got.Load() != 0 {
		t.Fatal("the symlink's target got a request")
	}
}
