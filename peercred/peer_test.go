package peercred

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// unixConnPair returns both ends of a real Unix socket connection made
// through a listener in a temporary folder.
func unixConnPair(t *testing.T) (server, client *net.UnixConn) {
	t.Helper()
	addr := &net.UnixAddr{Name: filepath.Join(t.TempDir(), "s"), Net: "unix"}
	ln, err := net.ListenUnix("unix", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	client, err = net.DialUnix("unix", nil, addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.AcceptUnix()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

// checkSelfPeer checks that p is this very process.
func checkSelfPeer(t *testing.T, p Peer) {
	t.Helper()
	if int(p.UID) != os.Geteuid() || int(p.GID) != os.Getegid() || p.PID != os.Getpid() {
		t.Errorf("PeerOf = uid %d gid %d pid %d, want uid %d gid %d pid %d",
			p.UID, p.GID, p.PID, os.Geteuid(), os.Getegid(), os.Getpid())
	}
	if runtime.GOOS != "linux" {
		return
	}
	want, err := os.Getgroups()
	if err != nil {
		t.Fatalf("getgroups: %v", err)
	}
	got := make([]int, len(p.Groups))
	for i, g := range p.Groups {
		got[i] = int(g)
	}
	slices.Sort(got)
	slices.Sort(want)
	if p.Groups == nil || !slices.Equal(got, want) {
		t.Errorf("PeerOf groups = %v (nil: %t), want %v", got, p.Groups == nil, want)
	}
}

func TestPeerOfListener(t *testing.T) {
	t.Parallel()
	server, client := unixConnPair(t)
	for _, tc := range []struct {
		name string
		conn net.Conn
	}{
		{"accepted end", server},
		{"dialled end", client},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PeerOf(tc.conn)
			switch runtime.GOOS {
			case "linux", "darwin", "ios", "android":
				if err != nil {
					t.Fatalf("PeerOf: %v", err)
				}
				checkSelfPeer(t, p)
			default:
				if err == nil || !strings.Contains(err.Error(), "not available on "+runtime.GOOS) {
					t.Fatalf("PeerOf = %+v, %v; want an error saying peer credentials are not available on %s", p, err, runtime.GOOS)
				}
			}
		})
	}
}

func TestPeerOfRejectsOtherConns(t *testing.T) {
	t.Parallel()
	pipeA, pipeB := net.Pipe()
	t.Cleanup(func() { pipeA.Close(); pipeB.Close() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen tcp: %v", err)
	}
	defer ln.Close()
	tcp, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial tcp: %v", err)
	}
	t.Cleanup(func() { tcp.Close() })

	closedServer, _ := unixConnPair(t)
	closedServer.Close()

	for _, tc := range []struct {
		name, want string
		conn       net.Conn
	}{
		{"pipe", "*net.pipe is not a unix socket connection", pipeA},
		{"tcp", "*net.TCPConn is not a unix socket connection", tcp},
		{"closed unix conn", "peer credentials: ", closedServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PeerOf(tc.conn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("PeerOf = %+v, %v; want an error containing %q", p, err, tc.want)
			}
			if p.UID != 0 || p.GID != 0 || p.PID != 0 || p.Groups != nil {
				t.Errorf("PeerOf returned %+v with its error, want the zero Peer", p)
			}
		})
	}
}

func TestPeerString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		peer Peer
		want string
	}{
		// No account has this uid; the name is left out, not guessed.
		{"unknown uid", Peer{UID: 3999999999, PID: 4242}, "uid=3999999999 pid=4242"},
		{"unknown pid", Peer{UID: 3999999999}, "uid=3999999999"},
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		tests = append(tests, struct {
			name string
			peer Peer
			want string
		}{"root", Peer{UID: 0, GID: 0, PID: 1}, "uid=0(root) pid=1"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.peer.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPeerNameCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var userLookups, groupLookups []uint32
	users := map[uint32]string{1000: "alice", 1001: "bob"}
	groups := map[uint32]string{1000: "staff"}
	c := newPeerNameCache(func() time.Time { return now },
		func(id uint32) string { userLookups = append(userLookups, id); return users[id] },
		func(id uint32) string { groupLookups = append(groupLookups, id); return groups[id] })

	steps := []struct {
		name        string
		advance     time.Duration
		rename      string // new name for uid 1000 before the step
		group       bool
		id          uint32
		want        string
		wantLookups int // user or group lookups so far
	}{
		{name: "first ask looks up", id: 1000, want: "alice", wantLookups: 1},
		{name: "second ask is cached", id: 1000, want: "alice", wantLookups: 1},
		{name: "unknown id", id: 4000, want: "", wantLookups: 2},
		{name: "a miss is cached too", id: 4000, want: "", wantLookups: 2},
		{name: "groups are their own namespace", group: true, id: 1000, want: "staff", wantLookups: 1},
		{name: "group cached", group: true, id: 1000, want: "staff", wantLookups: 1},
		{name: "renamed account within the ttl keeps the old name", rename: "alice2", advance: peerNameTTL - time.Second, id: 1000, want: "alice", wantLookups: 2},
		{name: "after the ttl the new name shows", advance: time.Second, id: 1000, want: "alice2", wantLookups: 3},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if s.rename != "" {
			users[1000] = s.rename
		}
		var got string
		var lookups int
		if s.group {
			got, lookups = c.group(s.id), len(groupLookups)
		} else {
			got, lookups = c.user(s.id), len(userLookups)
		}
		if got != s.want || lookups != s.wantLookups {
			t.Errorf("%s: name %q after %d lookups, want %q after %d", s.name, got, lookups, s.want, s.wantLookups)
		}
	}

	// The cache stays bounded: a flood of ids starts it over.
	for id := range uint32(peerNameMax + 10) {
		c.user(10000 + id)
	}
	if n := len(c.users); n > peerNameMax {
		t.Errorf("cache holds %d users, want at most %d", n, peerNameMax)
	}
}
