package daemon

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/credbroker/credbroker/peercred"
)

// TestAdmission: one local user cannot starve the others of connection
// slots: a uid that no access rule could grant anything is answered and
// closed at once, health requests included, without taking a slot; one
// that holds its share is refused its next connection, and gets it back
// when it closes one; the daemon's own user and other users still get
// theirs.
func TestAdmission(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "cba")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	raw, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	// Who connects next, as the test says (all connections are this
	// process's, so the kernel's answer cannot tell them apart).
	var mu sync.Mutex
	var next uint32
	as := func(uid uint32) { mu.Lock(); next = uid; mu.Unlock() }
	adm := &admission{owner: 1000, perUID: 3,
		mayGrant: func(p peercred.Peer) bool { return p.UID != 6666 }, // 6666: no rule names it
		peerOf: func(net.Conn) (peercred.Peer, error) {
			mu.Lock()
			defer mu.Unlock()
			return peercred.Peer{UID: next}, nil
		}}
	l := limitListener(raw, 8, adm)
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func(uid uint32) net.Conn {
		t.Helper()
		as(uid)
		c, err := net.Dial("unix", filepath.Join(dir, "s"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	refused := func(c net.Conn, status, want string) {
		t.Helper()
		br := bufio.NewReader(c)
		line, _ := br.ReadString('\n')
		rest, _ := io.ReadAll(br)
		if !strings.HasPrefix(line, "HTTP/1.1 "+status) || !strings.Contains(string(rest), want) {
			t.Fatalf("refusal = %q %q, want %s saying %q", line, rest, status, want)
		}
	}

	refused(dial(6666), "403", `{"code":"forbidden","message":"no access rule could grant uid 6666 anything","hint":"ask the daemon's owner`)
	var bobs []net.Conn
	for range 3 {
		dial(1001)
		bobs = append(bobs, <-accepted)
	}
	// Its share held, it is told to try again soon (clients do).
	refused(dial(1001), "429", `{"code":"throttled","message":"uid 1001 holds 3 connections to this daemon already (close some): try again in 100ms","hint":"the daemon serves each local user a share`)
	// The others still get theirs: the owner, and another user.
	dial(1000)
	<-accepted
	dial(1002)
	<-accepted
	// A closed connection gives bob his slot back.
	bobs[0].Close()
	dial(1001)
	if c := <-accepted; c == nil {
		t.Fatal("bob's connection after closing one was not accepted")
	}
}
