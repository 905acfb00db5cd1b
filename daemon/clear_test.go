package daemon

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/wire"
)

// clearAs posts a clear request as peer and returns what was dropped.
func (h *daemonHarness) clearAs(t *testing.T, peer peercred.Peer, body string, want int) []string {
	t.Helper()
	rec := h.call(peer, http.MethodPost, wire.PathClear, body)
	if rec.Code != want {
		t.Fatalf("clear %s: HTTP %d %s, want %d", body, rec.Code, rec.Body, want)
	}
	if want != http.StatusOK {
		return nil
	}
	var ans wire.ClearAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans.Dropped == nil {
		t.Fatalf("clear answer %s: %v", rec.Body, err)
	}
	return ans.Dropped
}

// ops is the STS calls made since the last look, without the one
// GetCallerIdentity a key's first role session makes (its session name).
func (h *daemonHarness) ops() string {
	var ops []string
	for _, op := range strings.Split(h.sts.Ops(), ",") {
		if op != "" && op != "GetCallerIdentity" {
			ops = append(ops, op)
		}
	}
	h.sts.Reset()
	return strings.Join(ops, ",")
}

// TestDaemonClear: clear PROFILE drops the sessions the profile uses (its
// role session and the MFA session its chain starts with), in memory and
// in the sealed cache, and nothing else; the next request for it goes back
// to STS while the others are served as before. clear without a profile
// drops every session. A profile that does not resolve drops nothing.
func TestDaemonClear(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "")
	for _, p := range []string{"prod", "plain", "direct"} {
		decodeCreds(t, h.get(alice, "/v1/credentials?profile="+p))
	}
	if got := h.ops(); got != "GetSessionToken,AssumeRole,GetSessionToken,AssumeRole" {
		t.Fatalf("first requests: %s", got)
	}

	dropped := h.clearAs(t, alice, `{"profiles":["prod"]}`, http.StatusOK)
	if want := []string{"base/mfa-session", "prod/role"}; !slices.Equal(dropped, want) {
		t.Fatalf("clear prod dropped %v, want %v", dropped, want)
	}
	for _, name := range dropped {
		if found, err := h.d.b.Clear([]string{name}); err != nil || len(found) != 0 {
			t.Errorf("%s is still cached after clear (sealed or in memory): %v %v", name, found, err)
		}
	}
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=direct"))
	if got := h.ops(); got != "" {
		t.Errorf("plain and direct after clear prod: STS calls %s, want none", got)
	}
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=prod"))
	if got := h.ops(); got != "GetSessionToken,AssumeRole" {
		t.Errorf("prod after clear prod: STS calls %s", got)
	}

	// One profile that does not resolve: nothing dropped. It comes after
	// another in the same request, with the same caller settings (the
	// names are in the body, not the query): it must not be resolved as
	// the profile before it.
	h.clearAs(t, alice, `{"profiles":["plain"]}`, http.StatusOK)
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	h.ops()
	h.clearAs(t, alice, `{"profiles":["plain","nosuch"]}`, http.StatusNotFound)
	h.clearAs(t, alice, `{"profiles":["nosuch"]}`, http.StatusNotFound)
	h.clearAs(t, alice, `{"profiles":["bad name"]}`, http.StatusBadRequest)
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=plain"))
	if got := h.ops(); got != "" {
		t.Errorf("plain after refused clears: STS calls %s, want none", got)
	}

	dropped = h.clearAs(t, alice, `{}`, http.StatusOK)
	if want := []string{"base/mfa-session", "direct/role", "plain/session", "prod/role"}; !slices.Equal(dropped, want) {
		t.Fatalf("clear dropped %v, want %v", dropped, want)
	}
	for _, p := range []string{"prod", "plain", "direct"} {
		decodeCreds(t, h.get(alice, "/v1/credentials?profile="+p))
	}
	if got := h.ops(); got != "GetSessionToken,AssumeRole,GetSessionToken,AssumeRole" {
		t.Errorf("after clear: STS calls %s", got)
	}
	if got := h.clearAs(t, alice, `{"profiles":["direct"]}`, http.StatusOK); !slices.Equal(got, []string{"direct/role"}) {
		t.Errorf("clear direct: %v", got)
	}
	if got := h.clearAs(t, alice, `{"profiles":["direct"]}`, http.StatusOK); len(got) != 0 {
		t.Errorf("clear direct again: %v, want nothing", got)
	}
}

// TestDaemonClearIsTheOwners: another user may not make the daemon drop
// what it serves everyone (it costs STS calls, maybe MFA codes); the
// refusal is audited.
func TestDaemonClearIsTheOwners(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, "\n[access all]\nusers = bob\nprofiles = *\neffect = allow\n")
	bob := peercred.Peer{UID: 1001, GID: 1001}
	decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))
	h.ops()
	h.clearAs(t, bob, `{}`, http.StatusForbidden)
	h.clearAs(t, bob, `{"profiles":["plain"]}`, http.StatusForbidden)
	decodeCreds(t, h.get(bob, "/v1/credentials?profile=plain"))
	if got := h.ops(); got != "" {
		t.Errorf("after bob's clear: STS calls %s, want none", got)
	}
	found := false
	for _, rec := range readAudit(t, h, 4) {
		found = found || (rec.Action == "clear" && rec.Decision == "deny" && rec.UID == 1001)
	}
	if !found {
		t.Error("bob's clear is not audited as refused")
	}
}
