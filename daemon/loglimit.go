package daemon

import (
	"context"
	"log/slog"
	"time"
)

// uidAttr is the log attribute that names the uid (other than the daemon's
// own) whose request caused a line: such lines are capped per uid.
const uidAttr = "uid"

// uidLogHandler passes on at most maxLogLinesPerMinute lines a minute that
// carry a uid attribute of one uid; the rest are counted and, when the
// minute ends, one line says how many of that uid's were left out. Lines
// without a uid (the daemon's own doings, its own user's requests) pass.
type uidLogHandler struct {
	next   slog.Handler
	budget *uidBudget
	// uid is set when an attribute added with WithAttrs names one.
	uid    uint32
	hasUID bool
}

func newUIDLogHandler(next slog.Handler, perMinute int) *uidLogHandler {
	h := &uidLogHandler{next: next}
	summary := slog.New(next)
	h.budget = &uidBudget{perMinute: perMinute, summary: func(uid uint32, n int) {
		summary.Warn("log lines left out", uidAttr, uid, "suppressed", n, "per_minute", perMinute, "in", time.Minute)
	}}
	return h
}

func (h *uidLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *uidLogHandler) Handle(ctx context.Context, r slog.Record) error {
	uid, ok := h.uid, h.hasUID
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == uidAttr {
			uid, ok = attrUID(a.Value)
			return false
		}
		return true
	})
	if ok && !h.budget.admit(uid) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *uidLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	for _, a := range attrs {
		if a.Key == uidAttr {
			c.uid, c.hasUID = attrUID(a.Value)
		}
	}
	return &c
}

func (h *uidLogHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// attrUID reads a uid attribute's value (any integer kind).
func attrUID(v slog.Value) (uint32, bool) {
	switch v.Kind() {
	case slog.KindUint64:
		return uint32(v.Uint64()), true
	case slog.KindInt64:
		return uint32(v.Int64()), true
	}
	return 0, false
}
