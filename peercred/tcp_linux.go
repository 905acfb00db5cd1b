package peercred

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
)

// Socket states of /proc/net/tcp (include/net/tcp_states.h) whose uid
// column says nothing about an owner: a TIME_WAIT socket has none left,
// and a NEW_SYN_RECV one is a half-open request (both show uid 0).
const (
	tcpTimeWait   = 0x06
	tcpNewSynRecv = 0x0C
)

const loopbackPeerUIDKnown = true

func loopbackPeerUID(local, remote *net.TCPAddr) (uint32, error) {
	files := []string{"/proc/net/tcp6"}
	if remote.IP.To4() != nil {
		// An IPv4 client is in tcp; a v4-mapped one (a dual-stack
		// socket) in tcp6.
		files = []string{"/proc/net/tcp", "/proc/net/tcp6"}
	}
	for _, f := range files {
		table, err := os.ReadFile(f)
		if err != nil {
			return 0, fmt.Errorf("read the socket table: %w", err)
		}
		uid, found, err := findSocketOwner(table, remote, local)
		if err != nil || found {
			return uid, err
		}
	}
	return 0, ErrTCPPeerUnknown
}

// findSocketOwner finds, in a /proc/net/tcp or tcp6 table, the live socket
// bound to addr and connected to peer, and returns its uid.
func findSocketOwner(table []byte, addr, peer *net.TCPAddr) (uid uint32, found bool, err error) {
	lines := bytes.Split(table, []byte("\n"))
	for i, line := range lines {
		f := bytes.Fields(line)
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		if i == 0 || len(f) < 10 {
			continue
		}
		if !sameAddr(f[1], addr) || !sameAddr(f[2], peer) {
			continue
		}
		st, err := strconv.ParseUint(string(f[3]), 16, 8)
		if err != nil {
			return 0, false, fmt.Errorf("socket table line %d: state %q", i, f[3])
		}
		if st == tcpTimeWait || st == tcpNewSynRecv {
			continue
		}
		if string(f[9]) == "0" {
			// No file holds the socket any more: its owner closed it,
			// and nobody waits for an answer.
			return 0, false, ErrTCPPeerUnknown
		}
		id, err := strconv.ParseUint(string(f[7]), 10, 32)
		if err != nil {
			return 0, false, fmt.Errorf("socket table line %d: uid %q", i, f[7])
		}
		return uint32(id), true, nil
	}
	return 0, false, nil
}

// sameAddr reports whether field, an address of the socket table
// ("0100007F:1F90": the address as the kernel's 32-bit words printed in
// host byte order, then the port in hex), is a.
func sameAddr(field []byte, a *net.TCPAddr) bool {
	hexIP, hexPort, ok := bytes.Cut(field, []byte(":"))
	if !ok {
		return false
	}
	port, err := strconv.ParseUint(string(hexPort), 16, 16)
	if err != nil || int(port) != a.Port {
		return false
	}
	raw := make([]byte, hex.DecodedLen(len(hexIP)))
	if _, err := hex.Decode(raw, hexIP); err != nil || (len(raw) != 4 && len(raw) != 16) {
		return false
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		binary.NativeEndian.PutUint32(ip[w:], binary.BigEndian.Uint32(raw[w:]))
	}
	return ip.Equal(a.IP)
}
