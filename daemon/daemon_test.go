package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"
	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/internal/fakests"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// testConfig is the profiles the fakes are set up for.
const testConfig = fakests.Config

type daemonHarness struct {
	d     *Daemon
	sts   *fakests.STS
	codes *fakests.Codes
	keys  *keystore.Store
	audit string
	// refreshes counts the refreshes the daemon ran (its "refreshed" log
	// lines).
	refreshes *logCounter
}

// setup changes how a harness is built.
type setup struct {
	// codes is the broker's CodeSource: a fakests.Codes (codes made
	// without a human, as from a seed) unless humanCodes, which leaves the
	// broker's own (no seed stored, no terminal: mfa_required), or set.
	humanCodes bool
	codes      broker.CodeSource
	owner      uint32
	// newSTS, when set, makes the STS clients (one fake STS for all
	// otherwise).
	newSTS func(region string, ep profile.Endpoint) (broker.STS, error)
	// realSTS makes the broker use the SDK's STS client.
	realSTS bool
	// keys, when set, is the keystore (a daemon restarted on it).
	keys *keystore.Store
	// audit, when set, is the audit log (a file in a temporary folder
	// otherwise).
	audit *AuditLog
}

func humanCodes(s *setup) { s.humanCodes = true }

// newDaemonHarness builds a daemon for testConfig+extraConfig over a fake
// STS, owned by uid 1000 (alice). Inside a synctest bubble its clock is
// the bubble's.
func newDaemonHarness(t testing.TB, extraConfig string, opts ...func(*setup)) *daemonHarness {
	t.Helper()
	st := setup{owner: 1000}
	for _, o := range opts {
		o(&st)
	}
	h := &daemonHarness{keys: st.keys, codes: &fakests.Codes{}, refreshes: &logCounter{msg: "refreshed"}}
	if h.keys == nil {
		h.keys = keystore.NewMemory()
	}
	h.sts = &fakests.STS{Now: time.Now, ARN: "arn:aws:iam::123456789012:user/alice"}
	for _, p := range []string{"base", "plain", "direct"} {
		if err := h.keys.PutAccessKey(p, keystore.AccessKey{AccessKeyID: "AKIA" + strings.Repeat(strings.ToUpper(p[:1]), 16), SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
			t.Fatal(err)
		}
	}
	bopts := broker.Options{Keys: h.keys, NewSTS: func(string, profile.Endpoint) (broker.STS, error) { return h.sts, nil }}
	if st.newSTS != nil {
		bopts.NewSTS = st.newSTS
	}
	if st.realSTS {
		bopts.NewSTS = nil // the SDK's client, at each profile's endpoint
	}
	switch {
	case st.codes != nil:
		bopts.Codes = st.codes
	case !st.humanCodes:
		bopts.Codes = h.codes
	}
	b, err := broker.New(bopts)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := profile.ParseConfig("/etc/credbroker/config", strings.NewReader(testConfig+extraConfig))
	if err != nil {
		t.Fatal(err)
	}
	h.audit = filepath.Join(t.TempDir(), "audit.log")
	audit := st.audit
	if audit == nil {
		if audit, err = OpenAuditLog(h.audit); err != nil {
			t.Fatal(err)
		}
	}
	lookup := NameLookup{
		User:  func(n string) (uint32, error) { return map[string]uint32{"alice": 1000, "bob": 1001}[n], nil },
		Group: func(n string) (uint32, error) { return map[string]uint32{"devs": 2000}[n], nil },
	}
	h.d, err = New(Options{Broker: b, Config: cfg, Audit: audit, Owner: st.owner, Lookup: lookup,
		Logger: slog.New(h.refreshes), Jitter: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.d.stopTimers()
		audit.Close()
	})
	return h
}

// resolved resolves name as a request without caller settings is.
func (h *daemonHarness) resolved(t testing.TB, name string) resolution {
	t.Helper()
	rs, err := h.d.resolve(&peerInfo{peer: alice}, url.Values{"profile": {name}}, name)
	if err == nil {
		err = rs.err
	}
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// logCounter is a slog handler counting the records with one message.
type logCounter struct {
	msg string
	n   atomic.Int64
}

func (c *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == c.msg {
		c.n.Add(1)
	}
	return nil
}
func (c *logCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCounter) WithGroup(string) slog.Handler      { return c }

// advance moves a synctest bubble's clock by d and lets everything that
// was due run until it blocks (refreshes, retries).
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func apiError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

var alice = peercred.Peer{UID: 1000, GID: 1000, PID: 4242}

// get calls the daemon's API as peer.
func (h *daemonHarness) get(peer peercred.Peer, path string) *httptest.ResponseRecorder {
	return h.call(peer, http.MethodGet, path, "")
}

func (h *daemonHarness) call(peer peercred.Peer, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://credbroker"+path, strings.NewReader(body))
	req = req.WithContext(context.WithValue(req.Context(), peerKey{}, &peerInfo{peer: peer}))
	rec := httptest.NewRecorder()
	h.d.Handler().ServeHTTP(rec, req)
	return rec
}

func decodeCreds(t *testing.T, rec *httptest.ResponseRecorder) wire.ProcessOutput {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	var out wire.ProcessOutput
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Version != 1 || out.AccessKeyID == "" {
		t.Fatalf("not credential_process JSON: %s (%v)", rec.Body, err)
	}
	return out
}
func TestDaemonServesFromMemory(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "")
	first := decodeCreds(t, h.get(alice, "/v1/credentials?profile=prod"))
	// GetCallerIdentity: the role session is named after the key's user.
	if h.sts.Ops() != "GetSessionToken,GetCallerIdentity,AssumeRole" {
		t.Fatalf("calls = %s", h.sts.Ops())
	}
	// The role's account, which SDKs read for account-based endpoints;
	// a session's is its MFA device's, and unknown without one.
	if first.AccountID != "210987654321" {
		t.Errorf("AccountId = %q, want the role's account", first.AccountID)
	}
	if base := decodeCreds(t, h.get(alice, "/v1/credentials?profile=base")); base.AccountID != "123456789012" {
		t.Errorf("base: AccountId = %q, want the MFA device's account", base.AccountID)
	}
	if plain := decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain")); plain.AccountID != "" {
		t.Errorf("plain: AccountId = %q, want none", plain.AccountID)
	}
	h.sts.Reset()
	for range 100 {
		if got := decodeCreds(t, h.get(alice, "/v1/credentials?profile=prod")); got != first {
			t.Fatalf("a cached call returned other credentials")
		}
	}
	if h.sts.Ops() != "" {
		t.Fatalf("cached calls reached STS: %s", h.sts.Ops())
	}
}

