package wire

import (
	"bytes"
	"io"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the timer's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSayAfter: a wait shorter than a second is silent; a longer one is
// said once, as it happens (before it ends).
func TestSayAfter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var w lockedBuffer
		stop := SayAfter(SlowAfter, &w, "credbroker: waiting for STS")
		time.Sleep(900 * time.Millisecond)
		if stop() || w.String() != "" {
			t.Fatalf("a short wait said %q", w.String())
		}
		stop = SayAfter(SlowAfter, &w, "credbroker: waiting for STS")
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if w.String() != "credbroker: waiting for STS\n" {
			t.Fatalf("during a long wait: %q", w.String())
		}
		if !stop() || w.String() != "credbroker: waiting for STS\n" {
			t.Fatalf("after it: %q", w.String())
		}
	})
}

// TestSayAfterNotToAPipe: an SDK's pipe hears nothing, however long the
// wait.
func TestSayAfterNotToAPipe(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	synctest.Test(t, func(t *testing.T) {
		stop := SayAfter(SlowAfter, w, "credbroker: waiting")
		time.Sleep(2 * SlowAfter) // the bubble's clock: far past the second
		synctest.Wait()
		if stop() {
			t.Fatal("a pipe was told")
		}
		// Nor asks the daemon for the waits it would not say.
		if onWait, stop := SayWaits(SlowAfter, w, "credbroker: waiting"); onWait != nil || stop() {
			t.Fatal("SayWaits to a pipe hears waits")
		}
	})
	w.Close()
	if data, _ := io.ReadAll(r); len(data) != 0 {
		t.Fatalf("the pipe got %q", data)
	}
}

// TestSayWaits: what the daemon says it waits for replaces the generic
// line at the second, with the time left then; a wait it reports after
// that is said at once; a short request says nothing.
func TestSayWaits(t *testing.T) {
	t.Parallel()
	const device = "arn:aws:iam::123456789012:mfa/alice"
	synctest.Test(t, func(t *testing.T) {
		var w lockedBuffer
		onWait, stop := SayWaits(SlowAfter, &w, "credbroker: waiting for credentials")
		time.Sleep(200 * time.Millisecond)
		onWait("the next MFA code of "+device, 17*time.Second)
		time.Sleep(time.Second)
		synctest.Wait()
		want := "credbroker: waiting 16 s for the next MFA code of " + device + "\n"
		if w.String() != want {
			t.Fatalf("at the second: %q, want %q", w.String(), want)
		}
		// The same wait told again, a moment later: said once.
		time.Sleep(300 * time.Millisecond)
		onWait("the next MFA code of "+device, 15700*time.Millisecond)
		if w.String() != want {
			t.Fatalf("the same wait told again: %q, want %q", w.String(), want)
		}
		onWait("a retry against STS at http://127.0.0.1:1 (attempt 1: Throttling)", 700*time.Millisecond)
		want += "credbroker: waiting 0.7 s for a retry against STS at http://127.0.0.1:1 (attempt 1: Throttling)\n"
		if !stop() || w.String() != want {
			t.Fatalf("after a retry: %q, want %q", w.String(), want)
		}

		var quiet lockedBuffer
		onWait, stop = SayWaits(SlowAfter, &quiet, "credbroker: waiting for credentials")
		onWait("the next MFA code of "+device, 5*time.Second)
		time.Sleep(500 * time.Millisecond)
		if stop() || quiet.String() != "" {
			t.Fatalf("a short request said %q", quiet.String())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if quiet.String() != "" {
			t.Fatalf("after stop: %q", quiet.String())
		}
	})
}
