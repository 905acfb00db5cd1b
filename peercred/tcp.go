package peercred

import (
	"errors"
	"fmt"
	"net"
)

// ErrTCPPeerUnknown is the error LoopbackPeerUID wraps when the kernel's
// socket table holds no live socket for the other end: it closed, or it
// lives in another network namespace. A server refuses such a peer.
var ErrTCPPeerUnknown = errors.New("no live socket for the other end of the connection")

// LoopbackPeerUIDKnown reports whether LoopbackPeerUID can tell owners on
// this OS (Linux), so a server can decide before it serves.
func LoopbackPeerUIDKnown() bool { return loopbackPeerUIDKnown }

// LoopbackPeerUID returns the uid that owns the socket at the other end of
// c, a TCP connection between two addresses of this host (a server
// listening on 127.0.0.1 or ::1 and a local client), as the kernel's
// socket table records it: on Linux, the socket of /proc/net/tcp (or
// tcp6) whose local address is c's remote one and whose remote address is
// c's local one. The uid is the one the client's socket was made with,
// whatever the client says.
//
// Elsewhere it fails with an error wrapping errors.ErrUnsupported: a TCP
// server that needs to know its callers then cannot, and must say so
// rather than guess.
//
// The lookup reads the whole table (one line per TCP socket of the
// network namespace): call it once per connection, not per request.
func LoopbackPeerUID(c net.Conn) (uint32, error) {
	local, lok := c.LocalAddr().(*net.TCPAddr)
	remote, rok := c.RemoteAddr().(*net.TCPAddr)
	if !lok || !rok {
		return 0, fmt.Errorf("tcp peer: %T is not a tcp connection", c)
	}
	if !local.IP.IsLoopback() || !remote.IP.IsLoopback() {
		return 0, fmt.Errorf("tcp peer: %s to %s is not a loopback connection", remote, local)
	}
	uid, err := loopbackPeerUID(local, remote)
	if err != nil {
		return 0, fmt.Errorf("tcp peer %s: %w", remote, err)
	}
	return uid, nil
}