// TestDaemonHerd: many callers at once on a cold cache make one refresh
// (one GetSessionToken, one AssumeRole) and all get the same credentials.
// STS holds its answer until every caller has arrived, counted by the
// daemon's request counter once the bubble is idle: removing the daemon's
// singleflight makes each caller run a refresh of its own (counted by the
// "refreshed" log lines).
func TestDaemonHerd(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newDaemonHarness(t, "")
		release := make(chan struct{})
		h.sts.SetFail(func(fakests.Call) error { <-release; return nil }) // hold STS until all are waiting
		results := make([]wire.ProcessOutput, 200)
		for i := range results {
			go func() {
				rec := h.get(alice, "/v1/credentials?profile=prod")
				if rec.Code == http.StatusOK {
					_ = json.Unmarshal(rec.Body.Bytes(), &results[i])
				}
			}()
		}
		synctest.Wait()
		if n := h.d.reqs.Load(); n != 200 {
			t.Fatalf("%d callers arrived, want 200 waiting together", n)
		}
		close(release)
		synctest.Wait()
		if got := h.sts.Ops(); got != "GetSessionToken,GetCallerIdentity,AssumeRole" {
			t.Fatalf("calls = %s, want one of each", got)
		}
		if n := h.refreshes.n.Load(); n != 1 {
			t.Errorf("%d refreshes for 200 callers of one profile, want 1", n)
		}
		for i, r := range results {
			if r != results[0] || r.AccessKeyID == "" {
				t.Fatalf("caller %d got %+v", i, r)
			}
		}
	})
}

