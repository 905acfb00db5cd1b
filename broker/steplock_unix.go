//go:build unix

package broker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"

	"github.com/credbroker/credbroker/wire"
)

// LockDevice implements mfa.DeviceLocker with an flock on a file per
// device in LockDir (named by a hash of the device: no ARN in a file
// name; see wire.LockFile, which also refuses a folder others could
// write), waiting for it until ctx is done. Without LockDir it locks
// nothing.
func (s StepStore) LockDevice(ctx context.Context, device string) (func(), error) {
	if s.LockDir == "" {
		return func() {}, nil
	}
	sum := sha256.Sum256([]byte(device))
	return wire.LockFile(ctx, filepath.Join(s.LockDir, "mfa-"+hex.EncodeToString(sum[:8])+".lock"))
}
