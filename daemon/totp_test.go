package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/wire"
)

// TestDaemonTOTPCode: the owner gets a code of a profile's stored seed,
// made and recorded by the daemon's generator, so that a code made
// afterwards elsewhere (totp code without a daemon) is another one;
// another user gets none, even with an access rule for the profile; a
// profile without a seed is told how to store one.
func TestDaemonTOTPCode(t *testing.T) {
	t.Parallel()
	const device = "arn:aws:iam::123456789012:mfa/alice"
	h := newDaemonHarness(t, "[access bob]\nusers = bob\nprofiles = *\neffect = allow\n", humanCodes)
	seed, err := mfa.ParseSeed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.keys.Put(keystore.KindTOTPSeed, "base", []byte(seed.Encode())); err != nil {
		t.Fatal(err)
	}
	ask := func(peer peercred.Peer, profile string) *httptest.ResponseRecorder {
		return h.call(peer, http.MethodPost, wire.PathTOTPCode, `{"profile":"`+profile+`"}`)
	}

	before := time.Now()
	rec := ask(alice, "prod") // a role on base: base's seed and device
	var ans wire.TOTPCodeAnswer
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &ans) != nil || ans.Device != device {
		t.Fatalf("owner: %d %s", rec.Code, rec.Body)
	}
	if want, _ := seed.Code(before); ans.Code != want {
		if next, _ := seed.Code(time.Now()); ans.Code != next {
			t.Fatalf("code %s is not the seed's code of this time step", ans.Code)
		}
	}
	// totp code without a daemon, in the same step: another code.
	clock := time.Now()
	local := &mfa.Generator{Steps: broker.StepStore{Keys: h.keys}, Now: func() time.Time { return clock },
		Sleep: func(_ context.Context, d time.Duration) error { clock = clock.Add(d); return nil }}
	other, err := local.Code(context.Background(), device, seed)
	if err != nil || other == ans.Code {
		t.Fatalf("a code made after the daemon's: %q, %v; want another than %q", other, err, ans.Code)
	}

	if rec := ask(peercred.Peer{UID: 1001, GID: 1001, PID: 7}, "prod"); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), `"code":"`+ans.Code) {
		t.Errorf("another user: %d %s", rec.Code, rec.Body)
	}
	rec = ask(alice, "plain")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "credbroker totp add") {
		t.Errorf("no seed: %d %s", rec.Code, rec.Body)
	}
}