// TestTwoRolesShareOneMFASession: two role profiles on one MFA device,
// asked at the same instant on a cold cache, make one GetSessionToken and
// ask for one code: the daemon runs a refresh per profile, and the
// broker's singleflight per chain step makes them share the session.
// Removing that singleflight makes two GetSessionToken calls.
func TestTwoRolesShareOneMFASession(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newDaemonHarness(t, "[profile ops]\nrole_arn = arn:aws:iam::210987654321:role/Ops\nsource_profile = base\n")
		release := make(chan struct{})
		h.sts.SetFail(func(fakests.Call) error { <-release; return nil })
		codes := make([]int, 2)
		for i, p := range []string{"prod", "ops"} {
			go func() { codes[i] = h.get(alice, "/v1/credentials?profile="+p).Code }()
		}
		synctest.Wait() // both refreshes are under way
		close(release)
		synctest.Wait()
		if codes[0] != http.StatusOK || codes[1] != http.StatusOK {
			t.Fatalf("HTTP %v", codes)
		}
		if got := h.sts.Ops(); strings.Count(got, "GetSessionToken") != 1 || strings.Count(got, "AssumeRole") != 2 || h.codes.N() != 1 {
			t.Fatalf("calls = %s, codes = %d: want one MFA session for both roles", got, h.codes.N())
		}
	})
}

// TestDaemonRefreshesAhead runs a day of fake time with requests every
// few minutes: while STS is healthy, nothing handed out ever has less than
// the 15-minute margin left. The harness's CodeSource makes codes by
// itself (as a stored seed does), so the MFA session is renewed ahead too.
func TestDaemonRefreshesAhead(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { refreshesAhead(t) })
}

func refreshesAhead(t *testing.T) {
	h := newDaemonHarness(t, "")
	for step := 0; step < 24*60/7; step++ {
		out := decodeCreds(t, h.get(alice, "/v1/credentials?profile=prod"))
		exp, err := time.Parse(time.RFC3339, out.Expiration)
		if err != nil {
			t.Fatal(err)
		}
		if left := time.Until(exp); left < 15*time.Minute {
			t.Fatalf("after %d min handed out credentials with %s left", step*7, left)
		}
		advance(7 * time.Minute)
	}
	// A day of 1 h roles renewed at about 40 min: ~36 AssumeRoles, and
	// 3 MFA sessions of 8 h, each asking for one code.
	ars := strings.Count(h.sts.Ops(), "AssumeRole")
	if ars < 30 || ars > 45 {
		t.Errorf("%d AssumeRole in a day", ars)
	}
	if h.codes.N() < 3 || h.codes.N() > 4 {
		t.Errorf("%d MFA codes in a day, want about 3", h.codes.N())
	}
}

func TestDaemonRidesOutSTSTrouble(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { ridesOutSTSTrouble(t) })
}

func ridesOutSTSTrouble(t *testing.T) {
	h := newDaemonHarness(t, "")
	good := decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain")) // 1 h session
	var down atomic.Bool
	down.Store(true)
	h.sts.SetFail(func(fakests.Call) error {
		if down.Load() {
			return apiError("ServiceUnavailable", "Service is unavailable")
		}
		return nil
	})
	// Past the renewal point and the margin: STS fails, the cached
	// credentials are served while usable.
	advance(50 * time.Minute)
	if got := decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain")); got != good {
		t.Fatal("did not serve the still-valid credentials while STS is down")
	}
	// After expiry (less than a minute left counts): a clear error, never
	// the expired keys.
	advance(9*time.Minute + 30*time.Second)
	rec := h.get(alice, "/v1/credentials?profile=plain")
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), good.SecretAccessKey) {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	var de wire.ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &de)
	if de.Code != wire.CodeSTSUnavailable || !strings.Contains(de.Message, "ServiceUnavailable") {
		t.Errorf("error = %+v", de)
	}
	// STS comes back: the scheduled retry (backoff) succeeds, no restart.
	down.Store(false)
	advance(6 * time.Minute)
	fresh := decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	if fresh == good {
		t.Fatal("still the old credentials after STS came back")
	}
}

func TestDaemonBackoffIsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { backoffIsBounded(t) })
}

func backoffIsBounded(t *testing.T) {
	h := newDaemonHarness(t, "")
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	h.sts.SetFail(func(fakests.Call) error { return apiError("Throttling", "Rate exceeded") })
	h.sts.Reset()
	// Two hours of STS throttling: retries back off exponentially (capped
	// at 5 min), never a tight loop.
	advance(2 * time.Hour)
	n := strings.Count(h.sts.Ops(), "GetSessionToken")
	if n < 10 || n > 40 {
		t.Errorf("%d attempts in 2 h of throttling", n)
	}
}

func TestDaemonTerminalErrorsStopRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { terminalErrorsStopRetries(t) })
}

func terminalErrorsStopRetries(t *testing.T) {
	h := newDaemonHarness(t, "")
	h.sts.SetFail(func(fakests.Call) error {
		return apiError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
	})
	rec := h.get(alice, "/v1/credentials?profile=prod")
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"code":"mfa_refused"`) {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	// Nothing retries a refused code: not callers, not the scheduler.
	for range 5 {
		h.get(alice, "/v1/credentials?profile=prod")
	}
	advance(3 * time.Hour)
	if n := strings.Count(h.sts.Ops(), "GetSessionToken"); n != 1 || h.codes.N() != 1 {
		t.Fatalf("%d GetSessionToken, %d codes after a refused code", n, h.codes.N())
	}
	// The profile has its own codes (a seed): a caller may not submit one,
	// and the refusal names the device and says what to check.
	if rec := h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"123456"}`); rec.Code != http.StatusConflict {
		t.Fatalf("a code for a seeded profile: HTTP %d", rec.Code)
	}
	var de wire.ErrorBody
	_ = json.Unmarshal(h.get(alice, "/v1/credentials?profile=prod").Body.Bytes(), &de)
	if de.MFASerial != "" || !strings.Contains(de.Hint, "check this machine's clock and the seed") {
		t.Errorf("refusal = %+v", de)
	}
	// The owner stores a corrected seed (credbroker totp add tells the
	// daemon to forget): served again.
	h.sts.SetFail(nil)
	if rec := h.call(alice, http.MethodPost, "/v1/forget", `{"profile":"base"}`); rec.Code != http.StatusOK {
		t.Fatalf("forget: HTTP %d", rec.Code)
	}
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=prod"))
}

func TestDaemonMFARequiredNamesTheDevice(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "", humanCodes) // no seed, no prompter
	rec := h.get(alice, "/v1/credentials?profile=prod")
	var de wire.ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &de)
	if rec.Code != http.StatusUnauthorized || de.Code != wire.CodeMFARequired || de.MFASerial != "arn:aws:iam::123456789012:mfa/alice" || de.Hint != "run: credbroker unlock prod" {
		t.Fatalf("HTTP %d: %+v", rec.Code, de)
	}
	if h.sts.Ops() != "" {
		t.Errorf("asked STS without a code: %s", h.sts.Ops())
	}
	if rec := h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"12345"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("a 5-digit code: HTTP %d", rec.Code)
	}
	decodeCreds(t, h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"654321"}`))
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=prod"))
	if h.sts.Ops() != "GetSessionToken,GetCallerIdentity,AssumeRole" {
		t.Errorf("calls = %s", h.sts.Ops())
	}
}

func TestDaemonAccessRules(t *testing.T) {
	t.Parallel()
	rules := `
