package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/credbroker/credbroker/wire"
)

// TestRequestRate: another uid is served its burst at once, then one
// request every 1/rate seconds, and told exactly when to ask again
// (throttled, from the error table, with retry_after_ms); the daemon's own
// user is never throttled; another uid's bucket is its own.
func TestRequestRate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newDaemonHarness(t, "[access all]\nusers = bob, 1002\nprofiles = plain\neffect = allow\n")
		bob, carol := alice, alice
		bob.UID, carol.UID = 1001, 1002
		for i := range perUIDRequestBurst {
			if rec := h.get(bob, wire.PathHealth); rec.Code != http.StatusOK {
				t.Fatalf("bob's request %d of the burst: HTTP %d", i+1, rec.Code)
			}
		}
		rec := h.get(bob, wire.PathCredentials+"?profile=plain")
		var de wire.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &de); err != nil || rec.Code != http.StatusTooManyRequests ||
			de.Code != wire.CodeThrottled || de.RetryAfterMS != 1000/perUIDRequestRate || de.Hint == "" ||
			de.Message != "uid 1001 sends more than 20 requests a second to this daemon: try again in 50ms" || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("past the burst: HTTP %d %s", rec.Code, rec.Body)
		}
		// The others are served meanwhile: the owner without limit,
		// carol from her own bucket.
		for range 3 * perUIDRequestBurst {
			if rec := h.get(alice, wire.PathHealth); rec.Code != http.StatusOK {
				t.Fatalf("the owner: HTTP %d", rec.Code)
			}
		}
		decodeCreds(t, h.get(carol, wire.PathCredentials+"?profile=plain"))
		// When the answer said, bob gets one more, and not two.
		time.Sleep(time.Duration(de.RetryAfterMS) * time.Millisecond)
		decodeCreds(t, h.get(bob, wire.PathCredentials+"?profile=plain"))
		if rec := h.get(bob, wire.PathHealth); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("a second request after one token: HTTP %d", rec.Code)
		}
		// A loop is held to the rate: over 10 s, 20 a second.
		served := 0
		for range 10 * 1000 / 5 {
			time.Sleep(5 * time.Millisecond)
			if h.get(bob, wire.PathHealth).Code == http.StatusOK {
				served++
			}
		}
		if served != 10*perUIDRequestRate {
			t.Fatalf("%d requests served in 10 s of a loop, want %d", served, 10*perUIDRequestRate)
		}
	})
}

// TestRequestRateForgetsIdleUIDs: the buckets kept are bounded; a pruned
// one is a full one, as a uid not seen yet gets.
func TestRequestRateForgetsIdleUIDs(t *testing.T) {
	t.Parallel()
	r := newRequestRate(1, 2)
	now := time.Unix(0, 0)
	for uid := range uint32(maxResolutions) {
		r.take(uid, now)
	}
	r.take(7, now)
	if w := r.take(7, now); w != time.Second {
		t.Fatalf("uid 7's third request at once: wait %s, want 1s", w)
	}
	// 2 s later every bucket is full again: a new uid's makes room.
	r.take(maxResolutions, now.Add(2*time.Second))
	if n := len(r.full); n != 1 {
		t.Fatalf("%d buckets kept, want 1", n)
	}
}

// TestDenialsAuditedUpToARate: a uid hammering the daemon with requests
// it is refused (past its rate too) adds at most maxDenialsPerMinute
// records a minute to the audit log, plus one that counts the rest when
// the minute ends, each under 500 bytes; the daemon's own user's
// refusals and every grant are all recorded.
func TestDenialsAuditedUpToARate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newDaemonHarness(t, "[access bob]\nusers = bob\nprofiles = plain\neffect = allow\n[access no]\nusers = alice\nprofiles = direct\neffect = deny\n")
		bob := alice
		bob.UID = 1001
		size := func() int64 {
			synctest.Wait() // the audit writer has written what it was given
			fi, err := os.Stat(h.audit)
			if err != nil {
				t.Fatal(err)
			}
			return fi.Size()
		}
		const minutes, perSecond = 3, 200
		var before int64
		for m := range minutes {
			refused, throttled := 0, 0
			for range 60 * perSecond {
				switch h.get(bob, "/v1/credentials?profile=prod").Code {
				case http.StatusForbidden:
					refused++
				case http.StatusTooManyRequests:
					throttled++
				default:
					t.Fatal("bob was given prod")
				}
				time.Sleep(time.Second / perSecond)
			}
			time.Sleep(time.Second) // the window's end, and its summary
			data, err := os.ReadFile(h.audit)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data[before:])), "\n")
			grew := size() - before
			before += grew
			summaries := strings.Count(string(data[len(data)-int(grew):]), "were not recorded in the minute before")
			if len(lines) != maxDenialsPerMinute+1 || summaries != 1 || grew > (maxDenialsPerMinute+1)*500 {
				t.Fatalf("minute %d: %d refused, %d throttled; the audit log grew %d lines (%d summaries), %d bytes; want %d lines, 1 summary, at most %d bytes",
					m+1, refused, throttled, len(lines), summaries, grew, maxDenialsPerMinute+1, (maxDenialsPerMinute+1)*500)
			}
			want := 60*perSecond - maxDenialsPerMinute
			if !strings.Contains(lines[len(lines)-1], `"uid":1001,`) || !strings.Contains(lines[len(lines)-1], `"reason":"`+strconv.Itoa(want)+" more refusals") {
				t.Fatalf("minute %d: summary %s, want %d more", m+1, lines[len(lines)-1], want)
			}
			t.Logf("minute %d: %d requests refused, %d throttled; the audit log grew %d bytes", m+1, refused, throttled, grew)
		}
		// The owner's refusals, and grants, are all recorded.
		time.Sleep(2 * time.Second) // bob's bucket fills up again
		for range 2 * maxDenialsPerMinute {
			h.get(alice, "/v1/credentials?profile=direct")
		}
		for range perUIDRequestBurst {
			decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))
		}
		synctest.Wait()
		data, _ := os.ReadFile(h.audit)
		tail := string(data[before:])
		if d, g := strings.Count(tail, `"uid":1000,`), strings.Count(tail, `"decision":"grant"`); d != 2*maxDenialsPerMinute || g != perUIDRequestBurst {
			t.Fatalf("%d of the owner's refusals and %d grants recorded, want %d and %d", d, g, 2*maxDenialsPerMinute, perUIDRequestBurst)
		}
	})
}

