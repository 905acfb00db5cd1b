package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/credbroker/credbroker/broker"
)

// AWS counts the failed MFA codes of a device, and repeated failures can
// lock it, for everyone who uses it. Each uid's submitted codes are
// limited per device, so that one uid typing wrong codes in a loop costs
// the others neither their turn nor, for long, the device:
const (
	// maxRefusedMFACodes refused codes per device and uid in
	// mfaTriesWindow; then that uid's codes for the device wait until the
	// oldest leaves the window.
	maxRefusedMFACodes = 3
	mfaTriesWindow     = 15 * time.Minute
)

// mfaGate lets one submitted MFA code per device be tried at a time (a
// code of another uid waits for its turn, it is not refused); after a
// refused one, that uid's next only once the 30-second TOTP step has
// turned, and no more than maxRefusedMFACodes refused ones per uid and
// device in mfaTriesWindow. Another uid's codes are never held back by
// one uid's failures.
type mfaGate struct {
	mu sync.Mutex
	// busy: device -> closed when the code being tried has its answer.
	busy map[string]chan struct{}
	// refused: when STS refused the codes a uid submitted for a device,
	// within the window.
	refused map[mfaSubmitter][]time.Time
}

type mfaSubmitter struct {
	device string
	uid    uint32
}

func newMFAGate() mfaGate {
	return mfaGate{busy: map[string]chan struct{}{}, refused: map[mfaSubmitter][]time.Time{}}
}

// take reserves device for one code uid submitted for profile, waiting
// while another code for it is tried (until ctx is done). It returns an
// error (class mfa_wait) saying how long to wait when uid's own refused
// codes hold it back; release records whether this code was refused.
func (g *mfaGate) take(ctx context.Context, device, profile string, uid uint32) (release func(refused bool), err error) {
	who := mfaSubmitter{device: device, uid: uid}
	for {
		g.mu.Lock()
		now := time.Now()
		if err := g.heldBack(who, profile, now); err != nil {
			g.mu.Unlock()
			return nil, err
		}
		turn, busy := g.busy[device]
		if !busy {
			done := make(chan struct{})
			g.busy[device] = done
			g.mu.Unlock()
			return func(refused bool) { g.done(who, done, refused) }, nil
		}
		g.mu.Unlock()
		select {
		case <-turn:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// heldBack says why who may not submit a code now, if so. Called with
// g.mu held.
func (g *mfaGate) heldBack(who mfaSubmitter, profile string, now time.Time) error {
	times := g.refused[who]
	for len(times) > 0 && now.Sub(times[0]) >= mfaTriesWindow {
		times = times[1:]
	}
	if len(times) == 0 {
		delete(g.refused, who)
		return nil
	}
	g.refused[who] = times
	if len(times) >= maxRefusedMFACodes {
		return &mfaTriesError{profile: profile, device: who.device, uid: who.uid, refused: len(times),
			wait: times[0].Add(mfaTriesWindow).Sub(now)}
	}
	if wait := mfaResubmitWait - now.Sub(times[len(times)-1]); wait > 0 {
		return &broker.MFAWaitError{Profile: profile, Device: who.device, Wait: wait}
	}
	return nil
}

func (g *mfaGate) done(who mfaSubmitter, turn chan struct{}, refused bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.busy, who.device)
	close(turn)
	if refused {
		if len(g.refused) >= maxResolutions {
			g.pruneRefused(time.Now())
		}
		g.refused[who] = append(g.refused[who], time.Now())
	}
}

// pruneRefused drops what has left the window. Called with g.mu held.
func (g *mfaGate) pruneRefused(now time.Time) {
	for who, times := range g.refused {
		if now.Sub(times[len(times)-1]) >= mfaTriesWindow {
			delete(g.refused, who)
		}
	}
}

// mfaTriesError: a uid had its share of codes for a device refused.
type mfaTriesError struct {
	profile, device string
	uid             uint32
	refused         int
	wait            time.Duration
}

func (e *mfaTriesError) Error() string {
	return fmt.Sprintf("profile %s: uid %d had %d MFA codes for %s refused in the last %s; its next is taken in %s (each refused code counts toward AWS locking the device)",
		e.profile, e.uid, e.refused, e.device, mfaTriesWindow, e.wait.Round(time.Second))
}

// Hint says what to do meanwhile.
func (e *mfaTriesError) Hint() string {
	return fmt.Sprintf("check the device's code (its clock, the right device), wait %s, then run: credbroker unlock %s", e.wait.Round(time.Second), e.profile)
}

// Is makes errors.Is(err, broker.ErrMFAWait) work.
func (e *mfaTriesError) Is(target error) bool { return target == broker.ErrMFAWait }