[access devs]
groups = devs
profiles = plain, dev-*
effect = allow
[access no-bob-plain]
users = bob
profiles = plain
effect = deny
[access owner-not-direct]
users = 1000
profiles = direct
effect = deny
`
	h := newDaemonHarness(t, rules)
	bob := peercred.Peer{UID: 1001, GID: 1001, Groups: []uint32{2000}, PID: 77}
	carol := peercred.Peer{UID: 1002, GID: 2000, PID: 78}
	mallory := peercred.Peer{UID: 65534, GID: 65534, PID: 79}
	for _, tc := range []struct {
		peer    peercred.Peer
		profile string
		want    int
	}{
		{alice, "prod", http.StatusOK},              // the daemon's own user
		{alice, "direct", http.StatusForbidden},     // ... unless a rule denies it
		{carol, "plain", http.StatusOK},             // primary group devs
		{bob, "plain", http.StatusForbidden},        // devs allows, bob's deny wins
		{bob, "prod", http.StatusForbidden},         // no rule
		{mallory, "plain", http.StatusForbidden},    // nobody
		{mallory, "../etc", http.StatusBadRequest},  // not a profile name
		{carol, "dev-unknown", http.StatusNotFound}, // allowed, but no such profile
	} {
		rec := h.get(tc.peer, "/v1/credentials?profile="+tc.profile)
		if rec.Code != tc.want {
			t.Errorf("uid %d, %s: HTTP %d, want %d: %s", tc.peer.UID, tc.profile, rec.Code, tc.want, rec.Body)
		}
	}
	// Status lists only what the caller may fetch.
	var st wire.Status
	_ = json.Unmarshal(h.get(carol, "/v1/status").Body.Bytes(), &st)
	var names []string
	for _, p := range st.Profiles {
		names = append(names, p.Profile)
	}
	if strings.Join(names, ",") != "plain" {
		t.Errorf("carol's status shows %v", names)
	}
	// Every grant and refusal is in the audit log, with no secret.
	recs := readAudit(t, h, 8)
	var denies, grants int
	for _, r := range recs {
		switch r.Decision {
		case "deny":
			denies++
		case "grant":
			grants++
		}
		if r.Decision == "deny" && r.UID == 65534 && r.Profile == "plain" && !strings.Contains(r.Reason, "no access rule allows uid 65534") {
			t.Errorf("refusal reason: %q", r.Reason)
		}
	}
	if denies != 4 || grants < 2 {
		t.Errorf("audit: %d denies, %d grants: %+v", denies, grants, recs)
	}
}

// readAudit waits until the audit log holds at least want records (it is
// written asynchronously) and returns them.
func readAudit(t *testing.T, h *daemonHarness, want int) []AuditRecord {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var recs []AuditRecord
	for {
		data, err := os.ReadFile(h.audit)
		if err != nil {
			t.Fatal(err)
		}
		recs = recs[:0]
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			var r AuditRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("audit line is not JSON: %v", err)
			}
			recs = append(recs, r)
		}
		// The fake STS issues secrets named secret-N and token-N.
		if strings.Contains(string(data), "secret-") || strings.Contains(string(data), "token-") {
			t.Fatal("the audit log holds a secret")
		}
		if len(recs) >= want || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDaemonCallerGivingUpDoesNotCancelRefresh(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { callerGivingUp(t) })
}

func callerGivingUp(t *testing.T) {
	h := newDaemonHarness(t, "")
	release := make(chan struct{})
	h.sts.SetFail(func(fakests.Call) error { <-release; return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.d.credentials(ctx, h.d.state(h.resolved(t, "plain")), nil)
		done <- err
	}()
	synctest.Wait() // the refresh is under way, the caller waits for it
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up got %v", err)
	}
	close(release)
	synctest.Wait()
	// The refresh finished for the next caller without a second call.
	if _, err := h.d.credentials(context.Background(), h.d.state(h.resolved(t, "plain")), nil); err != nil {
		t.Fatal(err)
	}
	if h.sts.Ops() != "GetSessionToken" {
		t.Errorf("calls = %s", h.sts.Ops())
	}
}

func TestDaemonForgetAndBadRequests(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "")
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	if rec := h.call(alice, http.MethodPost, "/v1/forget", `{"profile":"plain"}`); rec.Code != http.StatusOK {
		t.Fatalf("forget: HTTP %d %s", rec.Code, rec.Body)
	}
	h.sts.Reset()
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	if h.sts.Ops() != "GetSessionToken" {
		t.Errorf("after forget: calls = %s", h.sts.Ops())
	}
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPost, "/v1/mfa", `not json`, http.StatusBadRequest},
		{http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"123456","extra":1}`, http.StatusBadRequest},
		{http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"` + strings.Repeat("1", 10000) + `"}`, http.StatusBadRequest},
		{http.MethodGet, "/v1/credentials", "", http.StatusBadRequest},
		{http.MethodDelete, "/v1/credentials?profile=prod", "", http.StatusMethodNotAllowed},
		{http.MethodGet, "/v2/anything", "", http.StatusNotFound},
		{http.MethodGet, "/v1/health", "", http.StatusOK},
	} {
		if rec := h.call(alice, tc.method, tc.path, tc.body); rec.Code != tc.want {
			t.Errorf("%s %s: HTTP %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
	// A request without peer credentials is refused.
	req := httptest.NewRequest(http.MethodGet, "http://credbroker/v1/credentials?profile=plain", nil)
	rec := httptest.NewRecorder()
	h.d.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("no peer: HTTP %d", rec.Code)
	}
}

// serveOnSocket runs the daemon on a real socket for the tests that need
// the kernel in the loop.
func serveOnSocket(t *testing.T, h *daemonHarness) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cbd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h.d.opts.Socket = filepath.Join(dir, "broker.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	c := wire.NewClient(h.d.opts.Socket)
	deadline := time.Now().Add(5 * time.Second)
	for c.Health(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("daemon did not come up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return h.d.opts.Socket
}

func TestDaemonOnSocket(t *testing.T) {
	t.Parallel()
	// Over a real socket the kernel says who calls: this test's own user.
	h := newDaemonHarness(t, "", func(s *setup) { s.owner = uint32(os.Getuid()) })
	socket := serveOnSocket(t, h)
	fi, err := os.Stat(socket)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	c := wire.NewClient(socket)
	body, err := c.Credentials(context.Background(), "prod")
	if err != nil || !strings.HasPrefix(string(body), `{"Version":1,`) {
		t.Fatalf("Credentials = %s, %v", body, err)
	}
	// A second daemon on the same socket is refused; the first keeps serving.
	_, err = listenUnix(socket, false, "")
	if !errors.Is(err, broker.ErrDaemonRunning) {
		t.Fatalf("second daemon: %v", err)
	}
	// Garbage, truncated and oversized requests: the daemon keeps serving.
	for _, junk := range []string{
		"\x00\x01\x02garbage\r\n\r\n",
		"GET /v1/credentials?profile=prod HTTP/1.1\r\nHost: x\r\n", // truncated, then closed
		"GET /v1/credentials?profile=prod HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n",
		"POST /v1/mfa HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + strings.Repeat("{", 8192),
	} {
		conn, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(conn, junk)
		_ = conn.(*net.UnixConn).CloseWrite() // the request ends here, whole or not
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, _ = io.ReadAll(conn)
		conn.Close()
	}
	if _, err := c.Credentials(context.Background(), "prod"); err != nil {
		t.Fatalf("after junk: %v", err)
	}
	// The socket's peer is the kernel's word: this process.
	var st wire.Status
	stp, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st = *stp
	if st.PID != os.Getpid() || len(st.Profiles) == 0 {
		t.Errorf("status = %+v", st)
	}
	recs := readAudit(t, h, 1)
	if recs[0].UID != uint32(os.Getuid()) || recs[0].PID != os.Getpid() {
		t.Errorf("audit record = %+v", recs[0])
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "cbs")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "broker.sock")
	// A socket file nobody listens on (a daemon killed with -9).
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	ln, err := listenUnix(path, false, "")
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln.Close()
	// A folder others can write to is refused.
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(open, 0o777)
	if _, err := listenUnix(filepath.Join(open, "s"), false, ""); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Errorf("open folder: %v", err)
	}
	if _, err := listenUnix("/tmp/"+strings.Repeat("x", 120), false, ""); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("long path: %v", err)
	}
}

// FuzzDaemonRequest feeds arbitrary requests to the daemon's handler: it
// must answer each without panicking, and still serve afterwards.
func FuzzDaemonRequest(f *testing.F) {
	for _, seed := range []string{
		"GET /v1/credentials?profile=prod HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /v1/mfa HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n{\"profile\":\"prod\",\"code\":\"123456\"}",
		"POST /v1/forget HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n\r\n{\"profile\":\"prod\"}",
		"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /v1/credentials?profile=%00%ff HTTP/1.1\r\nHost: x\r\n\r\n",
		"\x00\x01",
	} {
		f.Add([]byte(seed))
	}
	h := newDaemonHarness(f, "")
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(raw))))
		if err != nil {
			return // the server would answer 400 itself
		}
		req = req.WithContext(context.WithValue(context.Background(), peerKey{}, &peerInfo{peer: alice}))
		rec := httptest.NewRecorder()
		h.d.Handler().ServeHTTP(rec, req)
		if rec.Code == 0 {
			t.Fatal("no answer")
		}
		if rec := h.get(alice, "/v1/health"); rec.Code != http.StatusOK {
			t.Fatalf("health after %q: %d", raw, rec.Code)
		}
	})
}

func TestDaemonMFASubmissionsAfterARefusal(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { mfaSubmissionsAfterARefusal(t) })
}

func mfaSubmissionsAfterARefusal(t *testing.T) {
	h := newDaemonHarness(t, "", humanCodes) // no seed: codes come from callers
	h.sts.SetFail(func(c fakests.Call) error {
		if c.Code == "111111" {
			return apiError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
		}
		return nil
	})
	rec := h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"111111"}`)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "mfa_refused") {
		t.Fatalf("bad code: HTTP %d %s", rec.Code, rec.Body)
	}
	// Within the same 30 s step, no second code reaches STS.
	rec = h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"222222"}`)
	if rec.Code != http.StatusTooManyRequests || strings.Count(h.sts.Ops(), "GetSessionToken") != 1 {
		t.Fatalf("second code at once: HTTP %d, calls %s", rec.Code, h.sts.Ops())
	}
	advance(31 * time.Second)
	decodeCreds(t, h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"222222"}`))
}

