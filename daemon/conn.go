package daemon

import (
	"context"
	"errors"
	"net"
	"sync"

	"github.com/credbroker/credbroker/peercred"
)

// peerKey carries the caller's Peer (or why it is unknown) in a
// connection's context.
type peerKey struct{}

type peerInfo struct {
	peer peercred.Peer
	err  error
	// exe is the peer's executable, read once per connection, when the
	// first audit record needs it (not for every record).
	exeOnce sync.Once
	exe     string
}

func (pi *peerInfo) executable() string {
	pi.exeOnce.Do(func() { pi.exe = pi.peer.Executable() })
	return pi.exe
}

// withPeer is the http.Server's ConnContext: the kernel's word on who is
// connected, taken once per connection.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*slotConn); ok {
		c = sc.Conn
	}
	p, err := peercred.PeerOf(c)
	return context.WithValue(ctx, peerKey{}, &peerInfo{peer: p, err: err})
}

func peerFrom(ctx context.Context) (*peerInfo, error) {
	pi, ok := ctx.Value(peerKey{}).(*peerInfo)
	if !ok {
		return nil, errors.New("no peer credentials on this connection")
	}
	return pi, pi.err
}

// limitListener caps concurrent connections: Accept waits for a free slot.
func limitListener(l net.Listener, n int) net.Listener {
	return &limited{Listener: l, slots: make(chan struct{}, n)}
}

type limited struct {
	net.Listener
	slots chan struct{}
}

func (l *limited) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
}

type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
