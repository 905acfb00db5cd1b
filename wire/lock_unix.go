//go:build unix

package wire

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// LockFile takes an exclusive flock on path, waiting for it (until ctx is
// done). The lock goes with the process, so a crashed holder frees it.
//
// path's folder is a socket folder: it is created 0700 when missing, and
// refused (CheckSocketDir) before anything is created or locked in it when
// it is not a real folder of this user's (or root's), or others may write
// it. Whoever could, could hold the lock for ever or swap the socket.
func LockFile(ctx context.Context, path string) (unlock func(), err error) {
	dir := filepath.Dir(path)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create socket folder: %w", err)
		}
	}
	if err := CheckSocketDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return func() { f.Close() }, nil
	case <-ctx.Done():
		// close(2) does not interrupt a flock(2) waiting on the file: it
		// goes on in the background, and when it is granted, closing the
		// file releases the lock at once.
		go func() { <-done; f.Close() }()
		return nil, ctx.Err()
	}
}
