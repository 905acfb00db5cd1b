package daemon

import (
	"fmt"
	"time"

	"github.com/credbroker/credbroker/peercred"
)

// maxDenialsPerMinute is how many audit records other than grants (refusals,
// errors) one uid other than the daemon's own gets a minute; past it they
// are counted, and when the minute ends one record says how many were left
// out. A uid that is granted nothing thus adds at most 121 records a minute
// to the audit log (each under 500 bytes). Grants are never left out: each
// one is recorded, and the request rate bounds them.
const maxDenialsPerMinute = 120

// newDenials is the daemon's budget of audited refusals per uid.
func (d *Daemon) newDenials() *uidBudget {
	return &uidBudget{perMinute: maxDenialsPerMinute, summary: func(uid uint32, n int) {
		if d.opts.Audit == nil {
			return
		}
		d.opts.Audit.Record(AuditRecord{Time: time.Now().UTC(), UID: uid, User: peercred.Peer{UID: uid}.UserName(),
			Action: "refusals", Decision: "deny",
			Reason: fmt.Sprintf("%d more refusals and errors of this uid were not recorded in the minute before (at most %d a minute)", n, maxDenialsPerMinute)})
	}}
}

// callerAttrs names pi in a log line: with the uid attribute that caps
// the lines one uid can cause, unless it is the daemon's own user.
func (d *Daemon) callerAttrs(pi *peerInfo) []any {
	if pi.peer.UID == d.opts.Owner {
		return []any{"peer", pi.peer.String()}
	}
	return []any{uidAttr, pi.peer.UID, "peer", pi.peer.String()}
}
