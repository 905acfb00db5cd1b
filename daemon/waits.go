package daemon

import (
	"net/http"
	"sync"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/wire"
)

// waitBoard is what a profile's refresh waits for at the moment (the next
// MFA time step, a retry against STS), for the callers waiting on it to
// hear as interim answers.
type waitBoard struct {
	mu      sync.Mutex
	cur     *broker.Wait
	changed chan struct{} // closed when cur changes
}

// set says the refresh now waits for w.
func (b *waitBoard) set(w broker.Wait) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cur = &w
	b.notify()
}

// clear says the refresh waits for nothing any more.
func (b *waitBoard) clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cur = nil
	b.notify()
}

func (b *waitBoard) notify() {
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
}

// watch returns the current wait (nil for none) and a channel closed when
// it changes.
func (b *waitBoard) watch() (*broker.Wait, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.cur, b.changed
}

// maxQuietSkew: a clock further than this from STS's is shown in status
// (to the daemon's own user). STS refuses signatures 5 minutes off.
const maxQuietSkew = time.Minute

// waitNotes tells a request's caller what it waits for as interim answers
// (wire.StatusWaiting) written to w, at most wire.MaxWaitNotes of them;
// nil when the request does not say it reads them (an older client, which
// would take the first interim answer for the final one). Only the
// request's own goroutine may call it.
func waitNotes(w http.ResponseWriter, r *http.Request) func(broker.Wait) {
	if r.Header.Get(wire.HeaderAcceptWaits) == "" {
		return nil
	}
	n := 0
	return func(wt broker.Wait) {
		left := time.Until(wt.Until)
		if n >= wire.MaxWaitNotes || left <= 0 {
			return // a wait that is over is not news
		}
		n++
		h := w.Header()
		h.Set(wire.HeaderWaitFor, wt.What)
		h.Set(wire.HeaderWaitSeconds, wire.FormatWaitSeconds(left))
		w.WriteHeader(wire.StatusWaiting)
		// An interim answer's headers stay in the map: not in the final one.
		h.Del(wire.HeaderWaitFor)
		h.Del(wire.HeaderWaitSeconds)
	}
}
