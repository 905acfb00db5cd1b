package daemon

import (
	"context"
	"net/http"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/wire"
)

// totpCodeTimeout bounds a code request: two time steps and a margin,
// within a client's 90 s.
const totpCodeTimeout = 70 * time.Second

// handleTOTPCode makes a code of a profile's stored seed for its owner
// (credbroker totp code): with the daemon's own generator, so that a code
// shown for the console sign-in is one the daemon will never send, and
// the other way round. While the code waits for the device's next time
// step, the caller hears so (interim answers).
func (d *Daemon) handleTOTPCode(w http.ResponseWriter, r *http.Request) {
	var req wire.ProfileRequest
	if !readJSON(w, r, &req) {
		return
	}
	// An MFA code is the second factor of the daemon's own user: access
	// rules grant others credentials, never codes.
	pi, ok := d.ownerOnly(w, r, "totp-code", "ask it for MFA codes")
	if !ok {
		return
	}
	rs, ok := d.resolveFor(w, pi, r.URL.Query(), "totp-code", req.Profile)
	if !ok {
		return
	}
	// Its turn may come after another caller's code, each waiting up to
	// a time step (30 s) for a step of its own.
	ctx, cancel := context.WithTimeout(r.Context(), totpCodeTimeout)
	defer cancel()
	if notes := waitNotes(w, r); notes != nil {
		ctx = broker.WithWaits(ctx, notes)
	}
	code, err := d.b.Code(ctx, rs.chain)
	if r.Context().Err() != nil {
		return // the caller went away
	}
	if err != nil {
		d.fail(w, pi, "totp-code", rs.chain, err)
		return
	}
	d.audit(pi, AuditRecord{Action: "totp-code", Profile: req.Profile, Decision: "grant", Reason: "a code for " + rs.chain.MFASerial})
	writeJSON(w, http.StatusOK, wire.TOTPCodeAnswer{Code: code, Device: rs.chain.MFASerial})
}
