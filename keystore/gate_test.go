package keystore

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/99designs/keyring"
)

// stalledRing is a keyring whose Get blocks until release is closed, as
// keyring's secret-service backend does when its peer never replies.
type stalledRing struct {
	keyring.Keyring // an ArrayKeyring for everything else
	release         chan struct{}
	calls           atomic.Int32 // Gets that reached the backend
}

func (r *stalledRing) Get(key string) (keyring.Item, error) {
	r.calls.Add(1)
	<-r.release
	return r.Keyring.Get(key)
}

func newStalledStore(t *testing.T) (*Store, *stalledRing) {
	t.Helper()
	ring := &stalledRing{Keyring: keyring.NewArrayKeyring(nil), release: make(chan struct{})}
	s := New(ring)
	if err := s.Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}
	return s, ring
}

// TestHungKeyringAnswersWithinDeadline: a keyring call that never returns
// holds its caller DefaultCallTimeout, then the caller is told the keyring
// is not answering; callers that come while it hangs are told at once and
// start nothing in the backend; once it returns, calls work again.
func TestHungKeyringAnswersWithinDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, ring := newStalledStore(t)
		start := time.Now()
		_, err := s.Get(KindSession, "prod")
		var h interface{ Hint() string }
		if !errors.Is(err, ErrNotAnswering) || !errors.As(err, &h) || h.Hint() == "" {
			t.Fatalf("Get on a hung keyring: %v", err)
		}
		if waited := time.Since(start); waited != DefaultCallTimeout {
			t.Fatalf("the caller waited %s, want %s", waited, DefaultCallTimeout)
		}
		if !strings.Contains(err.Error(), `get session "prod": the keyring (custom) is not answering`) {
			t.Fatalf("message: %v", err)
		}

		// A herd while it hangs: each answered at once, none reaching
		// the backend (one goroutine in it, not one per caller).
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				start := time.Now()
				if _, err := s.Get(KindSession, "prod"); !errors.Is(err, ErrNotAnswering) || time.Since(start) != 0 {
					t.Errorf("caller during the hang: %v after %s", err, time.Since(start))
				}
				if err := s.Put(KindSession, "other", []byte("y")); !errors.Is(err, ErrNotAnswering) {
					t.Errorf("Put during the hang: %v", err)
				}
			})
		}
		wg.Wait()
		if n := ring.calls.Load(); n != 1 {
			t.Fatalf("%d calls reached the hung backend, want 1", n)
		}

		// The keyring answers again.
		close(ring.release)
		synctest.Wait()
		if got, err := s.Get(KindSession, "prod"); err != nil || string(got) != "x" {
			t.Fatalf("after the keyring answered: %q, %v", got, err)
		}
	})
}

// TestSlowKeyringCallersWait: callers that come while a call is slow (not
// yet past its deadline) wait for it with their own deadline, one call in
// the backend at a time.
func TestSlowKeyringCallersWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, ring := newStalledStore(t)
		results := make(chan error, 2)
		go func() { _, err := s.Get(KindSession, "prod"); results <- err }()
		synctest.Wait() // the first Get is in the backend
		go func() { _, err := s.Get(KindSession, "prod"); results <- err }()
		synctest.Wait() // the second waits for the slot
		time.Sleep(DefaultCallTimeout / 2)
		if n := ring.calls.Load(); n != 1 {
			t.Fatalf("%d calls in the backend at once", n)
		}
		close(ring.release)
		for range 2 {
			if err := <-results; err != nil {
				t.Fatalf("a caller of a slow keyring: %v", err)
			}
		}
	})
}

// TestUnlockHasLongerDeadline: Unlock (Argon2id, a migration) may take
// longer than an item's read, and is not cut short at DefaultCallTimeout.
func TestUnlockHasLongerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		release := make(chan struct{})
		done := make(chan error)
		go func() {
			done <- g.do("file", max(DefaultCallTimeout, unlockTimeout), func() error { <-release; return nil })
		}()
		time.Sleep(DefaultCallTimeout + time.Second)
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("a call shorter than its deadline: %v", err)
		}
	})
	// Unlock itself takes that deadline: it waits longer than
	// DefaultCallTimeout for a call ahead of it (its deadline counts the
	// wait for the slot too).
	dir := t.TempDir()
	if err := openFileStore(t, dir, testPassphrase).Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		s, err := Open(Config{Backend: "file", FileDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		ahead := make(chan error)
		go func() { ahead <- s.callWithin(time.Hour, func() error { <-release; return nil }) }()
		synctest.Wait() // the call ahead holds the slot
		go func() {
			time.Sleep(DefaultCallTimeout + time.Second)
			close(release)
		}()
		err = s.Unlock(testPassphrase)
		if aerr := <-ahead; aerr != nil {
			t.Error(aerr)
		}
		if err != nil {
			t.Fatalf("Unlock behind a call of %s: %v", DefaultCallTimeout+time.Second, err)
		}
	})
}

// TestFilePassphrasePromptNotTimed: a human who takes longer than the
// call timeout to type the file keyring's passphrase is not told the
// keyring is not answering: the prompt comes before the call's time runs.
// Config.Wait hears each call start and end; Config.CallTimeout is used.
func TestFilePassphrasePromptNotTimed(t *testing.T) {
	dir := t.TempDir()
	if err := openFileStore(t, dir, testPassphrase).Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		var started, stopped atomic.Int32
		s, err := Open(Config{Backend: "file", FileDir: dir, CallTimeout: 3 * time.Second,
			Passphrase: func(string) (string, error) {
				time.Sleep(time.Minute) // typing
				return testPassphrase, nil
			},
			Wait: func(backend string) func() {
				if backend != "file" {
					t.Errorf("Wait(%q)", backend)
				}
				started.Add(1)
				return func() { stopped.Add(1) }
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.timeout != 3*time.Second {
			t.Fatalf("timeout = %s", s.timeout)
		}
		if got, err := s.Get(KindSession, "prod"); err != nil || string(got) != "x" {
			t.Fatalf("Get after a slow prompt: %q, %v", got, err)
		}
		if started.Load() == 0 || started.Load() != stopped.Load() {
			t.Fatalf("Wait: %d started, %d stopped", started.Load(), stopped.Load())
		}
	})
}

// TestKeyringPanicIsAnError: a backend that panics fails the call, not the
// process, and the gate is free for the next call.
func TestKeyringPanicIsAnError(t *testing.T) {
	g := newGate()
	err := g.do("custom", time.Minute, func() error { panic("secret-looking value") })
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v", err)
	}
	if err := g.do("custom", time.Minute, func() error { return nil }); err != nil {
		t.Fatalf("next call: %v", err)
	}
}
