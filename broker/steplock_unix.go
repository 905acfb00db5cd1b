//go:build unix

package broker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockDevice implements mfa.DeviceLocker with an flock on a file per
// device in LockDir (named by a hash of the device: no ARN in a file
// name), waiting for it until ctx is done. Without LockDir it locks
// nothing.
func (s StepStore) LockDevice(ctx context.Context, device string) (func(), error) {
	if s.LockDir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(s.LockDir, 0o700); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(device))
	path := filepath.Join(s.LockDir, "mfa-"+hex.EncodeToString(sum[:8])+".lock")
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
		// The flock goes on in the background; once granted, closing
		// the file releases it.
		go func() { <-done; f.Close() }()
		return nil, ctx.Err()
	}
}
