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
	})
	w.Close()
	if data, _ := io.ReadAll(r); len(data) != 0 {
		t.Fatalf("the pipe got %q", data)
	}
}
