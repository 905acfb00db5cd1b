package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SystemSocket is where the system service listens.
const SystemSocket = "/run/credbroker/broker.sock"

// ClientSocket is the daemon a client should ask: CREDBROKER_SOCKET, else
// the user's own daemon, else, on a server where only the system service
// runs, the system daemon (which is never started on demand).
func ClientSocket(getenv func(string) string) (socket string, autostart bool) {
	socket = UserSocket(getenv)
	autostart = getenv("CREDBROKER_NO_AUTOSTART") != "1"
	if getenv("CREDBROKER_SOCKET") == "" {
		if _, err := os.Stat(socket); err != nil {
			if _, err := os.Stat(SystemSocket); err == nil {
				return SystemSocket, false
			}
		}
	}
	return socket, autostart
}

// UserSocket is the socket of the caller's own daemon: CREDBROKER_SOCKET,
// else broker.sock in $XDG_RUNTIME_DIR/credbroker (a per-user tmpfs that
// only the user can enter), else in the run folder of the user's state
// folder (~/.local/state/credbroker/run): never a predictable shared path
// such as /tmp/credbroker-UID, which another user could make first and so
// decide whether this user gets a daemon (only without a home folder is
// /tmp the last resort). One daemon serves one keyring: a caller whose
// keyring settings are not the defaults talks to broker-ID.sock, ID naming
// its keyring (KeyringID), so that each keyring gets a daemon of its own.
func UserSocket(getenv func(string) string) string {
	if s := getenv("CREDBROKER_SOCKET"); s != "" {
		return s
	}
	name := "broker.sock"
	if id := KeyringID(getenv); id != "" {
		name = "broker-" + id + ".sock"
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "credbroker", name)
	}
	if home := getenv("HOME"); filepath.IsAbs(home) || filepath.IsAbs(getenv("XDG_STATE_HOME")) {
		return filepath.Join(StateDir(getenv), "run", name)
	}
	return filepath.Join(os.TempDir(), "credbroker-"+strconv.Itoa(os.Getuid()), name)
}

// ErrNoDaemon: nothing answers on the socket.
var ErrNoDaemon = errors.New("no credbroker daemon answers")

// maxAnswer bounds what a client reads: credentials are about 1 KiB, a
// status of many profiles a few dozen.
const maxAnswer = 1 << 20

// ErrForeignDaemon: the process listening on the socket runs as another
// user (not the caller, not root), so it is not a daemon the caller
// started or a system administrator runs: it could hand out credentials
// of its choosing and collect the MFA codes sent to it.
var ErrForeignDaemon = errors.New("the socket is served by another user")

// systemGroup is the group whose members may use the system daemon (the
// service's socket_group).
const systemGroup = "credbroker"

// Do makes one request to the daemon on socket and returns the answer's
// status and body. It speaks the least HTTP/1.1 the daemon needs (one
// request per connection, Content-Length bodies), which keeps net/http and
// its start-up cost out of the credential_process path. A socket nobody
// listens on gives ErrNoDaemon.
//
// Before sending anything it checks who listens (on Linux, from the
// socket itself): the caller's own user, root, or anyone on SystemSocket,
// whose folder only root can create. Anyone else gives ErrForeignDaemon:
// without XDG_RUNTIME_DIR the socket is in /tmp/credbroker-UID, which
// another local user may have created first to listen there.
func Do(socket, method, path string, body []byte, timeout time.Duration) (int, []byte, error) {
	return roundTrip(socket, method, path, body, timeout, false, nil)
}

