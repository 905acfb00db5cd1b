package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// auditSink is an io.Writer for the audit log's writer goroutine that
// keeps every Write call apart, and can stall or fail on demand.
type auditSink struct {
	mu     sync.Mutex
	data   bytes.Buffer
	writes [][]byte
	// before, when set, runs before call n (from 0) is served and may
	// block or decide a short write: it returns how many bytes to keep
	// and the error to return.
	before func(n int, p []byte) (int, error)
}

func (s *auditSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	n := len(s.writes)
	s.writes = append(s.writes, bytes.Clone(p))
	before := s.before
	s.mu.Unlock()
	keep, err := len(p), error(nil)
	if before != nil {
		keep, err = before(n, p)
	}
	s.mu.Lock()
	s.data.Write(p[:keep])
	s.mu.Unlock()
	return keep, err
}

func (s *auditSink) calls() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

func (s *auditSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.String()
}

// waitFor polls cond until it holds or a generous deadline passes: no
// fixed sleeps, so the tests are as fast as the machine allows.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAuditRecordLines(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	paris := time.FixedZone("CET", 3600)
	exp := time.Date(2025, 3, 4, 7, 6, 7, 0, paris)
	tricky := "line one\nline two\r\n\"quoted\" \\ back\tslash \u2028 \x00 </script>"

	tests := []struct {
		name     string
		in       AuditRecord
		wantKeys []string
		want     AuditRecord // as read back
		wantTime string      // the "time" text
	}{
		{
			name: "grant with every field",
			in: AuditRecord{
				Time: time.Date(2025, 3, 4, 6, 6, 7, 5, paris), UID: 1000, User: "alice", PID: 4242,
				Executable: "/usr/bin/aws", Action: "credentials", Profile: "prod",
				RoleARN: "arn:aws:iam::123456789012:role/Admin", Expiration: &exp,
				Decision: "grant", Reason: "rule 2: uid 1000 may fetch prod",
			},
			wantKeys: []string{"action", "decision", "exe", "expiration", "pid", "profile", "reason", "role_arn", "time", "uid", "user"},
			want: AuditRecord{
				Time: time.Date(2025, 3, 4, 5, 6, 7, 5, time.UTC), UID: 1000, User: "alice", PID: 4242,
				Executable: "/usr/bin/aws", Action: "credentials", Profile: "prod",
				RoleARN: "arn:aws:iam::123456789012:role/Admin", Expiration: new(exp.UTC()),
				Decision: "grant", Reason: "rule 2: uid 1000 may fetch prod",
			},
			wantTime: "2025-03-04T05:06:07.000000005Z",
		},
		{
			name:     "zero time is when Record is called; empty fields left out",
			in:       AuditRecord{Action: "status", Decision: "deny"},
			wantKeys: []string{"action", "decision", "time", "uid"},
			want:     AuditRecord{Time: now, Action: "status", Decision: "deny"},
			wantTime: "2025-03-04T05:06:07.123456789Z",
		},
		{
			name:     "reason with newlines and quotes stays on one line",
			in:       AuditRecord{Time: now, UID: 7, Action: "mfa", Decision: "error", Reason: tricky},
			wantKeys: []string{"action", "decision", "reason", "time", "uid"},
			want:     AuditRecord{Time: now, UID: 7, Action: "mfa", Decision: "error", Reason: tricky},
			wantTime: "2025-03-04T05:06:07.123456789Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := &auditSink{}
			l := newAuditLog(sink, nil, 8, time.Second, func() time.Time { return now })
			caller := tc.in
			l.Record(tc.in)
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if caller.Expiration != nil && caller.Expiration.Location() != paris {
				t.Errorf("Record changed the caller's Expiration to %v", caller.Expiration)
			}
			out := sink.String()
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("wrote %q, want exactly one line", out)
			}
			var keys map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out), &keys); err != nil {
				t.Fatalf("line %q is not JSON: %v", out, err)
			}
			gotKeys := slices.Sorted(func(yield func(string) bool) {
				for k := range keys {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(gotKeys, tc.wantKeys) {
				t.Errorf("keys %v, want %v", gotKeys, tc.wantKeys)
			}
			if got := string(keys["time"]); got != `"`+tc.wantTime+`"` {
				t.Errorf("time %s, want %q", got, tc.wantTime)
			}
			var got AuditRecord
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if !got.Time.Equal(tc.want.Time) || got.Time.Location() != time.UTC {
				t.Errorf("time read back %v, want %v in UTC", got.Time, tc.want.Time)
			}
			if (got.Expiration == nil) != (tc.want.Expiration == nil) ||
				got.Expiration != nil && (!got.Expiration.Equal(*tc.want.Expiration) || !strings.Contains(string(keys["expiration"]), "Z")) {
				t.Errorf("expiration read back %v (%s), want %v in UTC", got.Expiration, keys["expiration"], tc.want.Expiration)
			}
			got.Time, got.Expiration, tc.want.Time, tc.want.Expiration = time.Time{}, nil, time.Time{}, nil
			if got != tc.want {
				t.Errorf("read back %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOpenAuditLogFile(t *testing.T) {
	t.Parallel()
	t.Run("new file 0600 in a new folder 0700", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "new", "audit.log")
		l, err := OpenAuditLog(path)
		if err != nil {
			t.Fatal(err)
		}
		if l.fullWait != time.Second || cap(l.queue) != auditQueueLen {
			t.Errorf("a full queue makes Record wait %v, want 1s (queue %d)", l.fullWait, cap(l.queue))
		}
		l.Record(AuditRecord{Action: "status", Decision: "grant"})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		checkMode(t, filepath.Dir(path), os.ModeDir|0o700)
		checkMode(t, path, 0o600)
	})
	t.Run("existing file appended to, mode kept", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "audit.log")
		old := `{"note":"from before"}` + "\n"
		if err := os.WriteFile(path, []byte(old), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
		l, err := OpenAuditLog(path)
		if err != nil {
			t.Fatal(err)
		}
		l.Record(AuditRecord{Action: "forget", Decision: "grant"})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), old) || strings.Count(string(data), "\n") != 2 || !strings.Contains(string(data), `"action":"forget"`) {
			t.Errorf("file holds %q, want the old line then the new record", data)
		}
		checkMode(t, path, 0o640)
	})
	t.Run("folder that cannot be made", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenAuditLog(filepath.Join(file, "audit.log"))
		if err == nil || !strings.HasPrefix(err.Error(), "create audit log folder: ") {
			t.Fatalf("OpenAuditLog under a file: %v, want an error creating the folder", err)
		}
	})
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
	}
}

