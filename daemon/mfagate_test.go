package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/credbroker/credbroker/internal/fakests"
	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/wire"
)

// TestMFAWrongCodeLoopDoesNotBlockOthers: a uid that submits a wrong MFA
// code for a shared device in a loop gets at most maxRefusedMFACodes of
// them to STS in any mfaTriesWindow (each counts toward AWS locking the
// device), one a TOTP step at most, and is told how long to wait; another
// uid's code for the same device is tried at once whenever it comes, and
// one submitted while a code is being tried waits for its turn instead
// of being refused.
func TestMFAWrongCodeLoopDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newDaemonHarness(t, "[access team]\nusers = bob, 1002\nprofiles = prod\neffect = allow\n", humanCodes)
		bob, carol := alice, alice
		bob.UID, carol.UID = 1001, 1002
		hold := make(chan struct{})
		h.sts.SetFail(func(c fakests.Call) error {
			switch c.Code {
			case "111111":
				return apiError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
			case "333333":
				<-hold // an STS that takes its time over this one
			}
			return nil
		})
		wrongTries := func() int { return strings.Count(codesSent(h), "111111") }
		submit := func(peer peercred.Peer, code string) (int, wire.ErrorBody) {
			rec := h.call(peer, http.MethodPost, wire.PathMFA, `{"profile":"prod","code":"`+code+`"}`)
			var de wire.ErrorBody
			if rec.Code != http.StatusOK {
				_ = json.Unmarshal(rec.Body.Bytes(), &de)
			}
			return rec.Code, de
		}

		forget := func() {
			t.Helper()
			if rec := h.call(alice, http.MethodPost, wire.PathForget, `{"profile":"base"}`); rec.Code != http.StatusOK {
				t.Fatalf("forget: HTTP %d", rec.Code)
			}
		}
		// Bob's wrong code is refused; carol's right one, a second later,
		// is tried at once and taken.
		if code, de := submit(bob, "111111"); code != http.StatusForbidden || de.Code != wire.CodeMFARefused {
			t.Fatalf("bob's wrong code: HTTP %d %s", code, de.Code)
		}
		time.Sleep(time.Second)
		if code, de := submit(carol, "222222"); code != http.StatusOK {
			t.Fatalf("carol's right code a second after bob's wrong one: HTTP %d %s: %s", code, de.Code, de.Message)
		}
		forget() // her session is gone: each code goes to STS again

		// Bob submits a wrong code every second for 20 minutes: one a
		// step, at most 3 in 15 minutes reach STS; carol's code, while
		// bob is held back, is taken.
		start := time.Now()
		var lastBob wire.ErrorBody
		for sec := range 20 * 60 {
			code, de := submit(bob, "111111")
			switch code {
			case http.StatusForbidden, http.StatusTooManyRequests:
				lastBob = de
			default:
				t.Fatalf("%ds into the loop, bob's wrong code: HTTP %d", sec, code)
			}
			if sec == int(mfaTriesWindow/time.Second)-2 && wrongTries() != maxRefusedMFACodes {
				t.Fatalf("%d of bob's wrong codes reached STS in the first %s, want %d", wrongTries(), mfaTriesWindow, maxRefusedMFACodes)
			}
			time.Sleep(time.Second)
		}
		// 0 s (before the loop), 30 s, 60 s; then each as an old one
		// leaves the window: 900 s, 930 s, 960 s.
		if n := wrongTries(); n != 2*maxRefusedMFACodes {
			t.Fatalf("%d of bob's wrong codes reached STS in %s, want %d", n, time.Since(start), 2*maxRefusedMFACodes)
		}
		if lastBob.Code != wire.CodeMFAWait || !strings.Contains(lastBob.Message, "uid 1001 had 3 MFA codes for arn:aws:iam::123456789012:mfa/alice refused in the last 15m0s; its next is taken in") ||
			!strings.Contains(lastBob.Hint, "then run: credbroker unlock prod") {
			t.Fatalf("bob is told %+v", lastBob)
		}
		if code, de := submit(carol, "222222"); code != http.StatusOK {
			t.Fatalf("carol's right code while bob is held back: HTTP %d %s: %s", code, de.Code, de.Message)
		}
		forget()

		// A code submitted while another is tried waits for its turn.
		time.Sleep(mfaTriesWindow)
		slow := make(chan int)
		go func() { code, _ := submit(bob, "333333"); slow <- code }()
		synctest.Wait() // bob's code is at STS
		got := make(chan int)
		go func() { code, _ := submit(carol, "222222"); got <- code }()
		synctest.Wait()
		select {
		case code := <-got:
			t.Fatalf("carol was answered (HTTP %d) while bob's code was being tried", code)
		default:
		}
		close(hold)
		if a, b := <-slow, <-got; a != http.StatusOK || b != http.StatusOK {
			t.Fatalf("bob's slow code: HTTP %d; carol's after it: HTTP %d", a, b)
		}
	})
}

// codesSent lists the MFA codes of the GetSessionToken calls STS got.
func codesSent(h *daemonHarness) string {
	var codes []string
	for _, c := range h.sts.CallList() {
		if c.Op == "GetSessionToken" {
			codes = append(codes, c.Code)
		}
	}
	return strings.Join(codes, ",")
}
