package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/wire"
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
// connected, taken once per connection (by the listener, see admit).
func withPeer(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*slotConn); ok {
		return context.WithValue(ctx, peerKey{}, &peerInfo{peer: sc.peer, err: sc.peerErr})
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

// perUIDConnections is how many connections one uid other than the
// daemon's own may hold at once: enough for a herd of its processes (each
// holds one for a moment), far from the listener's maxConnections, so that
// one local user cannot starve the others.
const perUIDConnections = 32

// admission decides who gets a connection slot.
type admission struct {
	owner  uint32
	perUID int
	// mayGrant says whether any access rule could grant peer anything.
	mayGrant func(peercred.Peer) bool
	peerOf   func(net.Conn) (peercred.Peer, error)

	mu   sync.Mutex
	held map[uint32]int
}

// limitListener caps concurrent connections (Accept waits for a free
// slot) and admits each caller as adm says: another user whom no rule
// could grant anything is answered and closed at once, and one that holds
// its share of connections is told to wait, without a slot either way.
func limitListener(l net.Listener, n int, adm *admission) net.Listener {
	if adm.held == nil {
		adm.held = map[uint32]int{}
	}
	if adm.peerOf == nil {
		adm.peerOf = peercred.PeerOf
	}
	return &limited{Listener: l, slots: make(chan struct{}, n), adm: adm}
}

type limited struct {
	net.Listener
	slots chan struct{}
	adm   *admission
}

func (l *limited) Accept() (net.Conn, error) {
	for {
		l.slots <- struct{}{}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		p, perr := l.adm.peerOf(c)
		release := func() { <-l.slots }
		if perr == nil && p.UID != l.adm.owner {
			if err := l.adm.take(p); err != nil {
				refuse(c, err)
				<-l.slots
				continue
			}
			uid := p.UID
			release = func() { l.adm.give(uid); <-l.slots }
		}
		return &slotConn{Conn: c, peer: p, peerErr: perr, release: release}, nil
	}
}

// take reserves a connection for peer, or says why not: a refusal
// (forbidden), or its share held already (throttled: try again soon).
func (a *admission) take(p peercred.Peer) error {
	if !a.mayGrant(p) {
		return &ungrantable{uid: p.UID}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held[p.UID] >= a.perUID {
		return &throttledError{uid: p.UID, wait: slotRetryAfter,
			why: fmt.Sprintf("holds %d connections to this daemon already (close some)", a.perUID)}
	}
	a.held[p.UID]++
	return nil
}

// ungrantable: no access rule could grant the caller anything.
type ungrantable struct{ uid uint32 }

func (e *ungrantable) Error() string {
	return fmt.Sprintf("no access rule could grant uid %d anything", e.uid)
}

// Hint says whom to ask.
func (e *ungrantable) Hint() string {
	return "ask the daemon's owner for an [access] rule that allows you a profile"
}

// Is makes errors.Is(err, broker.ErrForbidden) work.
func (e *ungrantable) Is(target error) bool { return target == broker.ErrForbidden }

func (a *admission) give(uid uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held[uid]--; a.held[uid] <= 0 {
		delete(a.held, uid)
	}
}

// refuse answers a connection it will not serve with err (its status,
// code and hint from the error table) and closes it, without reading the
// request or waiting on a caller that does not read.
func refuse(c net.Conn, err error) {
	var eb wire.ErrorBody
	var te *throttledError
	if errors.As(err, &te) {
		eb = throttledBody(te) // with when to ask again
	} else {
		msg, hint, code := broker.Explain(err)
		eb = wire.ErrorBody{Code: code, Message: msg, Hint: hint}
	}
	body, _ := json.Marshal(eb)
	status := broker.ClassOf(err).HTTPStatus
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n",
		status, http.StatusText(status), len(body)+1, body)
	_ = c.Close()
}

type slotConn struct {
	net.Conn
	peer    peercred.Peer
	peerErr error
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
