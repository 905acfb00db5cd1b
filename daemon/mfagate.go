package daemon

import (
	"sync"
	"time"
)

// mfaGate lets one submitted MFA code per device be tried at a time and,
// after a refused one, the next only once the 30-second TOTP step has
// turned: AWS counts failures per device, and repeated failures can lock
// it.
type mfaGate struct {
	mu      sync.Mutex
	busy    map[string]bool      // device -> a submitted code is being tried
	refused map[string]time.Time // device -> when STS last refused a submitted code
}

func newMFAGate() mfaGate {
	return mfaGate{busy: map[string]bool{}, refused: map[string]time.Time{}}
}

// take reserves device for one submitted code. It returns nil and how
// long to wait when another code is being tried or one was refused less
// than a step ago; release records whether this one was refused.
func (g *mfaGate) take(device string) (release func(refused bool), wait time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy[device] {
		return nil, mfaResubmitWait
	}
	if wait := mfaResubmitWait - time.Since(g.refused[device]); wait > 0 {
		return nil, wait
	}
	g.busy[device] = true
	return func(refused bool) {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.busy, device)
		if refused {
			g.refused[device] = time.Now()
		}
	}, 0
}
