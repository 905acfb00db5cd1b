//go:build !linux && !darwin

package peercred

import (
	"fmt"
	"runtime"
)

// peerCredentialsFD refuses: without credentials from the kernel the
// daemon cannot tell who is asking, and must not guess.
func peerCredentialsFD(uintptr) (Peer, error) {
	return Peer{}, fmt.Errorf("not available on %s", runtime.GOOS)
}

func peerExecutable(int) string { return "" }
