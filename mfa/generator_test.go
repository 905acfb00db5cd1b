package mfa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// memSteps is an in-memory StepStore that records every write.
type memSteps struct {
	mu      sync.Mutex
	last    map[string]uint64
	writes  []stepWrite
	readErr error
	setErr  error
}

type stepWrite struct {
	device string
	step   uint64
}

func newMemSteps() *memSteps { return &memSteps{last: make(map[string]uint64)} }

func (m *memSteps) LastStep(device string) (uint64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readErr != nil {
		return 0, false, m.readErr
	}
	s, ok := m.last[device]
	return s, ok, nil
}

func (m *memSteps) SetLastStep(device string, step uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.setErr != nil {
		return m.setErr
	}
	m.last[device] = step
	m.writes = append(m.writes, stepWrite{device, step})
	return nil
}

func (m *memSteps) snapshot() []stepWrite {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]stepWrite(nil), m.writes...)
}

// fakeClock is a settable clock whose Sleep moves it forward instead of blocking, and
// which records the waits and notifications in order.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	events []string
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "sleep "+d.String())
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Notify(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "notify "+d.String())
}

func (c *fakeClock) Events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

func newTestGenerator(start time.Time) (*Generator, *fakeClock, *memSteps) {
	clock := &fakeClock{now: start}
	steps := newMemSteps()
	return &Generator{Steps: steps, Now: clock.Now, Sleep: clock.Sleep, Notify: clock.Notify}, clock, steps
}

func testSeed(t *testing.T) Seed {
	t.Helper()
	s, err := ParseSeed(randomSecret(t, 20))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	deviceA = "arn:aws:iam::123456789012:mfa/alice"
	deviceB = "arn:aws:iam::123456789012:mfa/bob"
)

// A step that starts at a known instant, far from the epoch.
var stepStart = time.Unix(1_800_000_000-1_800_000_000%30, 0)

func TestGeneratorWaitsForFreshStep(t *testing.T) {
	t.Parallel()
	type call struct {
		device     string
		at         time.Duration // clock offset from stepStart when Code is called
		wantWait   time.Duration // 0 = no wait, no notification
		wantOffset time.Duration // offset of the instant whose code is expected
	}
	tests := []struct {
		name  string
		calls []call
	}{
		{"first code does not wait", []call{{deviceA, 18 * time.Second, 0, 18 * time.Second}}},
		{"same step waits until the boundary", []call{
			{deviceA, 18 * time.Second, 0, 18 * time.Second},
			{deviceA, 18 * time.Second, 12 * time.Second, 30 * time.Second},
		}},
		{"last second of a step waits one second", []call{
			{deviceA, 29 * time.Second, 0, 29 * time.Second},
			{deviceA, 29*time.Second + 500*time.Millisecond, 500 * time.Millisecond, 30 * time.Second},
		}},
		{"first instant of the next step does not wait", []call{
			{deviceA, 29 * time.Second, 0, 29 * time.Second},
			{deviceA, 30 * time.Second, 0, 30 * time.Second},
		}},
		{"third call in a step waits for the step after next", []call{
			{deviceA, 0, 0, 0},
			{deviceA, 0, 30 * time.Second, 30 * time.Second},
			{deviceA, 30 * time.Second, 30 * time.Second, 60 * time.Second},
		}},
		{"another device does not wait", []call{
			{deviceA, 18 * time.Second, 0, 18 * time.Second},
			{deviceB, 18 * time.Second, 0, 18 * time.Second},
			{deviceA, 18 * time.Second, 12 * time.Second, 30 * time.Second},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seed := testSeed(t)
			g, clock, steps := newTestGenerator(stepStart)
			for i, c := range tc.calls {
				clock.mu.Lock()
				if at := stepStart.Add(c.at); at.After(clock.now) {
					clock.now = at
				}
				clock.mu.Unlock()
				before := len(clock.Events())

				got, err := g.Code(context.Background(), c.device, seed)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				want, err := seed.Code(stepStart.Add(c.wantOffset))
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("call %d: code is not the one for offset %s", i, c.wantOffset)
				}
				events := clock.Events()[before:]
				var wantEvents []string
				if c.wantWait > 0 {
					wantEvents = []string{"notify " + c.wantWait.String(), "sleep " + c.wantWait.String()}
				}
				if fmt.Sprint(events) != fmt.Sprint(wantEvents) {
					t.Errorf("call %d: events %q, want %q", i, events, wantEvents)
				}
				if last, ok, _ := steps.LastStep(c.device); !ok || last != seed.Step(stepStart.Add(c.wantOffset)) {
					t.Errorf("call %d: stored step %d (%v), want %d", i, last, ok, seed.Step(stepStart.Add(c.wantOffset)))
				}
			}
		})
	}
}

