package daemon

import (
	"sync"
	"time"
)

// maxDenialsPerMinute is how many refusals of one uid the audit log and
// the daemon's log record a minute; past it they are counted, and the count
// is recorded with the next one let through. One uid can then add at most
// about 60 KiB a minute to the audit log (a record is under 500 bytes,
// with one summary line).
const maxDenialsPerMinute = 120

// denials limits the refusals recorded per uid.
type denials struct {
	mu   sync.Mutex
	uids map[uint32]*denialWindow
}

type denialWindow struct {
	start      time.Time
	recorded   int
	suppressed int
}

// admit reports whether a refusal of uid at now is recorded, and how many
// were suppressed before it (to be said with it).
func (d *denials) admit(uid uint32, now time.Time) (suppressed int, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.uids == nil {
		d.uids = map[uint32]*denialWindow{}
	}
	w := d.uids[uid]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if len(d.uids) >= maxResolutions {
			clear(d.uids)
		}
		prev := 0
		if w != nil {
			prev = w.suppressed
		}
		w = &denialWindow{start: now}
		d.uids[uid] = w
		w.recorded++
		return prev, true
	}
	if w.recorded >= maxDenialsPerMinute {
		w.suppressed++
		return 0, false
	}
	w.recorded++
	return 0, true
}
