package daemon

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/wire"
)

// What one local user (uid) other than the daemon's own can have of the
// daemon at most, so that it cannot starve the others or fill their disks.
// The daemon's own user is not limited: it owns the keys and can stop the
// daemon anyway, and its own herd of SDK processes must never be refused.
const (
	// perUIDRequestRate and perUIDRequestBurst: a token bucket of requests
	// per uid. A herd of a uid's processes started together is served at
	// once up to the burst, the rest a moment later (the clients wait as
	// the answer says and ask again); a loop is held to the rate.
	perUIDRequestRate  = 20 // a second
	perUIDRequestBurst = 40
	// maxLogLinesPerMinute is how many lines of the daemon's own log one
	// uid's requests may cause a minute; past it they are counted, and a
	// summary line says how many were left out when the minute ends.
	maxLogLinesPerMinute = 60
	// slotRetryAfter is what a caller that holds its share of connections
	// is told to wait before it tries again.
	slotRetryAfter = 100 * time.Millisecond
)

// requestRate is one token bucket of requests per uid, kept as the time
// its bucket will be full again (the generic cell rate algorithm): exact in
// integer time, one value per uid.
type requestRate struct {
	// interval is the time one request takes to come back; burst
	// requests at once are allowed from a full bucket.
	interval time.Duration
	burst    int

	mu   sync.Mutex
	full map[uint32]time.Time
}

func newRequestRate(perSecond, burst int) *requestRate {
	return &requestRate{interval: time.Second / time.Duration(perSecond), burst: burst, full: map[uint32]time.Time{}}
}

// take takes a request of uid at now from its bucket; when the bucket is
// empty it takes nothing and says how long until it holds one again.
func (r *requestRate) take(uid uint32, now time.Time) (wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	full, ok := r.full[uid]
	if !ok && len(r.full) >= maxResolutions {
		r.pruneFull(now)
	}
	if full.Before(now) {
		full = now
	}
	// The bucket holds burst - (full-now)/interval requests.
	if over := full.Sub(now) - time.Duration(r.burst-1)*r.interval; over > 0 {
		return over
	}
	r.full[uid] = full.Add(r.interval)
	return 0
}

// pruneFull drops the buckets that have filled up again: a full bucket is
// what a uid not seen yet gets, so nothing is lost.
func (r *requestRate) pruneFull(now time.Time) {
	for uid, full := range r.full {
		if !full.After(now) {
			delete(r.full, uid)
		}
	}
}

// throttledError: a uid asked more than its share.
type throttledError struct {
	uid  uint32
	why  string
	wait time.Duration
}

func (e *throttledError) Error() string {
	return fmt.Sprintf("uid %d %s: try again in %s", e.uid, e.why, e.wait.Round(time.Millisecond))
}

// Is makes errors.Is(err, wire.ErrThrottled) work.
func (e *throttledError) Is(target error) bool { return target == wire.ErrThrottled }

// uidBudget lets each uid have at most perMinute of something (audit
// records of refusals, log lines) in a minute that starts with its first
// one; the rest are counted, and when a minute in which some were left out
// ends, summary is called with how many.
type uidBudget struct {
	perMinute int
	summary   func(uid uint32, suppressed int)

	mu   sync.Mutex
	uids map[uint32]*budgetWindow
}

type budgetWindow struct {
	start      time.Time
	used       int
	suppressed int
	// flush says the suppressed count when the window ends; set with the
	// first one suppressed.
	flush *time.Timer
}

// admit reports whether uid may have one more now.
func (b *uidBudget) admit(uid uint32) bool {
	now := time.Now()
	b.mu.Lock()
	w := b.uids[uid]
	var ended *budgetWindow
	if w == nil || now.Sub(w.start) >= time.Minute {
		if w != nil && w.flush != nil && w.flush.Stop() {
			ended = w // its summary is said here, before what follows it
		}
		if b.uids == nil {
			b.uids = map[uint32]*budgetWindow{}
		}
		if len(b.uids) >= maxResolutions {
			b.pruneEnded(now)
		}
		w = &budgetWindow{start: now}
		b.uids[uid] = w
	}
	ok := w.used < b.perMinute
	if ok {
		w.used++
	} else {
		if w.suppressed == 0 {
			w.flush = time.AfterFunc(w.start.Add(time.Minute).Sub(now), func() { b.flushWindow(uid, w) })
		}
		w.suppressed++
	}
	n := 0
	if ended != nil {
		n, ended.suppressed = ended.suppressed, 0
	}
	b.mu.Unlock()
	if n > 0 {
		b.summary(uid, n)
	}
	return ok
}

// flushWindow says how many of uid's were left out in window w, once it
// has ended.
func (b *uidBudget) flushWindow(uid uint32, w *budgetWindow) {
	b.mu.Lock()
	n := w.suppressed
	w.suppressed = 0
	b.mu.Unlock()
	if n > 0 {
		b.summary(uid, n)
	}
}

// pruneEnded drops the windows that have ended with nothing left to say.
func (b *uidBudget) pruneEnded(now time.Time) {
	for uid, w := range b.uids {
		if now.Sub(w.start) >= time.Minute && w.suppressed == 0 {
			delete(b.uids, uid)
		}
	}
}

// throttled answers a request of another user whose uid has used up its
// request rate, and reports whether it did. actions are the endpoints'
// names, for the audit record.
func (d *Daemon) throttled(w http.ResponseWriter, r *http.Request, actions map[string]bool) bool {
	pi, err := peerFrom(r.Context())
	if err != nil || pi.peer.UID == d.opts.Owner {
		return false // an unknown caller is refused by each endpoint
	}
	wait := d.rate.take(pi.peer.UID, time.Now())
	if wait == 0 {
		return false
	}
	te := &throttledError{uid: pi.peer.UID, wait: wait,
		why: fmt.Sprintf("sends more than %d requests a second to this daemon", perUIDRequestRate)}
	action := strings.TrimPrefix(r.URL.Path, "/v1/")
	if !actions[action] {
		action = "request" // not the caller's text: it could be 8 KiB long
	}
	d.audit(pi, AuditRecord{Action: action, Decision: "deny", Reason: te.Error()})
	d.log.Warn("throttled", append(d.callerAttrs(pi), "action", action, "retry_after", wait)...)
	writeThrottled(w, te)
	return true
}

// throttledBody is the answer to a throttled caller, from the error
// table's row, with when to ask again.
func throttledBody(te *throttledError) wire.ErrorBody {
	msg, hint, code := broker.Explain(te)
	ms := (te.wait + time.Millisecond - 1) / time.Millisecond
	return wire.ErrorBody{Code: code, Message: msg, Hint: hint, RetryAfterMS: int64(max(ms, 1))}
}

func writeThrottled(w http.ResponseWriter, te *throttledError) {
	w.Header().Set("Retry-After", strconv.Itoa(int((te.wait+time.Second-1)/time.Second)))
	writeError(w, broker.ClassOf(te).HTTPStatus, throttledBody(te))
}

// flushAll says what every window left out so far, ending them: the
// daemon is stopping, and a summary due at the end of the minute would be
// lost.
func (b *uidBudget) flushAll() {
	type due struct {
		uid uint32
		n   int
	}
	var dues []due
	b.mu.Lock()
	for uid, w := range b.uids {
		if w.flush != nil {
			w.flush.Stop()
		}
		if w.suppressed > 0 {
			dues = append(dues, due{uid, w.suppressed})
		}
		delete(b.uids, uid)
	}
	b.mu.Unlock()
	for _, d := range dues {
		b.summary(d.uid, d.n)
	}
}