func TestDaemonForgetIsTheOwners(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "\n[access all]\nusers = bob\nprofiles = *\neffect = allow\n")
	bob := peercred.Peer{UID: 1001, GID: 1001}
	decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))
	if rec := h.call(bob, http.MethodPost, "/v1/forget", `{"profile":"plain"}`); rec.Code != http.StatusForbidden {
		t.Fatalf("bob's forget: HTTP %d", rec.Code)
	}
	if rec := h.call(alice, http.MethodPost, "/v1/forget", `{"profile":"plain"}`); rec.Code != http.StatusOK {
		t.Fatalf("owner's forget: HTTP %d", rec.Code)
	}
}

// TestDaemonResetDropsRefreshInFlight: a refresh that started before a
// forget (a new key) must not put its result back.
func TestDaemonResetDropsRefreshInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { resetDropsRefreshInFlight(t) })
}

func resetDropsRefreshInFlight(t *testing.T) {
	h := newDaemonHarness(t, "")
	release := make(chan struct{})
	h.sts.SetFail(func(c fakests.Call) error {
		if c.Signer == "AKIAPPPPPPPPPPPPPPPP" {
			<-release // the old key's call is slow
		}
		return nil
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.d.credentials(context.Background(), h.d.state(h.resolved(t, "plain")), nil)
	}()
	synctest.Wait() // the old key's call is out
	// The key is replaced and the daemon told, while the old call is out.
	if err := h.keys.PutAccessKey("plain", keystore.AccessKey{AccessKeyID: "AKIANNNNNNNNNNNNNNNN", SecretAccessKey: strings.Repeat("n", 40)}); err != nil {
		t.Fatal(err)
	}
	if rec := h.call(alice, http.MethodPost, "/v1/forget", `{"profile":"plain"}`); rec.Code != http.StatusOK {
		t.Fatalf("forget: HTTP %d", rec.Code)
	}
	close(release)
	<-done
	h.sts.Reset()
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	if got := h.sts.Ops(); got != "GetSessionToken" || h.sts.CallList()[0].Signer != "AKIANNNNNNNNNNNNNNNN" {
		t.Fatalf("after the forget: calls %s %+v, want a session from the new key", got, h.sts.CallList())
	}
}

// countingRequired is a CodeSource with no way to make a code.
type countingRequired struct{ n atomic.Int64 }

func (c *countingRequired) Code(context.Context, *profile.RoleChain) (string, error) {
	c.n.Add(1)
	return "", broker.ErrMFARequired
}

func (c *countingRequired) Unattended(*profile.RoleChain) bool { return false }

// TestDaemonWaitsForAHuman: once a code is needed, callers get
// mfa_required at once, without the daemon going back to the keyring or
// STS for each of them.
func TestDaemonWaitsForAHuman(t *testing.T) {
	t.Parallel()
	codes := &countingRequired{}
	h := newDaemonHarness(t, "", func(s *setup) { s.codes = codes })
	for range 10 {
		if rec := h.get(alice, "/v1/credentials?profile=prod"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("HTTP %d", rec.Code)
		}
	}
	if codes.n.Load() != 1 || h.sts.Ops() != "" {
		t.Fatalf("%d attempts for 10 callers, calls %s", codes.n.Load(), h.sts.Ops())
	}
}

func TestDaemonKeepsConfigWhenTheFileGoes(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "")
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	h.d.opts.ConfigPath = path
	h.d.opts.Reload = func() (*profile.Config, error) { return profile.LoadConfig(path) }
	h.d.Reload()
	if h.d.configErr.Load() != nil {
		t.Fatalf("reload: %s", *h.d.configErr.Load())
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	h.d.Reload()
	if e := h.d.configErr.Load(); e == nil || !strings.Contains(*e, "is gone") {
		t.Fatalf("configErr = %v", e)
	}
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=prod"))
}

func TestDaemonUnknownProfiles(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "[access bob-plain]\nusers = bob\nprofiles = plain\neffect = allow\n")
	bob := peercred.Peer{UID: 1001, GID: 1001, Groups: []uint32{}}
	if rec := h.get(bob, "/v1/credentials?profile=plai"); rec.Code != http.StatusForbidden {
		t.Fatalf("HTTP %d", rec.Code)
	}
	h2 := newDaemonHarness(t, "[access bob-all]\nusers = bob\nprofiles = *\neffect = allow\n[access bob-not-prod]\nusers = bob\nprofiles = prod\neffect = deny\n")
	var de wire.ErrorBody
	rec := h2.get(bob, "/v1/credentials?profile=plai")
	_ = json.Unmarshal(rec.Body.Bytes(), &de)
	if rec.Code != http.StatusNotFound || !strings.Contains(de.Message, "known: base, direct, plain)") {
		t.Errorf("unknown profile for bob: HTTP %d %q (prod must not be listed)", rec.Code, de.Message)
	}
	// /v1/mfa for a made-up name keeps no state.
	if rec := h2.call(bob, http.MethodPost, "/v1/mfa", `{"profile":"ghost","code":"123456"}`); rec.Code != http.StatusNotFound {
		t.Errorf("mfa for ghost: HTTP %d", rec.Code)
	}
	h2.d.states.Range(func(_, v any) bool {
		if v.(*profileState).name == "ghost" {
			t.Error("state kept for a made-up profile")
		}
		return true
	})
}

