package peercred

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credbroker/credbroker/internal/asuser"

	"golang.org/x/sys/unix"
)

func TestPeerOfSocketpair(t *testing.T) {
	t.Parallel()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f) // dups fd
		f.Close()
		if err != nil {
			t.Fatalf("file conn: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		t.Run(fmt.Sprintf("end %d", i), func(t *testing.T) {
			p, err := PeerOf(c)
			if err != nil {
				t.Fatalf("PeerOf: %v", err)
			}
			checkSelfPeer(t, p)
		})
	}
}

// An unconnected datagram socket has no peer: the kernel reports uid -1,
// which must not become an identity.
func TestPeerOfUnconnectedSocket(t *testing.T) {
	t.Parallel()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "g"), Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen unixgram: %v", err)
	}
	defer c.Close()
	p, err := PeerOf(c)
	if err == nil || !strings.Contains(err.Error(), "socket has no peer") {
		t.Fatalf("PeerOf = %+v, %v; want an error saying the socket has no peer", p, err)
	}
}

// peerChildEnv tells the test binary, run again as nobody, to connect to
// the parent's socket instead of testing.
const peerChildEnv = "CREDBROKER_TEST_PEER_SOCKET"

// TestPeerOfOtherUser runs this test binary again as nobody (uid 65534)
// and checks that the parent sees the child's identity on the connection,
// whatever the child could claim. The second identity has a gid apart from
// its uid and supplementary groups the parent does not have, so swapped
// fields or the parent's own groups cannot pass.
func TestPeerOfOtherUser(t *testing.T) {
	if sock := os.Getenv(peerChildEnv); sock != "" {
		peerChild(t, sock)
		return
	}
	asuser.Need(t)
	t.Parallel()

	dir := asuser.TestDir(t, "credbroker-peer-")
	bin := filepath.Join(dir, "peercred.test")
	asuser.CopySelf(t, bin)

	for i, tc := range []struct {
		name       string
		id         asuser.Identity
		gid        uint32
		wantGroups []uint32
	}{
		{"nobody nogroup no groups", asuser.Nobody, 65534, []uint32{}},
		{"nobody with other groups", asuser.Identity{UID: 65534, GID: 12345, Groups: []uint32{23456, 34567}}, 12345, []uint32{23456, 34567}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sock := filepath.Join(dir, fmt.Sprintf("s%d", i))
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
			if err != nil {
				t.Fatalf("listen: %v", err)
			}
			defer ln.Close()
			// connect(2) needs write permission on the socket file.
			if err := os.Chmod(sock, 0o666); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := asuser.Command(ctx, tc.id, bin, "-test.run=^TestPeerOfOtherUser$", "-test.count=1")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), peerChildEnv+"="+sock)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatalf("start child: %v", err)
			}
			childFailed := func(format string, args ...any) {
				t.Helper()
				cancel()
				werr := cmd.Wait()
				t.Fatalf(format+"\nchild (%v) said:\n%s", append(args, werr, out.String())...)
			}

			if err := ln.SetDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			conn, err := ln.AcceptUnix()
			if err != nil {
				childFailed("accept: %v", err)
			}
			defer conn.Close()
			peer, err := PeerOf(conn)
			if err != nil {
				childFailed("PeerOf: %v", err)
			}
			exe := peer.Executable() // while the child waits on the connection

			// What the child says about itself only checks that setpriv
			// worked; the assertions are on what the kernel said.
			var claimedPID, claimedUID int
			line, err := bufio.NewReader(conn).ReadString('\n')
			if _, serr := fmt.Sscanf(line, "%d %d", &claimedPID, &claimedUID); err != nil || serr != nil {
				childFailed("read the child's report %q: %v %v", line, err, serr)
			}
			if claimedUID != 65534 {
				childFailed("setpriv did not switch the child to uid 65534: it runs as %d", claimedUID)
			}

			if peer.UID != 65534 || peer.GID != tc.gid {
				t.Errorf("PeerOf = uid %d gid %d, want uid 65534 gid %d", peer.UID, peer.GID, tc.gid)
			}
			got := slices.Sorted(slices.Values(peer.Groups))
			if peer.Groups == nil || !slices.Equal(got, tc.wantGroups) {
				t.Errorf("PeerOf groups = %v (nil: %t), want %v", peer.Groups, peer.Groups == nil, tc.wantGroups)
			}
			if peer.PID != cmd.Process.Pid || peer.PID != claimedPID {
				t.Errorf("PeerOf pid = %d, want the child's %d (it says %d)", peer.PID, cmd.Process.Pid, claimedPID)
			}
			if exe != bin {
				t.Errorf("Executable() = %q, want the child's binary %q", exe, bin)
			}
			if got, want := peer.String(), fmt.Sprintf("uid=65534(nobody) pid=%d", claimedPID); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}

			conn.Close() // lets the child finish
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v\n%s", err, out.String())
			}
		})
	}
}

// peerChild is the child side of TestPeerOfOtherUser: it connects, tells
// its pid and uid, and stays until the parent hangs up, so its
// /proc/PID/exe is still there to read.
func peerChild(t *testing.T, sock string) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("child: dial %s: %v", sock, err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "%d %d\n", os.Getpid(), os.Getuid()); err != nil {
		t.Fatalf("child: write: %v", err)
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("child: wait for the parent: %v", err)
	}
}

func TestPeerExecutable(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// pid_max itself is never a pid: pids stay below it.
	raw, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	pidMax, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pid  int
		want string
	}{
		{"this process", os.Getpid(), self},
		{"unknown pid", 0, ""},
		{"negative pid", -1, ""},
		{"no such process", pidMax, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Peer{PID: tc.pid}).Executable(); got != tc.want {
				t.Errorf("Executable() for pid %d = %q, want %q", tc.pid, got, tc.want)
			}
		})
	}
}

func TestPeerNamesFromSystem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		peer            Peer
		user, groupName string
	}{
		{Peer{UID: 0, GID: 0}, "root", "root"},
		{Peer{UID: 65534, GID: 65534}, "nobody", "nogroup"}, // Debian's names
		{Peer{UID: 3999999999, GID: 3999999999}, "", ""},
	} {
		t.Run(strconv.Itoa(int(tc.peer.UID)), func(t *testing.T) {
			if got := tc.peer.UserName(); got != tc.user {
				t.Errorf("UserName() = %q, want %q", got, tc.user)
			}
			if got := tc.peer.GroupName(); got != tc.groupName {
				t.Errorf("GroupName() = %q, want %q", got, tc.groupName)
			}
		})
	}
}
