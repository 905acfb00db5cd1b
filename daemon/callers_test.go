package daemon

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/internal/fakests"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// endpoints is an STS per endpoint URL (a custom one, or the SDK's for a
// region).
type endpoints struct {
	mu  sync.Mutex
	sts map[string]*fakests.STS
}

func (e *endpoints) at(region string, ep profile.Endpoint) (broker.STS, error) {
	name := ep.URL
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sts[name] == nil {
		e.sts[name] = &fakests.STS{Now: time.Now, Tag: name + "-"}
	}
	return e.sts[name], nil
}

func (e *endpoints) ops() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]string{}
	for name, s := range e.sts {
		out[name] = s.Ops()
	}
	return out
}

// callerHarness is a daemon whose STS depends on where a call goes, and a
// config file its own user's callers name.
func callerHarness(t *testing.T, config string) (*daemonHarness, *endpoints, string) {
	t.Helper()
	eps := &endpoints{sts: map[string]*fakests.STS{}}
	h := newDaemonHarness(t, "", func(s *setup) { s.newSTS = eps.at })
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return h, eps, path
}

// as asks for profile with a caller's settings.
func (h *daemonHarness) as(env map[string]string, config, name string) *httptest.ResponseRecorder {
	q := url.Values{"profile": {name}}
	wire.Caller{Env: env, Config: config}.Query(q)
	return h.get(alice, wire.PathCredentials+"?"+q.Encode())
}

// TestCallersGetTheirOwnEndpoints: credentials made at one endpoint are
// never handed to a caller whose settings resolve to another, and each
// caller's calls go where its own settings say.
func TestCallersGetTheirOwnEndpoints(t *testing.T) {
	t.Parallel()
	h, eps, cfg := callerHarness(t, testConfig)
	a := map[string]string{"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:4001"}
	b := map[string]string{"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:4002"}
	none := map[string]string{"AWS_REGION": "eu-west-1"}
	fromA := decodeCreds(t, h.as(a, cfg, "plain"))
	fromB := decodeCreds(t, h.as(b, cfg, "plain"))
	fromNone := decodeCreds(t, h.as(none, cfg, "plain"))
	if fromA == fromB || fromA == fromNone || fromB == fromNone {
		t.Fatal("one endpoint's credentials were handed to a caller of another")
	}
	// Each again: from memory.
	for _, env := range []map[string]string{a, b, none} {
		decodeCreds(t, h.as(env, cfg, "plain"))
	}
	want := map[string]string{"http://127.0.0.1:4001": "GetSessionToken", "http://127.0.0.1:4002": "GetSessionToken", "https://sts.eu-west-1.amazonaws.com": "GetSessionToken"}
	if got := eps.ops(); !mapsEqual(got, want) {
		t.Errorf("calls by endpoint = %v, want %v", got, want)
	}
	// Status names the endpoint of each.
	rec := h.get(alice, wire.PathStatus)
	for _, e := range []string{"http://127.0.0.1:4001", "http://127.0.0.1:4002", "https://sts.eu-west-1.amazonaws.com"} {
		if !strings.Contains(rec.Body.String(), e) {
			t.Errorf("status does not name %s: %s", e, rec.Body)
		}
	}
}