func TestAuditLogConcurrentRecords(t *testing.T) {
	t.Parallel()
	const goroutines, each = 50, 200
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				l.Record(AuditRecord{UID: uint32(g), PID: i + 1, Action: "credentials", Profile: fmt.Sprintf("p%d", g),
					Decision: "grant", Reason: "a reason long enough to make batches span several lines"})
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := l.Dropped(); n != 0 {
		t.Errorf("Dropped() = %d, want 0", n)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("file does not end with a whole line")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines, want %d", len(lines), goroutines*each)
	}
	seen := make(map[[2]int]bool)
	for i, line := range lines {
		var r AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d %q is not a record: %v", i+1, line, err)
		}
		k := [2]int{int(r.UID), r.PID}
		if seen[k] || r.Profile != fmt.Sprintf("p%d", r.UID) {
			t.Fatalf("line %d %q: duplicate or mixed up", i+1, line)
		}
		seen[k] = true
	}
}

func TestAuditLogIdleFlush(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		l.Record(AuditRecord{PID: i + 1, Action: "credentials", Decision: "grant"})
		// Without Close, and with nothing else coming, the line must reach
		// the file: an idle daemon has nothing pending.
		waitFor(t, fmt.Sprintf("record %d in the file", i+1), func() bool {
			data, err := os.ReadFile(path)
			return err == nil && strings.Count(string(data), "\n") == i+1 &&
				strings.HasSuffix(string(data), fmt.Sprintf(`"pid":%d,"action":"credentials","decision":"grant"}`+"\n", i+1))
		})
	}
}

