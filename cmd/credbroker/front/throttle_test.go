package front

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credbroker/credbroker/wire"
)

// TestFastPathWaitsWhenThrottled: a daemon that says this uid asks too
// much, and when to ask again, is asked again then, and its credentials
// printed; one that never stops saying so gets its one line once the
// fast path's budget would not cover the wait.
func TestFastPathWaitsWhenThrottled(t *testing.T) {
	t.Parallel()
	creds := string(wire.MarshalProcessOutput("AKIAEXAMPLE", "secret", "token", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ""))
	for _, tc := range []struct {
		name           string
		throttled      int64 // answers throttled before the credentials
		retryAfterMS   int64
		exit           int
		stdout, stderr string
		wantRequests   int64
	}{
		{"twice, then served", 2, 20, 0, creds, "", 3},
		{"past the budget", 1 << 30, fastTimeout.Milliseconds() + 1, 1, "", "credbroker: error: uid 1 sends more than 20 requests a second to this daemon; h\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int64
			socket := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if requests.Add(1) > tc.throttled {
					_, _ = w.Write([]byte(creds))
					return
				}
				w.WriteHeader(http.StatusTooManyRequests)
				body, _ := json.Marshal(wire.ErrorBody{Code: wire.CodeThrottled, Message: "uid 1 sends more than 20 requests a second to this daemon", Hint: "h", RetryAfterMS: tc.retryAfterMS})
				_, _ = w.Write(body)
			}))
			env := socketEnv(socket)
			var stdout, stderr bytes.Buffer
			exit, done := fastCredentialProcess([]string{"credential-process", "--profile", "p"}, &stdout, &stderr, env)
			if !done || exit != tc.exit || stdout.String() != tc.stdout || stderr.String() != tc.stderr || requests.Load() != tc.wantRequests {
				t.Fatalf("done %v exit %d stdout %q stderr %q after %d requests", done, exit, stdout.String(), stderr.String(), requests.Load())
			}
		})
	}
}
