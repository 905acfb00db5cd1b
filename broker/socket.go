//go:build unix

package broker

import (
	"errors"
	"fmt"
	"github.com/credbroker/credbroker/broker/wire"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// SystemSocket is where the system service listens.
const SystemSocket = wire.SystemSocket

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
		return nil, fmt.Errorf("socket path %s is %d bytes, longer than the %d a Unix socket allows: set CREDBROKER_SOCKET to a shorter path", path, len(path), maxSocketPath)
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
	if err := checkSocketDir(dir); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "broker.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open daemon lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another credbroker daemon already serves %s", ErrDaemonRunning, path)
		}
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if _, err := os.Lstat(path); err == nil {
		// We hold the lock, so no credbroker daemon owns this socket; but
		// never steal one that answers (an older daemon without the lock).
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			lock.Close()
			return nil, fmt.Errorf("%w: something already answers on %s", ErrDaemonRunning, path)
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

// checkSocketDir refuses a folder others could tamper with.
func checkSocketDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("socket folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket folder %s is not a folder (a symlink?): refusing to serve there", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("socket folder %s is writable by others (mode %04o): refusing to serve there; chmod go-w it or set CREDBROKER_SOCKET", dir, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uint32(os.Getuid()) && st.Uid != 0 {
		return fmt.Errorf("socket folder %s belongs to uid %d, not to this user: refusing to serve there", dir, st.Uid)
	}
	return nil
}
