package daemon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// profileState is what the daemon knows about one profile. The served
// result is read without a lock on the hot path.
type profileState struct {
	// key is the profile and what its credentials depend on (see
	// resolution); name is the profile.
	key, name string
	// chain is how its credentials are made, as last resolved.
	chain atomic.Pointer[profile.RoleChain]
	// served is what is handed out; body is it rendered once as
	// credential_process JSON, not for every request.
	served   atomic.Pointer[broker.Result]
	body     atomic.Pointer[[]byte]
	lastUsed atomic.Int64 // unix nanoseconds
	// dropped: the state was replaced (dropState); a refresh of it that
	// finishes later schedules no other.
	dropped atomic.Bool

	mu       sync.Mutex
	lastErr  error
	retry    broker.Retry
	failures int
	nextTry  time.Time
	timer    *time.Timer
	// waits is what its refresh waits for, told to waiting callers.
	waits waitBoard
}

// credentials is the heart of the daemon: answer from memory while the
// credentials are fresh; otherwise one refresh however many callers wait.
// While STS is in trouble, still-usable credentials are served; expired
// ones never are. note, when set, tells the caller what a refresh it
// waits on waits for (see waitNotes).
func (d *Daemon) credentials(ctx context.Context, s *profileState, note func(broker.Wait)) (broker.Result, error) {
	now := time.Now()
	s.lastUsed.Store(now.UnixNano())
	cur := s.served.Load()
	if cur != nil && cur.FreshAt(now) {
		return *cur, nil
	}
	usable := cur != nil && cur.UsableAt(now)
	s.mu.Lock()
	lastErr, retry, nextTry := s.lastErr, s.retry, s.nextTry
	s.mu.Unlock()
	if lastErr != nil && (now.Before(nextTry) || retry == broker.RetryHuman) {
		// Backing off, stopped after a terminal error, or waiting for an
		// MFA code: don't go back to STS (or the keyring) for each
		// caller; serve what is still usable, else say what is wrong.
		if usable {
			return *cur, nil
		}
		if retry == broker.RetryBackoff {
			return broker.Result{}, &retryingError{err: lastErr, in: nextTry.Sub(now)}
		}
		return broker.Result{}, lastErr
	}
	ch := d.refresh(s, false)
	var timeout <-chan time.Time
	if usable {
		// Don't keep a caller waiting on a slow STS when what we have is
		// still good.
		t := time.NewTimer(staleWait)
		defer t.Stop()
		timeout = t.C
	}
	// A caller that hears what the refresh waits for (an MFA time step,
	// a retry against STS) is told as it happens.
	var changed <-chan struct{}
	if note != nil {
		var w *broker.Wait
		if w, changed = s.waits.watch(); w != nil {
			note(*w)
		}
	}
	for {
		select {
		case r := <-ch:
			if r.Err == nil {
				return r.Val.(broker.Result), nil
			}
			if usable {
				return *cur, nil
			}
			return broker.Result{}, r.Err
		case <-timeout:
			return *cur, nil
		case <-ctx.Done():
			return broker.Result{}, ctx.Err()
		case <-changed:
			var w *broker.Wait
			if w, changed = s.waits.watch(); w != nil {
				note(*w)
			}
		}
	}
}

// retryingError is a transient failure the daemon retries in a while.
type retryingError struct {
	err error
	in  time.Duration
}

func (e *retryingError) Error() string {
	return fmt.Sprintf("%v (next attempt in %s)", e.err, e.in.Round(time.Second))
}

func (e *retryingError) Unwrap() error { return e.err }

// state is the served state of a resolved profile, made on first use.
// Only a profile that resolved has one: callers cannot grow the daemon's
// memory with made-up names.
func (d *Daemon) state(res resolution) *profileState {
	v, ok := d.states.Load(res.key)
	if !ok {
		v, _ = d.states.LoadOrStore(res.key, &profileState{key: res.key, name: res.chain.Profile})
	}
	s := v.(*profileState)
	if s.chain.Load() != res.chain {
		s.chain.Store(res.chain)
	}
	return s
}

// dropState forgets the served state key (its chain's session policy
// changed: nothing may be served from it again) and stops its refreshes.
func (d *Daemon) dropState(key string) {
	v, ok := d.states.LoadAndDelete(key)
	if !ok {
		return
	}
	s := v.(*profileState)
	s.dropped.Store(true)
	s.mu.Lock()
	s.stopTimer()
	s.mu.Unlock()
}

// rendered is res as credential_process JSON: the body kept with what is
// served when res is it, else rendered now.
func (s *profileState) rendered(res broker.Result) []byte {
	if cur, body := s.served.Load(), s.body.Load(); cur != nil && body != nil && cur.Credentials == res.Credentials {
		return *body
	}
	return render(res)
}

func render(res broker.Result) []byte {
	c := res.Credentials
	return wire.MarshalProcessOutput(c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.Expires, accountOf(res))
}

// accountOf is the account res's credentials act in: the role's, else the
// MFA device's (an IAM user's own device, so its account); "" when neither
// names one.
func accountOf(res broker.Result) string {
	arn := res.RoleARN
	if arn == "" && res.Chain != nil {
		arn = res.Chain.MFASerial
	}
	// arn:PARTITION:iam::ACCOUNT:...
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && len(parts[4]) == 12 {
		return parts[4]
	}
	return ""
}
