package cache

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// memPersistence is an in-memory Persistence that counts loads.
type memPersistence struct {
	mu    sync.Mutex
	data  map[string][]byte
	loads int
	fail  error
}

func newMem() *memPersistence { return &memPersistence{data: map[string][]byte{}} }

func (m *memPersistence) Load(name string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if m.fail != nil {
		return nil, false, m.fail
	}
	d, ok := m.data[name]
	return d, ok, nil
}

func (m *memPersistence) Save(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.data[name] = append([]byte(nil), data...)
	return nil
}

func (m *memPersistence) Delete(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, name)
	return nil
}

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func entry(life time.Duration, fp string) Entry {
	return Entry{
		Credentials: Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE12", SecretAccessKey: "s3cr3t-value", SessionToken: "tok3n-value", Expires: t0.Add(life)},
		Issued:      t0,
		Fingerprint: fp,
	}
}

func TestMargin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		life, want time.Duration
	}{
		{15 * time.Minute, 5 * time.Minute},
		{30 * time.Minute, 10 * time.Minute},
		{45 * time.Minute, 15 * time.Minute},
		{time.Hour, 15 * time.Minute},
		{12 * time.Hour, 15 * time.Minute},
	} {
		if got := entry(tc.life, "").Margin(); got != tc.want {
			t.Errorf("Margin(%s) = %s, want %s", tc.life, got, tc.want)
		}
	}
}

func TestLookupFreshness(t *testing.T) {
	t.Parallel()
	now := t0
	s := New(newMem(), func() time.Time { return now })
	if err := s.Save("p/role", entry(time.Hour, "fp1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		fp   string
		want bool
	}{
		{0, "fp1", true},
		{44 * time.Minute, "fp1", true},
		{45 * time.Minute, "fp1", false}, // exactly the margin left: botocore would re-ask
		{2 * time.Hour, "fp1", false},    // expired: never handed out
		{0, "fp2", false},                // another fingerprint: a changed profile
	} {
		now = t0.Add(tc.at)
		_, ok, err := s.Lookup("p/role", tc.fp)
		if err != nil || ok != tc.want {
			t.Errorf("at +%s fp %s: ok = %v, err = %v; want %v", tc.at, tc.fp, ok, err, tc.want)
		}
	}
}

func TestPersistenceRoundTrip(t *testing.T) {
	t.Parallel()
	mem := newMem()
	now := func() time.Time { return t0 }
	if err := New(mem, now).Save("p/role", entry(time.Hour, "fp")); err != nil {
		t.Fatal(err)
	}
	// A new Store (a new process) finds it through the persistence.
	s := New(mem, now)
	got, ok, err := s.Lookup("p/role", "fp")
	if err != nil || !ok {
		t.Fatalf("Lookup = %v, %v", ok, err)
	}
	want := entry(time.Hour, "fp")
	if got.SecretAccessKey != want.SecretAccessKey || got.SessionToken != want.SessionToken || !got.Expires.Equal(want.Expires) || !got.Issued.Equal(want.Issued) {
		t.Errorf("round trip lost data: %v", got)
	}
	// The second lookup is served from memory.
	loads := mem.loads
	if _, ok, _ := s.Lookup("p/role", "fp"); !ok || mem.loads != loads {
		t.Errorf("second lookup loaded again (loads %d -> %d)", loads, mem.loads)
	}
	if err := s.Drop("p/role"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := New(mem, now).Lookup("p/role", "fp"); ok {
		t.Error("dropped entry still found")
	}
}

func TestDamagedEntryIsAMiss(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"not json":        "garbage",
		"truncated":       `{"v":1,"access_key_id":"ASIA`,
		"unknown version": `{"v":9,"access_key_id":"A","secret_access_key":"B","expires":"2030-01-01T00:00:00Z"}`,
		"no secret":       `{"v":1,"access_key_id":"A","expires":"2030-01-01T00:00:00Z"}`,
	} {
		mem := newMem()
		mem.data["p/role"] = []byte(data)
		_, ok, err := New(mem, nil).Lookup("p/role", "")
		if ok || err != nil {
			t.Errorf("%s: ok = %v, err = %v; want a plain miss", name, ok, err)
		}
	}
}

func TestSaveRefusesIncomplete(t *testing.T) {
	t.Parallel()
	mem := newMem()
	s := New(mem, nil)
	if err := s.Save("good", entry(time.Hour, "fp")); err != nil {
		t.Fatal(err)
	}
	bad := entry(time.Hour, "fp")
	bad.SecretAccessKey = ""
	if err := s.Save("good", bad); err == nil {
		t.Fatal("saved credentials without a secret")
	}
	if _, ok, _ := New(mem, func() time.Time { return t0 }).Lookup("good", "fp"); !ok {
		t.Error("a refused save damaged the good entry")
	}
}

func TestPersistenceErrorsAreWrapped(t *testing.T) {
	t.Parallel()
	mem := newMem()
	mem.fail = errors.New("keyring locked")
	s := New(mem, nil)
	if _, _, err := s.Lookup("p/role", "fp"); err == nil || !strings.Contains(err.Error(), "keyring locked") {
		t.Errorf("Lookup err = %v", err)
	}
	if err := s.Save("p/role", entry(time.Hour, "fp")); err == nil || !strings.Contains(err.Error(), "keyring locked") {
		t.Errorf("Save err = %v", err)
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	t.Parallel()
	e := entry(time.Hour, "fp")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{e.Credentials, e, &e} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "s3cr3t") || strings.Contains(out, "tok3n") {
				t.Errorf("%s of %T printed a secret: %s", verb, v, out)
			}
		}
	}
	if got := LastFour("AKIAIOSFODNN7EXAMPLE"); got != "****************MPLE" {
		t.Errorf("LastFour = %s", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := New(newMem(), func() time.Time { return t0 })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("p%d", i%3)
			for range 50 {
				_ = s.Save(name, entry(time.Hour, "fp"))
				_, _, _ = s.Lookup(name, "fp")
				if i%4 == 0 {
					_ = s.Drop(name)
				}
			}
		}()
	}
	wg.Wait()
}

