package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/internal/fakests"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
)

// silentSTS is a loopback listener that accepts connections and never
// answers, as an STS behind a broken proxy or firewall does.
func silentSTS(t *testing.T) (url string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int32{}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String(), accepted
}

// realClientBroker is a broker with the SDK's STS client, for profiles
// plain (no MFA) and mfa (codes from a fake source) at endpoint.
func realClientBroker(t *testing.T, endpoint string, opts Options) served {
	t.Helper()
	keys := keystore.NewMemory()
	for _, p := range []string{"plain", "mfa"} {
		if err := keys.PutAccessKey(p, keystore.AccessKey{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
			t.Fatal(err)
		}
	}
	opts.Keys = keys
	if opts.Codes == nil {
		opts.Codes = &fakests.Codes{}
	}
	cfg := fmt.Sprintf("[profile plain]\nregion = us-east-1\nendpoint_url = %s\n[profile mfa]\nregion = us-east-1\nendpoint_url = %s\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n", endpoint, endpoint)
	b, err := newServed(t, parse(t, cfg), opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSilentSTS: an STS that accepts the connection and never answers
// gives, within STSBudget, an error naming the endpoint and what to try;
// without an MFA code the call is tried again once (and the retry is
// reported to whoever waits), with one it is not (a code is never sent
// twice).
func TestSilentSTS(t *testing.T) {
	t.Parallel()
	url, accepted := silentSTS(t)
	for _, tc := range []struct {
		profile  string
		attempts int32
	}{
		{"plain", 2},
		{"mfa", 1},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			var mu sync.Mutex
			var waits []Wait
			b := realClientBroker(t, url, Options{})
			ctx := WithWaits(context.Background(), func(w Wait) { mu.Lock(); waits = append(waits, w); mu.Unlock() })
			before := accepted.Load()
			start := time.Now()
			_, err := b.Credentials(ctx, tc.profile)
			took := time.Since(start)
			msg, hint, _ := Explain(err)
			t.Logf("after %s: %s; hint: %s", took.Round(10*time.Millisecond), msg, hint)
			if took > STSBudget {
				t.Errorf("took %s, more than the budget of %s", took, STSBudget)
			}
			if !errors.Is(err, ErrSTSUnreachable) || !strings.Contains(msg, "STS unreachable at "+url) || !strings.Contains(msg, "no answer in") ||
				!strings.Contains(hint, "nothing answered at "+url) || !strings.Contains(hint, "AWS_ENDPOINT_URL_STS") {
				t.Errorf("err = %v; hint %q: want STS unreachable naming %s and what to try", err, hint, url)
			}
			if n := accepted.Load() - before; n != tc.attempts {
				t.Errorf("%d attempts reached the endpoint, want %d", n, tc.attempts)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(waits) != int(tc.attempts)-1 {
				t.Fatalf("waits reported: %+v, want %d", waits, tc.attempts-1)
			}
			for _, w := range waits {
				if want := "a retry against STS at " + url + " (attempt 1: no answer within 3s)"; w.What != want {
					t.Errorf("wait %q, want %q", w.What, want)
				}
			}
		})
	}
}

// TestThrottledSTSRetriesInBudget: a throttling STS is tried three
// times, each retry reported, all within the budget, and the error says
// it was throttling.
func TestThrottledSTSRetriesInBudget(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		calls.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	}))
	t.Cleanup(srv.Close)
	var waits []Wait
	var mu sync.Mutex
	b := realClientBroker(t, srv.URL, Options{})
	ctx := WithWaits(context.Background(), func(w Wait) { mu.Lock(); waits = append(waits, w); mu.Unlock() })
	start := time.Now()
	_, err := b.Credentials(ctx, "plain")
	took := time.Since(start)
	if !errors.Is(err, ErrSTSUnavailable) || !strings.Contains(err.Error(), "Throttling") || took > STSBudget {
		t.Fatalf("after %s: %v; want a throttling error within %s", took, err, STSBudget)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls.Load() != stsMaxAttempts || len(waits) != stsMaxAttempts-1 {
		t.Fatalf("%d calls, waits %+v; want %d calls and a wait reported before each retry", calls.Load(), waits, stsMaxAttempts)
	}
	if !strings.HasPrefix(waits[1].What, "a retry against STS at "+srv.URL+" (attempt 2: Throttling)") {
		t.Errorf("wait %q", waits[1].What)
	}
}

// TestClockFromDateHeader: STS's clock is read from the Date header of its
// answers, even an error's: a peer 20 minutes ahead reads as this clock
// 20 minutes behind.
func TestClockFromDateHeader(t *testing.T) {
	t.Parallel()
	for _, off := range []time.Duration{20 * time.Minute, -20 * time.Minute, 0} {
		t.Run(off.String(), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Date", time.Now().Add(off).UTC().Format(http.TimeFormat))
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			}))
			t.Cleanup(srv.Close)
			b := realClientBroker(t, srv.URL, Options{})
			if _, ok := b.Clock(); ok {
				t.Fatal("a clock reading before any answer")
			}
			if _, err := b.Credentials(context.Background(), "plain"); !errors.Is(err, ErrAccessDenied) {
				t.Fatalf("err = %v", err)
			}
			r, ok := b.Clock()
			if !ok || r.Endpoint != srv.URL || (r.Skew-off).Abs() > 2*time.Second {
				t.Fatalf("clock reading %+v, %v; want a skew of %s from %s", r, ok, off, srv.URL)
			}
		})
	}
}

// TestMFAStepWaitIsReported: the wait for the next MFA time step is
// reported with the device it is for.
func TestMFAStepWaitIsReported(t *testing.T) {
	t.Parallel()
	var got []Wait
	ctx := WithWaits(withMFADevice(context.Background(), "arn:aws:iam::123456789012:mfa/alice"), func(w Wait) { got = append(got, w) })
	before := time.Now()
	if err := sleepForStep(ctx, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].What != "the next MFA code of arn:aws:iam::123456789012:mfa/alice (AWS refuses a code used twice)" ||
		got[0].Until.Before(before) {
		t.Fatalf("reported %+v", got)
	}
}

// TestCallerIdentityWithinBudget: whoami's and decode's own STS calls end
// within STSBudget at an STS that never answers, with the error naming it.
func TestCallerIdentityWithinBudget(t *testing.T) {
	t.Parallel()
	url, _ := silentSTS(t)
	creds := cache.Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE00", SecretAccessKey: "secret", SessionToken: "token"}
	ep := profile.Endpoint{URL: url, Source: "AWS_ENDPOINT_URL_STS"}
	start := time.Now()
	_, err := CallerIdentity(context.Background(), "prod", "us-east-1", ep, creds)
	took := time.Since(start)
	if took > STSBudget+500*time.Millisecond {
		t.Errorf("CallerIdentity took %s, more than the budget of %s", took.Round(10*time.Millisecond), STSBudget)
	}
	if msg, _, _ := Explain(err); !errors.Is(err, ErrSTSUnreachable) || !strings.Contains(msg, url) {
		t.Errorf("err = %v: want STS unreachable naming %s", err, url)
	}
	start = time.Now()
	_, err = DecodeAuthorizationMessage(context.Background(), "prod", "us-east-1", ep, creds, "message")
	if took := time.Since(start); took > STSBudget+500*time.Millisecond {
		t.Errorf("DecodeAuthorizationMessage took %s, more than the budget of %s", took.Round(10*time.Millisecond), STSBudget)
	}
	if !errors.Is(err, ErrSTSUnreachable) {
		t.Errorf("err = %v: want STS unreachable", err)
	}
}
