//go:build unix

package wire

import (
	"errors"
	"os"
	"syscall"
)

// isNoDaemon: no socket file, or nobody listens on it (a stale socket).
func isNoDaemon(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist)
}
