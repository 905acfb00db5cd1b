package mfa

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// StepStore remembers, per device (MFA serial number or ARN), the last time step whose
// code was sent to AWS. AWS rejects a code that was already used for a device
// ("MultiFactorAuthentication failed ... invalid MFA one time pass code"), so a
// Generator never hands out a code for a step at or before the stored one.
//
// The broker implements it on top of the keystore so that the memory outlives the
// process. LastStep followed by SetLastStep is not atomic: a Generator serializes the
// pair per device within itself, and an implementation shared by several processes
// must serialize Generator.Code per device across them (a lock held around the call),
// or two processes can hand out the same step.
type StepStore interface {
	LastStep(device string) (step uint64, ok bool, err error)
	SetLastStep(device string, step uint64) error
}

// maxWaitPeriods bounds how far ahead of the clock the stored step may be before
// Generator.Code gives up instead of waiting: the stored step may be the current one
// (the normal case, a wait of at most one period) or the next (a small backwards clock
// adjustment). Further ahead means the clock moved back a lot (or the store is
// corrupt), and sleeping that long would look like a hang.
const maxWaitPeriods = 2

// Generator hands out fresh codes: if the current time step was already used for the
// device, it waits for the next step (sleep, cancellable by ctx) and reports the wait
// through Notify before waiting.
//
// Set the fields before the first call and do not change or copy the Generator
// afterwards. Code is safe for concurrent use.
type Generator struct {
	Steps  StepStore                                        // required
	Now    func() time.Time                                 // nil = time.Now
	Sleep  func(ctx context.Context, d time.Duration) error // nil = SleepContext
	Notify func(wait time.Duration)                         // nil = silent

	mu      sync.Mutex
	devices map[string]*deviceTurn // guarded by mu
}

// deviceTurn serializes Code calls for one device. It is a channel rather than a
// mutex so that a caller waiting for its turn can give up when its ctx is done.
type deviceTurn struct {
	ch    chan struct{}
	users int // guarded by Generator.mu; the entry is dropped at zero
}

// Code returns a code for device at a time step never used before for that device,
// and records the step in Steps before returning it, so that a crash after the code
// was sent cannot lead to its reuse. If the current step was already used it waits
// for the next one (normally at most one period, 30 s for AWS virtual MFA devices), calling
// Notify first. Two goroutines asking for the same device get different steps: the
// second one waits for the first to finish and then for the next step.
//
// If ctx is done while waiting, Code returns an error wrapping ctx.Err() and records
// nothing. If recording the step fails, no code is returned.
func (g *Generator) Code(ctx context.Context, device string, seed Seed) (string, error) {
	switch {
	case g.Steps == nil:
		return "", errors.New("generate mfa code: Generator.Steps is nil")
	case device == "":
		return "", errors.New("generate mfa code: the mfa device serial is empty")
	case seed.isZero():
		return "", fmt.Errorf("generate mfa code for %s: the seed is empty (a zero mfa.Seed)", device)
	}
	release, err := g.acquire(ctx, device)
	if err != nil {
		return "", fmt.Errorf("generate mfa code for %s: wait for another code request: %w", device, err)
	}
	defer release()
	if l, ok := g.Steps.(DeviceLocker); ok {
		// Other processes (another daemon, totp code) make codes for the
		// device too: reading and recording its step is one step for all.
		unlock, err := l.LockDevice(ctx, device)
		if err != nil {
			return "", fmt.Errorf("generate mfa code for %s: wait for other processes' code requests: %w", device, err)
		}
		defer unlock()
	}

	for {
		now := g.now()
		if now.Unix() < 0 {
			return "", fmt.Errorf("generate mfa code for %s: clock is before 1970", device)
		}
		step := seed.Step(now)
		last, ok, err := g.Steps.LastStep(device)
		if err != nil {
			return "", fmt.Errorf("generate mfa code for %s: read last used time step: %w", device, err)
		}
		if !ok || step > last {
			code, err := seed.codeAt(step)
			if err != nil {
				return "", fmt.Errorf("generate mfa code for %s: %w", device, err)
			}
			if err := g.Steps.SetLastStep(device, step); err != nil {
				return "", fmt.Errorf("generate mfa code for %s: record time step: %w", device, err)
			}
			return code, nil
		}

		// The code of this step was already sent to AWS: wait for the first instant
		// of the step after the last used one.
		if last-step >= maxWaitPeriods {
			return "", &StepAheadError{Device: device, Ahead: time.Duration(last-step) * time.Duration(seed.period) * time.Second}
		}
		wait := time.Unix(int64((last+1)*seed.period), 0).Sub(now)
		if g.Notify != nil {
			g.Notify(wait)
		}
		if err := g.sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("generate mfa code for %s: wait %s for a fresh time step: %w", device, wait, err)
		}
		// Loop: re-read the clock and the store, which another process sharing the
		// store may have advanced while we slept.
	}
}

func (g *Generator) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Generator) sleep(ctx context.Context, d time.Duration) error {
	if g.Sleep != nil {
		return g.Sleep(ctx, d)
	}
	return SleepContext(ctx, d)
}

// SleepContext sleeps for d, or until ctx is done (then it returns
// ctx.Err()). It is what a Generator without a Sleep of its own does; a
// Sleep that only adds to the wait (a report of it) can end by calling it.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// acquire waits for the device's turn; release gives it back.
func (g *Generator) acquire(ctx context.Context, device string) (release func(), err error) {
	g.mu.Lock()
	if g.devices == nil {
		g.devices = make(map[string]*deviceTurn)
	}
	d := g.devices[device]
	if d == nil {
		d = &deviceTurn{ch: make(chan struct{}, 1)}
		g.devices[device] = d
	}
	d.users++
	g.mu.Unlock()

	drop := func() {
		g.mu.Lock()
		d.users--
		if d.users == 0 {
			delete(g.devices, device)
		}
		g.mu.Unlock()
	}
	select {
	case d.ch <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
	release = func() {
		<-d.ch
		drop()
	}
	// select picks at random when both cases are ready; a cancelled caller must not
	// go on to consume a time step.
	if err := ctx.Err(); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// DeviceLocker is a StepStore that also holds a device for one process at
// a time, across processes (a file lock): with it, two processes making a
// code for one device at the same instant never make the same code.
type DeviceLocker interface {
	LockDevice(ctx context.Context, device string) (unlock func(), err error)
}

// ErrStepAhead: the last code used for a device was for a time step well
// ahead of this clock.
var ErrStepAhead = errors.New("mfa time step ahead of the clock")

// StepAheadError: the last MFA code used for Device was for a time Ahead
// of this clock. The clock was wrong then (ahead) or is wrong now
// (behind); a code for an earlier step would be one AWS may have seen.
type StepAheadError struct {
	Device string
	Ahead  time.Duration
}

func (e *StepAheadError) Error() string {
	return fmt.Sprintf("generate mfa code for %s: the last code used was for a time %s ahead of this clock (was the clock ahead then, or is it behind now?)", e.Device, e.Ahead.Round(time.Second))
}

// Hint says how to go on once the clock is right.
func (e *StepAheadError) Hint() string {
	return "check this machine's clock; if it is right now, forget the recorded step: credbroker mfa reset PROFILE"
}

// Is makes errors.Is(err, ErrStepAhead) work.
func (e *StepAheadError) Is(target error) bool { return target == ErrStepAhead }
