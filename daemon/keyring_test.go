package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/99designs/keyring"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/wire"
)

// hangingRing is an in-memory keyring that can be made to stop answering,
// as secret-service over D-Bus does when its collection waits for a
// prompt or its daemon is stopped: every call blocks until it answers
// again.
type hangingRing struct {
	keyring.Keyring
	mu      sync.Mutex
	release chan struct{} // nil while it answers
}

func (r *hangingRing) hang() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.release = make(chan struct{})
}

func (r *hangingRing) answer() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.release)
	r.release = nil
}

func (r *hangingRing) wait() {
	r.mu.Lock()
	ch := r.release
	r.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func (r *hangingRing) Get(k string) (keyring.Item, error) { r.wait(); return r.Keyring.Get(k) }
func (r *hangingRing) Set(i keyring.Item) error           { r.wait(); return r.Keyring.Set(i) }
func (r *hangingRing) Remove(k string) error              { r.wait(); return r.Keyring.Remove(k) }
func (r *hangingRing) Keys() ([]string, error)            { r.wait(); return r.Keyring.Keys() }

// TestDaemonKeyringNotAnswering: with a keyring that stops answering,
// callers are answered from memory while the daemon holds valid
// credentials, and told the keyring is not answering otherwise, each
// within keystore.DefaultCallTimeout (well inside a credential_process
// client's 10 s). When the keyring answers again, the daemon recovers by
// itself.
func TestDaemonKeyringNotAnswering(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ring := &hangingRing{Keyring: keyring.NewArrayKeyring(nil)}
		keys := keystore.New(ring)
		if err := keys.PutAccessKey("stored", keystore.AccessKey{AccessKeyID: "AKIASSSSSSSSSSSSSSSS", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
			t.Fatal(err)
		}
		h := newDaemonHarness(t, "", func(s *setup) { s.keys = keys })
		good := decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain")) // 1 h session

		ring.hang()
		timed := func(profile string) (*httpResult, time.Duration) {
			start := time.Now()
			rec := h.get(alice, "/v1/credentials?profile="+profile)
			return &httpResult{code: rec.Code, body: rec.Body.String()}, time.Since(start)
		}
		notAnswering := func(what string, r *httpResult, took time.Duration) {
			t.Helper()
			var de wire.ErrorBody
			_ = json.Unmarshal([]byte(r.body), &de)
			if r.code != http.StatusServiceUnavailable || de.Code != wire.CodeKeyringStalled ||
				!strings.Contains(de.Message, "the keyring (custom) is not answering") || de.Hint == "" {
				t.Fatalf("%s: HTTP %d %s", what, r.code, r.body)
			}
			if took > keystore.DefaultCallTimeout {
				t.Fatalf("%s: answered after %s", what, took)
			}
		}

		// Fresh credentials: from memory, at once.
		if r, took := timed("plain"); r.code != http.StatusOK || took != 0 || !strings.Contains(r.body, good.SecretAccessKey) {
			t.Fatalf("fresh, keyring hung: HTTP %d after %s", r.code, took)
		}
		// A profile the daemon holds nothing for: the clear error.
		r, took := timed("direct")
		notAnswering("cold profile", r, took)
		// A profile known only from the keyring (no config section).
		r, took = timed("stored")
		notAnswering("stored-only profile", r, took)

		// Past the renewal point: the refresh-ahead hangs in the keyring;
		// what is still valid is served from memory.
		advance(50 * time.Minute)
		if r, took := timed("plain"); r.code != http.StatusOK || took > keystore.DefaultCallTimeout || !strings.Contains(r.body, good.SecretAccessKey) {
			t.Fatalf("usable, keyring hung: HTTP %d after %s: %s", r.code, took, r.body)
		}
		// Expired: the clear error, never the expired keys.
		advance(10 * time.Minute)
		r, took = timed("plain")
		notAnswering("expired", r, took)
		if strings.Contains(r.body, good.SecretAccessKey) {
			t.Fatal("expired credentials served")
		}

		// The keyring answers again: the scheduled retry recovers, and
		// what failed before works, without a restart.
		ring.answer()
		advance(10 * time.Minute)
		if fresh := decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain")); fresh == good {
			t.Fatal("still the old credentials after the keyring came back")
		}
		decodeCreds(t, h.get(alice, "/v1/credentials?profile=direct"))
		decodeCreds(t, h.get(alice, "/v1/credentials?profile=stored"))
	})
}

type httpResult struct {
	code int
	body string
}
