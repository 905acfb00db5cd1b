//go:build unix

package wire

import (
	"fmt"
	"os"
	"syscall"
)

// CheckSocketDir refuses a socket folder others could tamper with: one
// that is not a real folder (a symlink), that group or others may write,
// or that belongs to another user than the caller or root. Whoever could
// write it could swap the socket for their own, or hold a lock in it for
// ever. The error is a *SocketDirError.
func CheckSocketDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("socket folder: %w", err)
	}
	if !fi.IsDir() {
		return &SocketDirError{Dir: dir, Problem: "is not a folder (a symlink?)"}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return &SocketDirError{Dir: dir, Problem: fmt.Sprintf("is writable by others (mode %04o)", fi.Mode().Perm()),
			Fix: "chmod go-w it or set CREDBROKER_SOCKET"}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uint32(os.Getuid()) && st.Uid != 0 {
		return &SocketDirError{Dir: dir, Problem: fmt.Sprintf("belongs to uid %d, not to this user", st.Uid)}
	}
	return nil
}