func TestGeneratorCancelDuringWait(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	g, clock, steps := newTestGenerator(stepStart.Add(10 * time.Second))
	if _, err := g.Code(context.Background(), deviceA, seed); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g.Sleep = func(ctx context.Context, d time.Duration) error {
		cancel() // the user gives up while we wait
		<-ctx.Done()
		return ctx.Err()
	}
	notified := false
	g.Notify = func(time.Duration) { notified = true }

	code, err := g.Code(ctx, deviceA, seed)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if code != "" {
		t.Error("a code was returned with the error")
	}
	if !notified {
		t.Error("Notify was not called before the wait")
	}
	if w := steps.snapshot(); len(w) != 1 {
		t.Errorf("%d steps recorded, want only the first call's", len(w))
	}
	if !clock.Now().Equal(stepStart.Add(10 * time.Second)) {
		t.Error("clock moved")
	}
	// Cancelled before the call: nothing happens at all.
	if _, err := g.Code(ctx, deviceB, seed); !errors.Is(err, context.Canceled) {
		t.Errorf("already-cancelled ctx: err = %v", err)
	}
	if w := steps.snapshot(); len(w) != 1 {
		t.Errorf("%d steps recorded after a cancelled call, want 1", len(w))
	}
}

// The default Sleep (a real timer) must end when ctx does.
func TestGeneratorDefaultSleepHonoursContext(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	now := stepStart.Add(time.Second)
	steps := newMemSteps()
	g := &Generator{Steps: steps, Now: func() time.Time { return now }}
	if _, err := g.Code(context.Background(), deviceA, seed); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := g.Code(ctx, deviceA, seed) // would wait 29 s
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Code returned after %s, long after ctx ended", d)
	}
}

func TestGeneratorErrors(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	errStore := errors.New("keyring locked")
	tests := []struct {
		name    string
		setup   func(g *Generator, steps *memSteps)
		device  string
		seed    Seed
		wantErr error // nil: only an error is expected
		writes  int
	}{
		{"nil store", func(g *Generator, _ *memSteps) { g.Steps = nil }, deviceA, seed, nil, 0},
		{"empty device", nil, "", seed, nil, 0},
		{"zero seed", nil, deviceA, Seed{}, nil, 0},
		{"read fails", func(_ *Generator, s *memSteps) { s.readErr = errStore }, deviceA, seed, errStore, 0},
		{"record fails: no code", func(_ *Generator, s *memSteps) { s.setErr = errStore }, deviceA, seed, errStore, 0},
		{"clock moved back far", func(_ *Generator, s *memSteps) {
			s.last[deviceA] = seed.Step(stepStart) + 2
		}, deviceA, seed, ErrStepAhead, 0},
		{"store corrupt", func(_ *Generator, s *memSteps) { s.last[deviceA] = ^uint64(0) }, deviceA, seed, nil, 0},
		{"clock before 1970", func(g *Generator, _ *memSteps) {
			g.Now = func() time.Time { return time.Unix(-10, 0) }
		}, deviceA, seed, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, clock, steps := newTestGenerator(stepStart)
			if tc.setup != nil {
				tc.setup(g, steps)
			}
			code, err := g.Code(context.Background(), tc.device, tc.seed)
			if err == nil {
				t.Fatal("Code succeeded")
			}
			if code != "" {
				t.Error("a code was returned with the error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantErr)
			}
			if n := len(steps.snapshot()); n != tc.writes {
				t.Errorf("%d steps recorded, want %d", n, tc.writes)
			}
			if ev := clock.Events(); len(ev) != 0 {
				t.Errorf("events %q, want none", ev)
			}
		})
	}
}