// lineRecorder is a slog handler keeping every line.
type lineRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineRecorder) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	_ = slog.NewTextHandler(&b, nil).Handle(context.Background(), r)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, b.String())
	return nil
}
func (l *lineRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lineRecorder) WithGroup(string) slog.Handler      { return l }

func (l *lineRecorder) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}

// TestLogLinesCappedPerUID: the daemon's own log gets at most
// maxLogLinesPerMinute lines a minute caused by one other uid (refused,
// throttled), then one line saying how many were left out; the owner's
// lines and another uid's are not held back by it.
func TestLogLinesCappedPerUID(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newDaemonHarness(t, "[access bob]\nusers = bob, 1002\nprofiles = plain\neffect = allow\n[access no]\nusers = alice\nprofiles = direct\neffect = deny\n")
		rec := &lineRecorder{}
		h.d.log = slog.New(newUIDLogHandler(rec, maxLogLinesPerMinute))
		bob, carol := alice, alice
		bob.UID, carol.UID = 1001, 1002
		for range 1000 {
			h.get(bob, "/v1/credentials?profile=prod")
		}
		h.get(carol, "/v1/credentials?profile=prod")
		for range 100 {
			h.get(alice, "/v1/credentials?profile=direct")
		}
		if n := rec.count("uid=1001"); n != maxLogLinesPerMinute {
			t.Fatalf("%d lines of bob's in a minute, want %d", n, maxLogLinesPerMinute)
		}
		if n, o := rec.count("uid=1002"), rec.count("peer=\"uid=1000"); n != 1 || o != 100 {
			t.Fatalf("%d lines of carol's and %d of the owner's, want 1 and 100", n, o)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := rec.count("msg=\"log lines left out\" uid=1001 suppressed=940 per_minute=60"); n != 1 {
			t.Fatalf("no summary of bob's left-out lines: %q", rec.lines[len(rec.lines)-1])
		}
		// A new minute, a new share.
		h.get(bob, "/v1/credentials?profile=prod")
		if n := rec.count("uid=1001"); n != maxLogLinesPerMinute+2 {
			t.Fatalf("%d lines of bob's after a minute, want %d", n, maxLogLinesPerMinute+2)
		}
	})
}

// TestBudgetFlushAll: a daemon that stops says what its limits left out
// in the minute so far, once.
func TestBudgetFlushAll(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var said []string
		b := &uidBudget{perMinute: 2, summary: func(uid uint32, n int) { said = append(said, strconv.Itoa(int(uid))+":"+strconv.Itoa(n)) }}
		for range 5 {
			b.admit(7)
		}
		b.admit(8)
		b.flushAll()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if strings.Join(said, ",") != "7:3" {
			t.Fatalf("summaries %q, want 7:3 once", said)
		}
	})
}

// BenchmarkThrottledRequest is what a request past its uid's rate costs
// the daemon (the handler's part, without the socket): the work a uid
// hammering the socket can make it do (20 a second of them are let
// through, and refused, as the bucket refills). Target: under 10 µs, so that one
// core answers 100 000 of them a second and the others are still served.
func BenchmarkThrottledRequest(b *testing.B) {
	h := newDaemonHarness(b, "[access bob]\nusers = bob\nprofiles = plain\neffect = allow\n")
	bob := alice
	bob.UID = 1001
	for range perUIDRequestBurst {
		h.get(bob, wire.PathHealth)
	}
	handler := h.d.Handler()
	req := httptest.NewRequest(http.MethodGet, "http://credbroker/v1/credentials?profile=prod", nil)
	req = req.WithContext(context.WithValue(req.Context(), peerKey{}, &peerInfo{peer: bob}))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusTooManyRequests && rec.Code != http.StatusForbidden {
			b.Fatalf("HTTP %d", rec.Code)
		}
	}
}