func TestAccessDenyByGroupHoldsWhenGroupsAreUnknown(t *testing.T) {
	t.Parallel()
	cfg, err := profile.ParseConfig("cfg", strings.NewReader("[profile prod]\n[access all]\nusers = 1001\nprofiles = *\neffect = allow\n[access no-contractors]\ngroups = 3000\nprofiles = prod\neffect = deny\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := newAccess(cfg, 0, NameLookup{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		groups []uint32
		want   bool
	}{
		{[]uint32{3000}, false}, // known member: denied
		{[]uint32{}, true},      // known: in no group
		{nil, false},            // unknown: the deny holds
	} {
		if ok, reason := a.Decide(peercred.Peer{UID: 1001, GID: 1001, Groups: tc.groups}, "prod"); ok != tc.want {
			t.Errorf("groups %v: allow = %v (%s)", tc.groups, ok, reason)
		}
	}
}

// TestDaemonSeedlessSessionIsKept: without a seed, the MFA session a human
// opened is kept (never renewed ahead: that would need another code) while
// the role is renewed from it, until the session runs out; then callers
// are asked for a code.
func TestDaemonSeedlessSessionIsKept(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { seedlessSessionIsKept(t) })
}

func seedlessSessionIsKept(t *testing.T) {
	h := newDaemonHarness(t, "", humanCodes)
	start := time.Now()
	decodeCreds(t, h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"prod","code":"123456"}`))
	needed := false
	for step := 0; step < 9*60/7; step++ {
		rec := h.get(alice, "/v1/credentials?profile=prod")
		if rec.Code == http.StatusUnauthorized {
			needed = true
			break
		}
		out := decodeCreds(t, rec)
		exp, _ := time.Parse(time.RFC3339, out.Expiration)
		if left := time.Until(exp); left < time.Minute {
			t.Fatalf("after %d min handed out credentials with %s left", step*7, left)
		}
		advance(7 * time.Minute)
	}
	if n := strings.Count(h.sts.Ops(), "GetSessionToken"); n != 1 {
		t.Errorf("%d GetSessionToken: the seedless session was renewed", n)
	}
	if ars := strings.Count(h.sts.Ops(), "AssumeRole"); ars < 10 {
		t.Errorf("%d AssumeRole in 8 h: the role was not renewed from the session", ars)
	}
	if !needed || time.Since(start) < 7*time.Hour {
		t.Errorf("a code was asked for at %s (needed %v), want near the session's 8 h", time.Now(), needed)
	}
}