// TestAnotherUsersCallerNamesNoEndpoint: the daemon's keys go only where
// its own config says for a caller of another user; such a caller naming
// an endpoint is refused, and its region is its own.
func TestAnotherUsersCallerNamesNoEndpoint(t *testing.T) {
	t.Parallel()
	_, eps, cfg := callerHarness(t, testConfig) // its endpoints and config file; bob's daemon is h2
	h2 := newDaemonHarness(t, "[access bob]\nusers = bob\nprofiles = plain\neffect = allow\n", func(s *setup) { s.newSTS = eps.at })
	bob := alice
	bob.UID = 1001
	q := url.Values{"profile": {"plain"}}
	wire.Caller{Env: map[string]string{"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:4666"}, Config: cfg}.Query(q)
	rec := h2.get(bob, wire.PathCredentials+"?"+q.Encode())
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "AWS_ENDPOINT_URL_STS is not used") {
		t.Fatalf("HTTP %d %s", rec.Code, rec.Body)
	}
	q = url.Values{"profile": {"plain"}}
	wire.Caller{Env: map[string]string{"AWS_REGION": "ap-southeast-2"}, Config: cfg}.Query(q)
	decodeCreds(t, h2.get(bob, wire.PathCredentials+"?"+q.Encode()))
	if got := eps.ops(); !mapsEqual(got, map[string]string{"https://sts.ap-southeast-2.amazonaws.com": "GetSessionToken"}) {
		t.Errorf("calls by endpoint = %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOneMFASessionAcrossRegions: two role profiles on one MFA device in
// different regions make one GetSessionToken: a regional STS session token
// works in every region of its partition. Each AssumeRole goes to its own
// region's endpoint. A new daemon on the same keyring (a restart) needs no
// new session either.
func TestOneMFASessionAcrossRegions(t *testing.T) {
	t.Parallel()
	const cfg = testConfig + `[profile eu]
role_arn = arn:aws:iam::210987654321:role/Eu
source_profile = base
region = eu-west-1
[profile apac]
role_arn = arn:aws:iam::210987654321:role/Apac
source_profile = base
region = ap-southeast-2
`
	h, eps, path := callerHarness(t, cfg)
	decodeCreds(t, h.as(nil, path, "eu"))
	decodeCreds(t, h.as(nil, path, "apac"))
	want := map[string]string{
		"https://sts.eu-west-1.amazonaws.com":      "GetSessionToken,GetCallerIdentity,AssumeRole",
		"https://sts.ap-southeast-2.amazonaws.com": "AssumeRole",
	}
	if got := eps.ops(); !mapsEqual(got, want) || h.codes.N() != 1 {
		t.Fatalf("calls by endpoint = %v, %d codes; want %v and one code", got, h.codes.N(), want)
	}
	// A restart: a new daemon and broker on the same keyring.
	eps2 := &endpoints{sts: map[string]*fakests.STS{}}
	h2 := newDaemonHarness(t, "", func(s *setup) { s.newSTS = eps2.at; s.keys = h.keys })
	decodeCreds(t, h2.as(nil, path, "apac"))
	decodeCreds(t, h2.as(map[string]string{"AWS_REGION": "us-west-2"}, path, "plain"))
	if got := eps2.ops(); strings.Contains(fmt.Sprint(got), "GetSessionToken,AssumeRole") || strings.Count(fmt.Sprint(got), "GetSessionToken") != 1 {
		t.Errorf("after a restart: calls by endpoint = %v; want no new MFA session (plain's own session only)", got)
	}
}

// TestFailedReloadServesTheOwnerOnly: a config file that cannot be
// reloaded (a typo in a new deny rule, a rule without effect, a file others
// may write) leaves no rule in force that the file no longer says: until a
// valid file is back, the daemon serves its own user only, and says why to
// its owner only.
func TestFailedReloadServesTheOwnerOnly(t *testing.T) {
	t.Parallel()
	rule := "[access bob]\nusers = bob\nprofiles = plain\neffect = allow\n"
	h := newDaemonHarness(t, rule)
	path := filepath.Join(t.TempDir(), "config")
	write := func(text string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	h.d.opts.ConfigPath = path
	h.d.opts.Reload = func() (*profile.Config, error) { return profile.LoadConfig(path) }
	bob := alice
	bob.UID = 1001
	write(testConfig+rule, 0o600)
	h.d.Reload()
	decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))

	for _, tc := range []struct {
		name string
		text string
		mode os.FileMode
		why  string
	}{
		{"a deny rule half-written", testConfig + rule + "[access no-bob]\nusers = bob\n", 0o600, "effect"},
		{"a typo", testConfig + rule + "[access no-bob]\nusers = bob\nprofiles = plain\neffect = dney\n", 0o600, "effect"},
		{"writable by the group", testConfig + rule, 0o660, "writable by group or others"},
	} {
		write(tc.text, tc.mode)
		h.d.Reload()
		if rec := h.get(bob, "/v1/credentials?profile=plain"); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "serves its own user only") {
			t.Errorf("%s: bob got HTTP %d %s", tc.name, rec.Code, rec.Body)
		}
		decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
		if st := h.get(alice, wire.PathStatus).Body.String(); !strings.Contains(st, tc.why) {
			t.Errorf("%s: the owner's status does not say why: %s", tc.name, st)
		}
		if st := h.get(bob, wire.PathStatus).Body.String(); strings.Contains(st, "config_error") {
			t.Errorf("%s: another user's status shows the config error: %s", tc.name, st)
		}
	}
	write(testConfig+rule, 0o600)
	h.d.Reload()
	decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))
}

