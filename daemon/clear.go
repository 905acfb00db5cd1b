package daemon

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// handleClear drops cached sessions (credbroker clear): those the named
// profiles use, as the caller's settings resolve them (the session their
// chain starts with and their role sessions), or every one. Memory and the
// sealed cache both: the next request for a profile that used them goes
// back to STS. Only the daemon's own user may: it costs STS calls, and
// maybe an MFA code, for everyone the daemon serves.
func (d *Daemon) handleClear(w http.ResponseWriter, r *http.Request) {
	var req wire.ClearRequest
	if !readJSON(w, r, &req) {
		return
	}
	pi, ok := d.ownerOnly(w, r, "clear", "make it drop cached sessions")
	if !ok {
		return
	}
	// Every profile is resolved before anything is dropped: a typo drops
	// nothing.
	var names []string
	for _, name := range req.Profiles {
		if err := profile.ValidProfileName(name); err != nil {
			writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: wire.CodeBadRequest, Message: err.Error()})
			return
		}
		rs, ok := d.resolveFor(w, pi, r.URL.Query(), "clear", name)
		if !ok {
			return
		}
		names = append(names, broker.SessionEntries(rs.chain)...)
	}
	var dropped []string
	var err error
	if len(req.Profiles) == 0 {
		dropped, err = d.b.ClearAll()
	} else {
		dropped, err = d.b.Clear(names)
	}
	// What was served may have been made from what was dropped.
	d.resetAll()
	what := strings.Join(req.Profiles, ",")
	if err != nil {
		d.failName(w, pi, "clear", what, err)
		return
	}
	d.audit(pi, AuditRecord{Action: "clear", Profile: what, Decision: "grant", Reason: fmt.Sprintf("dropped %d cached sessions", len(dropped))})
	if dropped == nil {
		dropped = []string{}
	}
	writeJSON(w, http.StatusOK, wire.ClearAnswer{Dropped: dropped})
}
