//go:build unix

package keystore

import (
	"os"
	"syscall"
)

// dirLock is flock(2) on the keyring folder itself: no lock file to leave
// behind, and a folder is not replaced the way a file renamed over is.
type dirLock struct{ f *os.File }

// lockFolder opens dir and locks it shared.
func lockFolder(dir string) (*dirLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	l := &dirLock{f: f}
	if err := l.shared(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// exclusive and shared convert the lock; flock releases it in between, so
// what was read under the old lock must be read again.
func (l *dirLock) exclusive() error { return flock(l.f, syscall.LOCK_EX) }
func (l *dirLock) shared() error    { return flock(l.f, syscall.LOCK_SH) }
func (l *dirLock) unlock()          { _ = l.f.Close() }

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