// brokenDisk is an audit log's file that fails while full is set.
type brokenDisk struct{ full atomic.Bool }

func (b *brokenDisk) Write(p []byte) (int, error) {
	if b.full.Load() {
		return 0, syscall.ENOSPC
	}
	return len(p), nil
}

// TestNoAuditNoGrantToOthers: while the audit log cannot be written, the
// daemon grants nothing to other users (every grant to another user is
// audited, or not made), serves its own user, and starts again once the
// log can be written.
func TestNoAuditNoGrantToOthers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		disk := &brokenDisk{}
		audit := newAuditLog(disk, nil, 64, time.Second, time.Now)
		h := newDaemonHarness(t, "[access bob]\nusers = bob\nprofiles = plain\neffect = allow\n", func(s *setup) { s.audit = audit })
		bob := alice
		bob.UID = 1001
		decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))
		synctest.Wait() // its record is written
		disk.full.Store(true)
		decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain")) // its record cannot be written
		synctest.Wait()
		rec := h.get(bob, "/v1/credentials?profile=plain")
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "audit log cannot be written") || !strings.Contains(rec.Body.String(), "free space") {
			t.Fatalf("while the audit log fails: HTTP %d %s", rec.Code, rec.Body)
		}
		decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
		disk.full.Store(false)
		synctest.Wait()
		decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain")) // a record written again
		synctest.Wait()
		decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))
		audit.Close()
	})
}

// TestResolutionsOfOwnerAndOthersApart: another user sending the very
// settings the daemon's own user sent is resolved as another user (the
// daemon's config and endpoints), never from the owner's resolution.
func TestResolutionsOfOwnerAndOthersApart(t *testing.T) {
	t.Parallel()
	eps := &endpoints{sts: map[string]*fakests.STS{}}
	h := newDaemonHarness(t, "[access bob]\nusers = bob\nprofiles = plain\neffect = allow\n", func(s *setup) { s.newSTS = eps.at })
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"profile": {"plain"}}
	wire.Caller{Env: map[string]string{"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:4001"}, Config: path}.Query(q)
	decodeCreds(t, h.get(alice, wire.PathCredentials+"?"+q.Encode()))
	bob := alice
	bob.UID = 1001
	if rec := h.get(bob, wire.PathCredentials+"?"+q.Encode()); rec.Code != http.StatusBadRequest {
		t.Fatalf("another user with the owner's endpoint: HTTP %d %s", rec.Code, rec.Body)
	}
}

// TestCallerConfigEditSeen: an edit of the caller's config file is seen
// once configRecheck has passed, though the profile was resolved before;
// until then the resolution made is used.
func TestCallerConfigEditSeen(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h, _, cfg := callerHarness(t, testConfig)
		q := url.Values{"profile": {"direct"}}
		wire.Caller{Config: cfg}.Query(q)
		role := func() string {
			rs, err := h.d.resolve(&peerInfo{peer: alice}, q, "direct")
			if err == nil {
				err = rs.err
			}
			if err != nil {
				t.Fatal(err)
			}
			return rs.chain.Steps[len(rs.chain.Steps)-1].RoleARN
		}
		if got := role(); !strings.HasSuffix(got, "role/Direct") {
			t.Fatalf("role %s before the edit", got)
		}
		edited := strings.Replace(testConfig, "role/Direct", "role/Edited", 1)
		if err := os.WriteFile(cfg, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour) // a time of its own, whatever the clock
		if err := os.Chtimes(cfg, later, later); err != nil {
			t.Fatal(err)
		}
		if got := role(); !strings.HasSuffix(got, "role/Direct") {
			t.Fatalf("role %s within configRecheck of the last look", got)
		}
		time.Sleep(configRecheck) // the bubble's clock: no real wait
		if got := role(); !strings.HasSuffix(got, "role/Edited") {
			t.Fatalf("role %s after the edit and configRecheck", got)
		}
	})
}