// TestStepAheadSaysWhatToDo: a step recorded well ahead of the clock (the
// clock was wrong, then fixed) is named with how far ahead, and what to run
// once the clock is right, instead of blocking every code until the clock
// catches up.
func TestStepAheadSaysWhatToDo(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	g, _, steps := newTestGenerator(stepStart)
	steps.last[deviceA] = seed.Step(stepStart) + 20 // ten minutes ahead
	_, err := g.Code(context.Background(), deviceA, seed)
	var sa *StepAheadError
	if !errors.As(err, &sa) || sa.Ahead != 10*time.Minute || !strings.Contains(err.Error(), "10m0s ahead of this clock") ||
		!strings.Contains(sa.Hint(), "credbroker mfa reset") {
		t.Fatalf("err = %v", err)
	}
}

// A stored step one ahead of the clock (a small backwards adjustment) is waited out.
func TestGeneratorSmallClockStepBack(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	g, clock, steps := newTestGenerator(stepStart.Add(25 * time.Second))
	steps.last[deviceA] = seed.Step(stepStart) + 1
	if _, err := g.Code(context.Background(), deviceA, seed); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(clock.Events()), "[notify 35s sleep 35s]"; got != want {
		t.Errorf("events %s, want %s", got, want)
	}
	if last, _, _ := steps.LastStep(deviceA); last != seed.Step(stepStart)+2 {
		t.Errorf("stored step %d, want %d", last, seed.Step(stepStart)+2)
	}
}

// N goroutines asking for one device get N distinct steps; other devices are not held
// up by it.
func TestGeneratorConcurrent(t *testing.T) {
	t.Parallel()
	const n = 8
	seed := testSeed(t)
	g, clock, steps := newTestGenerator(stepStart.Add(7 * time.Second))
	// Widen the window between the read and the write of the step, so that a
	// Generator that does not serialize per device fails this test reliably.
	store := &slowSteps{memSteps: steps}
	g.Steps = store

	var wg sync.WaitGroup
	codes := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			codes[i], errs[i] = g.Code(context.Background(), deviceA, seed)
		})
	}
	otherCodes := make([]string, n)
	otherErrs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			otherCodes[i], otherErrs[i] = g.Code(context.Background(), fmt.Sprintf("%s-%d", deviceB, i), seed)
		})
	}
	wg.Wait()
	for i, err := range append(errs, otherErrs...) {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}

	var aSteps []uint64
	for _, w := range steps.snapshot() {
		if w.device == deviceA {
			aSteps = append(aSteps, w.step)
		}
	}
	if len(aSteps) != n {
		t.Fatalf("%d steps recorded for the device, want %d", len(aSteps), n)
	}
	first := seed.Step(stepStart)
	want := map[string]bool{}
	for i := range aSteps {
		if aSteps[i] != first+uint64(i) {
			t.Errorf("steps %v are not %d consecutive steps from %d", aSteps, n, first)
			break
		}
		code, err := seed.codeAt(first + uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		want[code] = true
	}
	got := map[string]bool{}
	for _, c := range codes {
		got[c] = true
	}
	// Codes of distinct steps collide with probability about n²/2e6; the steps
	// above are the real check, this one checks each caller got its step's code.
	for c := range got {
		if !want[c] {
			t.Error("a caller got a code of no recorded step")
		}
	}
	if len(want) == n && len(got) != n {
		t.Errorf("%d distinct codes for %d callers", len(got), n)
	}
	if waited := clock.Now().Sub(stepStart.Add(7 * time.Second)); waited != time.Duration(n-1)*30*time.Second-7*time.Second {
		t.Errorf("clock advanced %s, want %s", waited, time.Duration(n-1)*30*time.Second-7*time.Second)
	}
	for i, c := range otherCodes {
		if c == "" {
			t.Errorf("other device %d got no code", i)
		}
	}
	g.mu.Lock()
	left := len(g.devices)
	g.mu.Unlock()
	if left != 0 {
		t.Errorf("%d device turns left in the Generator after all calls returned", left)
	}
}

// slowSteps yields between reading and writing a step.
type slowSteps struct{ *memSteps }

func (s *slowSteps) LastStep(device string) (uint64, bool, error) {
	step, ok, err := s.memSteps.LastStep(device)
	time.Sleep(time.Millisecond)
	return step, ok, err
}
