//go:build !linux

package peercred

import (
	"errors"
	"fmt"
	"net"
	"runtime"
)

const loopbackPeerUIDKnown = false

// loopbackPeerUID refuses: outside Linux there is no socket table to read
// without privileges, and a guess is no answer.
func loopbackPeerUID(_, _ *net.TCPAddr) (uint32, error) {
	return 0, fmt.Errorf("the owner of a tcp peer cannot be told on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
