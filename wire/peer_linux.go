//go:build linux

package wire

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// serverUID is the uid of the process that listens on conn's other end,
// as the kernel recorded it when that process called listen(2)
// (SO_PEERCRED): whatever the server says about itself, this is who it is.
func serverUID(conn net.Conn) (uid int, known bool, err error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return 0, false, fmt.Errorf("read the server's credentials: %T is not a Unix socket", conn)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, false, fmt.Errorf("read the server's credentials: %w", err)
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, false, fmt.Errorf("read the server's credentials: %w", err)
	}
	if credErr != nil {
		return 0, false, fmt.Errorf("read the server's credentials (SO_PEERCRED): %w", credErr)
	}
	// The kernel reports uid -1 (overflowuid on some kernels) for a
	// socket with no peer; such an answer names nobody to trust.
	if cred.Uid == ^uint32(0) {
		return 0, false, errors.New("read the server's credentials: the socket has no peer")
	}
	return int(cred.Uid), true, nil
}