func TestAuditLogCloseFlushes(t *testing.T) {
	t.Parallel()
	const records = 500
	// A slow disk: every write takes a while, so records are still queued
	// when Close is called.
	sink := &auditSink{before: func(_ int, p []byte) (int, error) {
		time.Sleep(10 * time.Millisecond)
		return len(p), nil
	}}
	l := newAuditLog(sink, nil, auditQueueLen, time.Second, time.Now)
	for i := range records {
		l.Record(AuditRecord{PID: i + 1, Action: "status", Decision: "grant"})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(sink.String(), "\n"); got != records {
		t.Errorf("after Close the sink holds %d lines, want %d", got, records)
	}
	for i, w := range sink.calls() {
		if !bytes.HasSuffix(w, []byte("\n")) || !json.Valid(bytes.SplitN(w, []byte("\n"), 2)[0]) {
			t.Fatalf("write %d is not whole lines: %q", i, w)
		}
	}

	// After Close: counted as dropped, no panic, Close answers the same.
	l.Record(AuditRecord{Action: "status", Decision: "grant"})
	if n := l.Dropped(); n != 1 {
		t.Errorf("Dropped() after a Record on a closed log = %d, want 1", n)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestAuditLogStalledDisk: with the writer stuck in write(2), Record fills
// the queue, then gives up after the wait and counts the record dropped;
// once the disk comes back, everything queued goes out in one write.
func TestAuditLogStalledDisk(t *testing.T) {
	t.Parallel()
	const queueLen, extra = 8, 5
	const wait = 20 * time.Millisecond
	stalled := make(chan struct{})
	release := make(chan struct{})
	sink := &auditSink{before: func(n int, p []byte) (int, error) {
		if n == 0 {
			close(stalled)
			<-release
		}
		return len(p), nil
	}}
	l := newAuditLog(sink, nil, queueLen, wait, time.Now)

	l.Record(AuditRecord{PID: 1, Action: "credentials", Decision: "grant"})
	<-stalled // the writer holds record 1 and is stuck
	for i := range queueLen {
		start := time.Now()
		l.Record(AuditRecord{PID: 2 + i, Action: "credentials", Decision: "grant"})
		if d := time.Since(start); d >= wait {
			t.Errorf("Record %d waited %v with room in the queue", 2+i, d)
		}
	}
	for i := range extra {
		start := time.Now()
		l.Record(AuditRecord{PID: 100 + i, Action: "credentials", Decision: "grant"})
		if d := time.Since(start); d < wait || d > wait+time.Second {
			t.Errorf("Record on a full queue returned after %v, want about %v", d, wait)
		}
	}
	if n := l.Dropped(); n != extra {
		t.Errorf("Dropped() = %d, want %d", n, extra)
	}

	close(release)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	calls := sink.calls()
	if len(calls) != 2 || bytes.Count(calls[0], []byte("\n")) != 1 || bytes.Count(calls[1], []byte("\n")) != queueLen {
		lens := make([]int, len(calls))
		for i, c := range calls {
			lens[i] = bytes.Count(c, []byte("\n"))
		}
		t.Errorf("writes of %v lines, want [1 %d]: what queued during the stall goes out in one write", lens, queueLen)
	}
	if n := l.Dropped(); n != extra {
		t.Errorf("Dropped() after Close = %d, want still %d", n, extra)
	}
	if strings.Contains(sink.String(), `"pid":100`) {
		t.Errorf("a dropped record was written anyway")
	}
}

// TestAuditLogWriteErrors: a disk that refuses a write loses those records
// (counted), a torn line is ended so the next record stays readable, and
// Close reports the first error.
func TestAuditLogWriteErrors(t *testing.T) {
	t.Parallel()
	errFull := errors.New("no space left on device")
	tests := []struct {
		name string
		// first is how much of the first write lands before errFull.
		first       int
		wantDropped uint64
		wantLines   []bool // whether each line of the file is valid JSON
	}{
		{"nothing written", 0, 1, []bool{true}},
		{"torn line", 10, 1, []bool{false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := &auditSink{before: func(n int, p []byte) (int, error) {
				if n == 0 {
					return tc.first, errFull
				}
				return len(p), nil
			}}
			l := newAuditLog(sink, nil, 8, time.Second, time.Now)
			l.Record(AuditRecord{PID: 1, Action: "credentials", Decision: "grant"})
			waitFor(t, "the first write", func() bool { return len(sink.calls()) == 1 })
			l.Record(AuditRecord{PID: 2, Action: "credentials", Decision: "grant"})
			err := l.Close()
			if !errors.Is(err, errFull) || !strings.HasPrefix(err.Error(), "write audit log: ") {
				t.Errorf("Close = %v, want the write error", err)
			}
			if n := l.Dropped(); n != tc.wantDropped {
				t.Errorf("Dropped() = %d, want %d", n, tc.wantDropped)
			}
			out := sink.String()
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			valid := make([]bool, len(lines))
			for i, line := range lines {
				valid[i] = json.Valid([]byte(line))
			}
			if !strings.HasSuffix(out, "\n") || !slices.Equal(valid, tc.wantLines) || !strings.Contains(lines[len(lines)-1], `"pid":2`) {
				t.Errorf("file holds %q (lines valid: %v), want lines valid: %v ending with record 2", out, valid, tc.wantLines)
			}
		})
	}
}

// BenchmarkAuditRecord measures Record from many goroutines into a real
// file, Close (the final write and fsync) included. Target: at least
// 100,000 records/s on a 2-core machine, far above what a daemon serves,
// and no record dropped.
func BenchmarkAuditRecord(b *testing.B) {
	l, err := OpenAuditLog(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	rec := AuditRecord{UID: 1000, User: "alice", PID: 4242, Executable: "/usr/local/bin/aws",
		Action: "credentials", Profile: "prod", RoleARN: "arn:aws:iam::123456789012:role/Admin",
		Expiration: &exp, Decision: "grant", Reason: "rule 2: uid 1000 may fetch prod"}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Record(rec)
		}
	})
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if n := l.Dropped(); n != 0 {
		b.Fatalf("%d of %d records dropped", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
