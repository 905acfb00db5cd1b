package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// waitingCodes makes a code only once released, saying first that it
// waits for the device's next time step (as the broker's generator does
// when the current step's code was used).
type waitingCodes struct {
	release chan struct{}
	wait    time.Duration
}

func (c *waitingCodes) Code(ctx context.Context, chain *profile.RoleChain) (string, error) {
	broker.ReportWait(ctx, broker.Wait{What: "the next MFA code of " + chain.MFASerial, Until: time.Now().Add(c.wait)})
	select {
	case <-c.release:
		return "123456", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *waitingCodes) Unattended(*profile.RoleChain) bool { return true }

// heard collects what a client was told it waits for.
type heard struct {
	mu    sync.Mutex
	lines []string
	first chan struct{}
}

func newHeard() *heard { return &heard{first: make(chan struct{})} }

func (h *heard) onWait(what string, wait time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, wire.WaitLine(what, wait))
	if len(h.lines) == 1 {
		close(h.first)
	}
}

func (h *heard) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// TestDaemonSaysWhatItWaitsFor: callers of a refresh that waits for the
// next MFA time step hear it, with the device and how long, before their
// answer: the one that started it as the wait begins, one that comes
// later at once; the answer itself is the usual credential_process JSON.
func TestDaemonSaysWhatItWaitsFor(t *testing.T) {
	t.Parallel()
	codes := &waitingCodes{release: make(chan struct{}), wait: 17 * time.Second}
	h := newDaemonHarness(t, "", func(s *setup) { s.owner, s.codes = uint32(os.Getuid()), codes })
	socket := serveOnSocket(t, h)
	const want = "credbroker: waiting 17 s for the next MFA code of arn:aws:iam::123456789012:mfa/alice"

	type answer struct {
		body []byte
		err  error
	}
	ask := func(ears *heard) <-chan answer {
		c := wire.NewClient(socket)
		c.OnWait = ears.onWait
		ch := make(chan answer, 1)
		go func() {
			body, err := c.Credentials(context.Background(), "prod")
			ch <- answer{body, err}
		}()
		return ch
	}
	first, late := newHeard(), newHeard()
	a1 := ask(first)
	await(t, first.first, "the first caller to hear of the wait") // as the refresh begins it
	a2 := ask(late)
	await(t, late.first, "a caller that came during the wait to hear of it")
	close(codes.release)
	for _, a := range []answer{<-a1, <-a2} {
		if a.err != nil || !strings.HasPrefix(string(a.body), `{"Version":1,`) {
			t.Fatalf("answer %q, %v", a.body, a.err)
		}
	}
	for name, ears := range map[string]*heard{"first": first, "late": late} {
		got := ears.got()
		if len(got) != 1 || (got[0] != want && got[0] != strings.Replace(want, "17 s", "16 s", 1)) {
			t.Errorf("%s caller heard %q, want %q", name, got, want)
		}
	}
}

// await fails the test if ch is not closed within 10 s.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("waited 10 s for %s", what)
	}
}

// TestStatusShowsClockSkewToTheOwner: STS's Date header 20 minutes ahead
// is shown in status to the daemon's own user, as this clock behind;
// another user's status (with a rule that grants it the profile) does
// not have it.
func TestStatusShowsClockSkewToTheOwner(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Date", time.Now().Add(20*time.Minute).UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	}))
	t.Cleanup(srv.Close)
	h := newDaemonHarness(t, "[profile skewed]\nregion = us-east-1\nendpoint_url = "+srv.URL+"\n[access bob]\nusers = bob\nprofiles = *\neffect = allow\n",
		func(s *setup) { s.realSTS = true })
	if err := h.keys.PutAccessKey("skewed", keystore.AccessKey{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
		t.Fatal(err)
	}
	status := func(peer peercred.Peer) wire.Status {
		var st wire.Status
		if rec := h.get(peer, wire.PathStatus); rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &st) != nil {
			t.Fatalf("status: %d %s", rec.Code, rec.Body)
		}
		return st
	}
	if st := status(alice); st.ClockSkew != nil {
		t.Fatalf("a clock skew before STS answered: %+v", st.ClockSkew)
	}
	if rec := h.get(alice, wire.PathCredentials+"?profile=skewed"); rec.Code == http.StatusOK {
		t.Fatalf("credentials from a denying STS: %s", rec.Body)
	}
	sk := status(alice).ClockSkew
	if sk == nil || sk.Endpoint != srv.URL || sk.Seconds < 20*60-2 || sk.Seconds > 20*60+2 {
		t.Fatalf("owner's status: clock skew %+v, want 1200 s from %s", sk, srv.URL)
	}
	if st := status(peercred.Peer{UID: 1001, GID: 1001, PID: 7}); st.ClockSkew != nil {
		t.Errorf("another user's status shows the clock skew: %+v", st.ClockSkew)
	}
}

// TestWaitNotesOnlyToClientsThatReadThem: a request without
// wire.HeaderAcceptWaits (a client older than interim answers, which
// would take a 102 for its answer) is told nothing before its answer.
func TestWaitNotesOnlyToClientsThatReadThem(t *testing.T) {
	t.Parallel()
	wt := broker.Wait{What: "the next MFA code of arn:aws:iam::123456789012:mfa/alice", Until: time.Now().Add(17 * time.Second)}
	old := httptest.NewRecorder()
	if notes := waitNotes(old, httptest.NewRequest("GET", "/v1/credentials?profile=prod", nil)); notes != nil {
		t.Fatal("a client that did not ask for interim answers would be sent them")
	}
	r := httptest.NewRequest("GET", "/v1/credentials?profile=prod", nil)
	r.Header.Set(wire.HeaderAcceptWaits, "1")
	rec := httptest.NewRecorder()
	notes := waitNotes(rec, r)
	if notes == nil {
		t.Fatal("a client that reads interim answers is told nothing")
	}
	notes(wt)
	if rec.Code != wire.StatusWaiting {
		t.Fatalf("status %d after a wait note, want %d", rec.Code, wire.StatusWaiting)
	}
}

// TestDroppedStateSchedulesNothing: a state replaced (its session policy
// changed) while its refresh ran schedules no refresh-ahead when that
// refresh finishes; a live one does.
func TestDroppedStateSchedulesNothing(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "")
	now := time.Now()
	res := broker.Result{Entry: cache.Entry{Credentials: cache.Credentials{AccessKeyID: "ASIAX", Expires: now.Add(time.Hour)}, Issued: now}}
	live, gone := &profileState{key: "live", name: "prod"}, &profileState{key: "gone", name: "prod"}
	h.d.states.Store(live.key, live)
	h.d.states.Store(gone.key, gone)
	h.d.dropState(gone.key)
	for _, s := range []*profileState{live, gone} {
		h.d.record(s, res, nil, h.d.gen.Load())
	}
	live.mu.Lock()
	scheduled := live.timer != nil
	live.stopTimer()
	live.mu.Unlock()
	gone.mu.Lock()
	defer gone.mu.Unlock()
	if !scheduled || gone.timer != nil {
		t.Fatalf("refresh-ahead scheduled: live %v, dropped %v; want true, false", scheduled, gone.timer != nil)
	}
	if _, ok := h.d.states.Load(gone.key); ok {
		t.Fatal("the dropped state is still served")
	}
}
