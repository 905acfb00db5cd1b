package daemon

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/credbroker/credbroker/broker"
)

// refresh starts (or joins) the one refresh of s. It runs detached from
// any caller, so a caller giving up does not cancel it for others.
func (d *Daemon) refresh(s *profileState, renew bool) <-chan singleflight.Result {
	gen := d.gen.Load()
	return d.flights.DoChan(s.key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		start := time.Now()
		chain := s.chain.Load()
		res, err := d.b.Fetch(broker.WithWaits(ctx, s.waits.set), chain, broker.FetchOptions{Renew: renew})
		s.waits.clear()
		d.record(s, res, err, gen)
		if err == nil {
			d.log.Info("refreshed", "profile", s.name, "endpoint", chain.Endpoint.String(), "region", chain.Region, "role", res.RoleARN,
				"expires", res.Expires.UTC().Format(time.RFC3339), "renew", renew, "took", time.Since(start).Round(time.Millisecond))
		}
		return res, err
	})
}

// record keeps the outcome of a fetch that started at generation gen, and
// schedules the next one. An outcome from before a reset is dropped: it may
// come from a key or config that was just replaced.
func (d *Daemon) record(s *profileState, res broker.Result, err error, gen uint64) {
	name := s.name
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != d.gen.Load() {
		return
	}
	s.stopTimer()
	if err == nil {
		r := res
		body := render(res)
		s.body.Store(&body)
		s.served.Store(&r)
		s.lastErr, s.retry, s.failures, s.nextTry = nil, broker.RetryBackoff, 0, time.Time{}
		next := res.RenewAt(d.jitter())
		if !next.After(now) {
			// Still due after a renewal: a part that needs a human (an
			// MFA session without a seed) could not be renewed. Try again
			// when it stops being fresh, not in a loop.
			next = res.Expires.Add(-res.Margin())
			if !next.After(now) {
				next = now.Add(time.Minute)
			}
		}
		s.schedule(d, next.Sub(now))
		return
	}
	s.lastErr, s.retry = err, broker.ClassOf(err).Retry
	s.failures++
	msg, _, _ := broker.Explain(err)
	switch s.retry {
	case broker.RetryBackoff:
		// Exponential backoff with jitter (half to all of the step), so
		// that many profiles failing together don't retry together.
		step := min(backoffCap, backoffBase<<min(s.failures-1, 20))
		delay := time.Duration(float64(step) * (0.5 + d.jitter()/2))
		s.nextTry = now.Add(delay)
		s.schedule(d, delay)
		d.log.Warn("refresh failed; will retry", "profile", name, "err", msg, "retry_in", delay.Round(time.Second), "failures", s.failures)
	case broker.RetryHuman:
		s.nextTry = time.Time{}
		d.log.Info("MFA code needed", "profile", name)
	case broker.RetryLocked:
		// Far future: only a new code (credbroker unlock), a forget (a new
		// seed) or a config change clears it.
		s.nextTry = now.Add(100 * 365 * 24 * time.Hour)
		d.log.Error("MFA code refused; not retrying (repeated failures can lock the device)", "profile", name, "err", msg)
	default:
		s.nextTry = now.Add(terminalCooldown)
		d.log.Error("refresh failed", "profile", name, "err", msg)
	}
}

// schedule arranges a refresh-ahead of s in delay, if s is still in use.
// Called with s.mu held.
func (s *profileState) schedule(d *Daemon, delay time.Duration) {
	if d.stopped.Load() || s.dropped.Load() {
		return // a refresh that finished after shutdown began, or after s was replaced
	}
	s.timer = time.AfterFunc(max(delay, 0), func() { d.scheduled(s) })
}

// scheduled runs a refresh-ahead, unless nobody asked for the profile for
// a long time.
func (d *Daemon) scheduled(s *profileState) {
	if time.Since(time.Unix(0, s.lastUsed.Load())) > d.opts.ActiveFor {
		d.log.Info("profile idle; no longer refreshed ahead", "profile", s.name)
		return
	}
	<-d.refresh(s, true)
}

// resetAll forgets what was served and every error state (after a config
// change, a new key or seed, a forget).
func (d *Daemon) resetAll() {
	d.gen.Add(1)
	d.callers.forget()
	d.eachState(func(s *profileState) {
		// New callers must not join a refresh that started before.
		d.flights.Forget(s.key)
		s.stopTimer()
		s.served.Store(nil)
		s.body.Store(nil)
		s.lastErr, s.retry, s.failures, s.nextTry = nil, broker.RetryBackoff, 0, time.Time{}
	})
}

// stopTimers ends refresh-ahead for good (the daemon is shutting down).
func (d *Daemon) stopTimers() {
	d.stopped.Store(true)
	d.eachState((*profileState).stopTimer)
}

// eachState runs f on every profile's state, with its lock held.
func (d *Daemon) eachState(f func(*profileState)) {
	d.states.Range(func(_, v any) bool {
		s := v.(*profileState)
		s.mu.Lock()
		f(s)
		s.mu.Unlock()
		return true
	})
}

// stopTimer cancels s's scheduled refresh. Called with s.mu held.
func (s *profileState) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}