// roundTrip is Do; trustRoot also accepts a listener run by root on a
// socket the caller named itself (CREDBROKER_SOCKET).
// onWait, when set, hears each interim answer saying what the request
// waits for (see StatusWaiting).
func roundTrip(socket, method, path string, body []byte, timeout time.Duration, trustRoot bool, onWait func(what string, wait time.Duration)) (int, []byte, error) {
	if fi, err := os.Lstat(socket); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		// Whoever planted the link chose the daemon: never follow it.
		return 0, nil, &SocketDirError{Dir: filepath.Dir(socket), Problem: "holds a symlink where the socket " + filepath.Base(socket) + " should be",
			Fix: "remove it: rm " + socket}
	}
	conn, err := net.DialTimeout("unix", socket, timeout)
	if err != nil {
		return 0, nil, dialError(socket, err)
	}
	defer conn.Close()
	uid, known, err := serverUID(conn)
	if err != nil {
		return 0, nil, fmt.Errorf("daemon on %s: %w", socket, err)
	}
	if known {
		if err := trustServer(socket, uid, os.Getuid(), trustRoot); err != nil {
			return 0, nil, err
		}
	}
	if timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: credbroker\r\nConnection: close\r\n", method, path)
	if onWait != nil {
		req.WriteString(HeaderAcceptWaits + ": 1\r\n")
	}
	if body != nil {
		fmt.Fprintf(&req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	req.WriteString("\r\n")
	req.Write(body)
	if _, err := conn.Write(req.Bytes()); err != nil {
		// A daemon that will not serve this connection (a uid past its
		// share of them, or one no rule names) answers at once and closes
		// it, unread: its answer may be waiting all the same.
		if status, answer, rerr := readAnswer(bufio.NewReader(io.LimitReader(conn, maxAnswer)), onWait); rerr == nil {
			return status, answer, nil
		}
		return 0, nil, fmt.Errorf("daemon on %s: send request: %w", socket, err)
	}
	status, answer, err := readAnswer(bufio.NewReader(io.LimitReader(conn, maxAnswer)), onWait)
	if err != nil {
		return 0, nil, fmt.Errorf("daemon on %s: %w", socket, err)
	}
	return status, answer, nil
}

// dialError says why connecting to socket failed, in the terms a user
// can act on.
func dialError(socket string, err error) error {
	switch {
	case isNoDaemon(err):
		return fmt.Errorf("%w on %s", ErrNoDaemon, socket)
	case errors.Is(err, os.ErrPermission) && filepath.Clean(socket) == SystemSocket:
		// The system socket is 0660 for its group, in a 0750 folder.
		return &systemDeniedError{err: err}
	}
	return fmt.Errorf("daemon on %s: %w", socket, err)
}

// systemDeniedError: the caller may not connect to the system daemon.
type systemDeniedError struct{ err error }

func (e *systemDeniedError) Error() string {
	return "you may not use the system daemon at " + SystemSocket
}

// Hint says what to do about it.
func (e *systemDeniedError) Hint() string {
	return "ask to be added to its group (" + systemGroup + ")"
}

func (e *systemDeniedError) Unwrap() error { return e.err }

// trustServer accepts the server listening on socket when it runs as the
// caller (uid self), when socket is the system daemon's (which runs as its
// own user, in /run, which only root can write), or when it is root and
// trustRoot.
func trustServer(socket string, server, self int, trustRoot bool) error {
	// root is trusted only at the system service's socket (where only the
	// service listens), or at a socket the caller named itself: anywhere
	// else, a listener of root's is not a daemon this user started.
	if server == self || filepath.Clean(socket) == SystemSocket || (server == 0 && trustRoot) {
		return nil
	}
	return &foreignDaemonError{socket: socket, uid: server, self: self}
}

// foreignDaemonError names the socket and who listens on it.
type foreignDaemonError struct {
	socket    string
	uid, self int
}

func (e *foreignDaemonError) Error() string {
	return fmt.Sprintf("%s is served by uid %d, not by you (uid %d) or root: refusing to talk to it", e.socket, e.uid, e.self)
}

// Hint says what to do about it.
func (e *foreignDaemonError) Hint() string {
	return "set CREDBROKER_SOCKET, or remove the folder " + filepath.Dir(e.socket)
}

func (e *foreignDaemonError) Is(target error) bool { return target == ErrForeignDaemon }

// readAnswer parses an HTTP/1.1 response: interim answers (1xx, each
// told to onWait when it says what the request waits for), then the
// status line, headers, and a body of Content-Length bytes (or up to the
// end, as Connection: close allows).
func readAnswer(r *bufio.Reader, onWait func(what string, wait time.Duration)) (int, []byte, error) {
again:
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil || status < 100 || status > 599 {
		return 0, nil, errors.New("the answer is not HTTP")
	}
	length := -1
	var interim map[string]string // an interim answer's headers
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return 0, nil, fmt.Errorf("read answer headers: %w", err)
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		name, value, _ := strings.Cut(h, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if status < 200 {
			if interim == nil {
				interim = map[string]string{}
			}
			interim[name] = value
			continue
		}
		switch name {
		case "content-length":
			if length, err = strconv.Atoi(strings.TrimSpace(value)); err != nil || length < 0 {
				return 0, nil, errors.New("bad Content-Length in the answer")
			}
		case "transfer-encoding":
			return 0, nil, errors.New("the answer uses a transfer encoding this client does not read")
		}
	}
	if status < 200 {
		if what, wait, ok := parseWait(interim); ok && onWait != nil {
			onWait(what, wait)
		}
		goto again
	}
	if length < 0 {
		body, err := io.ReadAll(r)
		return status, body, err
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("read answer body: %w", err)
	}
	return status, body, nil
}
