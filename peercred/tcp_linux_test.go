package peercred

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credbroker/credbroker/internal/asuser"
)

// loopbackPair is a connected pair of TCP connections on addr ("127.0.0.1"
// or "::1"): the server's end and the client's.
func loopbackPair(t *testing.T, addr string) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Skipf("no %s here: %v", addr, err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

func TestLoopbackPeerUIDSelf(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			server, client := loopbackPair(t, addr)
			for name, c := range map[string]net.Conn{"server end": server, "client end": client} {
				uid, err := LoopbackPeerUID(c)
				if err != nil || uid != uint32(os.Getuid()) {
					t.Errorf("%s: LoopbackPeerUID = %d, %v; want %d", name, uid, err, os.Getuid())
				}
			}
		})
	}
}

// A peer that has closed its socket has nobody left to answer, and no
// owner to read: refused.
func TestLoopbackPeerUIDClosedPeer(t *testing.T) {
	t.Parallel()
	server, client := loopbackPair(t, "127.0.0.1")
	client.Close()
	// The server's end reads EOF once the client's FIN has arrived; by
	// then the client's socket is no longer held by any file.
	if n, err := server.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("read after the client closed: %d, %v", n, err)
	}
	if uid, err := LoopbackPeerUID(server); !errors.Is(err, ErrTCPPeerUnknown) {
		t.Fatalf("LoopbackPeerUID = %d, %v; want ErrTCPPeerUnknown", uid, err)
	}
}

func TestLoopbackPeerUIDRefusesOthers(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := LoopbackPeerUID(a); err == nil || !strings.Contains(err.Error(), "not a tcp connection") {
		t.Errorf("LoopbackPeerUID(pipe) = %v; want not a tcp connection", err)
	}
}

// The socket table as the kernel prints it: the first line is the client's
// socket (127.0.0.1:40000 to 127.0.0.1:8080, uid 1000), then the server's
// accepted socket (uid 0), a TIME_WAIT socket with the same addresses as
// the first (uid 0: no owner), an orphaned one and a v4-mapped tcp6 one.
func TestFindSocketOwner(t *testing.T) {
	t.Parallel()
	ipv4 := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 111 1 0 20 4 30 10 -1\n" +
		"   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0 20 4 30 10 -1\n"
	timeWait := "  sl  local_address rem_address   st\n" +
		"   1: 0100007F:9C40 0100007F:1F90 06 00000000:00000000 03:00000D4F 00000000     0        0 0 3 0\n"
	orphan := "  sl  local_address rem_address   st\n" +
		"   1: 0100007F:9C40 0100007F:1F90 05 00000000:00000000 03:00000D4F 00000000  1000        0 0 3 0\n"
	mapped := "  sl  local_address                         remote_address                        st\n" +
		"   0: 0000000000000000FFFF00000100007F:9C40 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 333 1 0\n"
	client := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	server := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, tc := range []struct {
		name    string
		table   string
		addr    *net.TCPAddr
		peer    *net.TCPAddr
		uid     uint32
		found   bool
		unknown bool
	}{
		{"client socket", ipv4, client, server, 1000, true, false},
		{"server socket", ipv4, server, client, 0, true, false},
		{"other port", ipv4, &net.TCPAddr{IP: client.IP, Port: 40001}, server, 0, false, false},
		{"time wait only", timeWait, client, server, 0, false, false},
		{"orphaned", orphan, client, server, 0, false, true},
		{"v4-mapped", mapped, client, server, 1001, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid, found, err := findSocketOwner([]byte(tc.table), tc.addr, tc.peer)
			if errors.Is(err, ErrTCPPeerUnknown) != tc.unknown || (!tc.unknown && err != nil) {
				t.Fatalf("findSocketOwner error %v; want unknown peer: %v", err, tc.unknown)
			}
			if uid != tc.uid || found != tc.found {
				t.Fatalf("findSocketOwner = %d, %v; want %d, %v", uid, found, tc.uid, tc.found)
			}
		})
	}
}

// tcpPeerChildEnv tells the test binary, run again as nobody, to connect to
// the parent's TCP address instead of testing.
const tcpPeerChildEnv = "CREDBROKER_TEST_TCP_PEER"

// TestLoopbackPeerUIDOtherUser: a client run as nobody is seen as uid
// 65534, whatever it says, on IPv4 and IPv6 loopback.
func TestLoopbackPeerUIDOtherUser(t *testing.T) {
	if addr := os.Getenv(tcpPeerChildEnv); addr != "" {
		tcpPeerChild(t, addr)
		return
	}
	asuser.Need(t)
	t.Parallel()
	dir := asuser.TestDir(t, "credbroker-tcppeer-")
	bin := filepath.Join(dir, "peercred.test")
	asuser.CopySelf(t, bin)
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err != nil {
				t.Skipf("no %s here: %v", host, err)
			}
			defer ln.Close()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := asuser.Command(ctx, asuser.Nobody, bin, "-test.run=^TestLoopbackPeerUIDOtherUser$", "-test.count=1")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), tcpPeerChildEnv+"="+ln.Addr().String())
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			go func() { <-ctx.Done(); ln.Close() }()
			conn, err := ln.Accept()
			if err != nil {
				cancel()
				t.Fatalf("accept: %v\nchild said: %s", err, out.String())
			}
			defer conn.Close()
			uid, err := LoopbackPeerUID(conn)
			line, rerr := bufio.NewReader(conn).ReadString('\n')
			if rerr != nil || strings.TrimSpace(line) != "65534" {
				t.Fatalf("the child says it runs as %q (%v): setpriv did not switch it", line, rerr)
			}
			if err != nil || uid != 65534 {
				t.Fatalf("LoopbackPeerUID = %d, %v; want 65534 (nobody)", uid, err)
			}
		})
	}
}

// tcpPeerChild connects, says its uid, and stays until the parent hangs up.
func tcpPeerChild(t *testing.T, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("child: dial %s: %v", addr, err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%d\n", os.Getuid())
	_, _ = c.Read(make([]byte, 1))
}
