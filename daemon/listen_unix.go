//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/wire"
)

// maxSocketPath is the portable limit of a Unix socket path (sun_path is
// 108 bytes on Linux, 104 on macOS, with the terminating NUL).
const maxSocketPath = 103

// listener is the daemon's socket and the lock that makes it ours.
type listener struct {
	net.Listener
	path string
	lock *os.File
	once sync.Once
	err  error
}

// Close stops listening, removes the socket file and releases the lock,
// once: the HTTP server closes the listener too, and a second removal
// could delete the socket of a daemon started since.
func (l *listener) Close() error {
	l.once.Do(func() {
		l.err = l.Listener.Close()
		_ = os.Remove(l.path)
		_ = l.lock.Close() // releases the flock
	})
	return l.err
}

// listenUnix makes the daemon's socket at path, safely:
//
//   - its folder is created 0700 (user) or 0750 (system: the socket's group
//     must reach it) and must not be writable by group or others, nor
//     be a symlink, nor belong to another user: otherwise someone else could
//     swap the socket for their own;
//   - an exclusive lock on broker.lock in that folder is held for the
//     daemon's life, so two daemons never serve one path; a socket left by
//     a dead daemon is then replaced, and a live one is never stolen;
//   - the socket is created with a umask that never exposes it, then set
//     to 0600, or 0660 with group for the system service.
func listenUnix(path string, system bool, group string) (*listener, error) {
	if len(path) > maxSocketPath {
		return nil, &wire.SocketDirError{Dir: filepath.Dir(path), Problem: fmt.Sprintf("holds a socket path of %d bytes, longer than the %d a Unix socket allows", len(path), maxSocketPath),
			Fix: "set CREDBROKER_SOCKET to a shorter path"}
	}
	dir := filepath.Dir(path)
	dirMode := os.FileMode(0o700)
	if system {
		// Reached by the socket's group (the service unit's
		// RuntimeDirectoryMode says the same).
		dirMode = 0o750
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("create socket folder: %w", err)
	}
	if err := wire.CheckSocketDir(dir); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "broker.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open daemon lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another credbroker daemon already serves %s", broker.ErrDaemonRunning, path)
		}
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if _, err := os.Lstat(path); err == nil {
		// We hold the lock, so no credbroker daemon owns this socket; but
		// never steal one that answers (an older daemon without the lock).
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			lock.Close()
			return nil, fmt.Errorf("%w: something already answers on %s", broker.ErrDaemonRunning, path)
		}
		if err := os.Remove(path); err != nil {
			lock.Close()
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	mode := os.FileMode(0o600)
	if system {
		mode = 0o660
	}
	old := syscall.Umask(0o777 &^ int(mode))
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln := &listener{Listener: l, path: path, lock: lock}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set socket mode: %w", err)
	}
	if system && group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("socket_group %s: %w", group, err)
		}
		gid, _ := strconv.Atoi(g.Gid)
		// The socket already has the daemon's group; changing it is only
		// needed (and, under the service's system call filter, only
		// possible) for another group.
		if gid != os.Getgid() {
			if err := os.Chown(path, -1, gid); err != nil {
				ln.Close()
				return nil, fmt.Errorf("give socket to group %s: %w", group, err)
			}
		}
	}
	return ln, nil
}
