package daemon

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/credbroker/credbroker/wire"
)

// TestDaemonMFARoleOverAnHour: a role with mfa_serial and 12 h asks the
// client for a code for that AssumeRole (no GetSessionToken), and the code
// the client submits goes with it, for the full 12 h.
func TestDaemonMFARoleOverAnHour(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, `[profile long]
role_arn = arn:aws:iam::210987654321:role/Long
source_profile = base
duration_seconds = 43200
`, humanCodes)
	rec := h.get(alice, "/v1/credentials?profile=long")
	var de wire.ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &de)
	if rec.Code != http.StatusUnauthorized || de.Code != wire.CodeMFARequired || de.MFASerial != "arn:aws:iam::123456789012:mfa/alice" {
		t.Fatalf("HTTP %d: %+v", rec.Code, de)
	}
	if h.sts.Ops() != "" {
		t.Fatalf("asked STS without a code: %s", h.sts.Ops())
	}
	out := decodeCreds(t, h.call(alice, http.MethodPost, "/v1/mfa", `{"profile":"long","code":"654321"}`))
	calls := h.sts.CallList()
	if h.sts.Ops() != "GetCallerIdentity,AssumeRole" {
		t.Fatalf("calls = %s, want the code with AssumeRole itself", h.sts.Ops())
	}
	if ar := calls[1]; ar.Code != "654321" || ar.Duration != 43200 || ar.Serial != "arn:aws:iam::123456789012:mfa/alice" {
		t.Errorf("AssumeRole = %+v", ar)
	}
	exp, err := time.Parse(time.RFC3339, out.Expiration)
	if err != nil || time.Until(exp) < 11*time.Hour {
		t.Errorf("expiration %s (%v): want 12 h on", out.Expiration, err)
	}
	// Served from memory afterwards.
	h.sts.Reset()
	decodeCreds(t, h.get(alice, "/v1/credentials?profile=long"))
	if h.sts.Ops() != "" {
		t.Errorf("calls = %s", h.sts.Ops())
	}
}