func TestRenewalWindowAndUsability(t *testing.T) {
	t.Parallel()
	e := entry(time.Hour, "fp") // fresh for 45 min
	if got := e.RenewAt(0).Sub(t0); got != 33*time.Minute+45*time.Second {
		t.Errorf("RenewAt(0) at +%s, want +33m45s", got)
	}
	if got := e.RenewAt(1).Sub(t0); got != 40*time.Minute+30*time.Second {
		t.Errorf("RenewAt(1) at +%s, want +40m30s", got)
	}
	// Renewed anywhere in the window, the credentials still have more than
	// the 15 min margin left: nothing handed out has less.
	for _, j := range []float64{0, 0.5, 1} {
		if left := e.Expires.Sub(e.RenewAt(j)); left <= RefreshMargin {
			t.Errorf("jitter %v leaves %s", j, left)
		}
	}
	if e.DueAt(t0.Add(33*time.Minute)) || !e.DueAt(t0.Add(34*time.Minute)) {
		t.Error("DueAt does not start at RenewAt(0)")
	}
	for _, tc := range []struct {
		left time.Duration
		want bool
	}{{2 * time.Minute, true}, {61 * time.Second, true}, {time.Minute, false}, {0, false}, {-time.Minute, false}} {
		if got := e.UsableAt(e.Expires.Add(-tc.left)); got != tc.want {
			t.Errorf("UsableAt with %s left = %v", tc.left, got)
		}
	}
	short := entry(90*time.Second, "fp")
	if !short.UsableAt(short.Expires.Add(-10*time.Second)) || short.UsableAt(short.Expires.Add(-9*time.Second)) {
		t.Error("short-lived credentials: usable down to a tenth of their life")
	}
	// A renewing lookup misses an entry in its window; a plain one hits.
	now := t0.Add(35 * time.Minute)
	s := New(newMem(), func() time.Time { return now })
	if err := s.Save("p", e); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.LookupFor("p", "fp", true); ok {
		t.Error("renewing lookup returned an entry in its renewal window")
	}
	if _, ok, _ := s.Lookup("p", "fp"); !ok {
		t.Error("plain lookup missed a fresh entry")
	}
}
