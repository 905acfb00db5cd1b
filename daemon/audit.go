package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// AuditRecord is one line of the audit log (JSON). It has no field for a
// secret; Reason is the caller's to keep free of one.
type AuditRecord struct {
	// Time is written in UTC as RFC 3339 with nanoseconds (time.RFC3339Nano);
	// zero means when Record is called.
	Time       time.Time `json:"time"`
	UID        uint32    `json:"uid"`
	User       string    `json:"user,omitempty"`
	PID        int       `json:"pid,omitempty"`
	Executable string    `json:"exe,omitempty"`
	// Action is "credentials", "mfa", "status" or "forget".
	Action     string     `json:"action"`
	Profile    string     `json:"profile,omitempty"`
	RoleARN    string     `json:"role_arn,omitempty"`
	Expiration *time.Time `json:"expiration,omitempty"`
	// Decision is "grant", "deny" or "error".
	Decision string `json:"decision"`
	// Reason is the rule that decided, or the error's one-line text.
	Reason string `json:"reason,omitempty"`
}

const (
	// auditQueueLen records wait for the writer before Record has to
	// wait itself: a few seconds of a busy daemon, about 1 MiB.
	auditQueueLen = 4096
	// auditFullWait is how long Record waits on a full queue (a stalled
	// disk) before dropping the record: a credential request must never
	// hang on the audit log.
	auditFullWait = time.Second
	// auditBatchMax caps one write(2).
	auditBatchMax = 64 << 10
)

// AuditLog appends AuditRecords to a file, one JSON object per line.
//
// Record hands the encoded line to a single writer goroutine through a
// buffered queue; the writer gathers what is queued into one write(2) of
// whole lines and writes as soon as the queue is empty, so an idle daemon
// has every record in the file at once (in the page cache; Close syncs).
// When the queue is full (the disk stalled), Record waits up to a second,
// then drops the record and counts it in Dropped, which the daemon reports:
// the audit log never makes a credential request hang.
//
// The file is opened once with O_APPEND and never reopened: rotate it with
// logrotate's copytruncate (lines written between the copy and the truncate
// are lost, as with any copytruncate), not by renaming it.
//
// An AuditLog is safe for concurrent use.
type AuditLog struct {
	out  io.Writer
	file *os.File // synced and closed by Close; nil when out is not a file

	now      func() time.Time
	fullWait time.Duration

	// mu orders Record's send against Close's close(queue): Records hold
	// it shared, Close exclusively, so no send hits a closed channel.
	mu     sync.RWMutex
	closed bool
	queue  chan []byte

	dropped atomic.Uint64
	done    chan struct{} // closed when the writer has written everything
	werr    error         // the writer's first error; read after done
	// failing is why the last write failed (nil after a write that
	// worked): while it is set, the daemon grants nothing to other users.
	failing atomic.Pointer[string]

	closeOnce sync.Once
	closeErr  error
}

// OpenAuditLog opens the audit log at path for appending, creating the
// file with mode 0600 and its folder with mode 0700 when missing (an
// existing file keeps its mode, so an administrator may open it to a
// group). Close it to have every record written and synced.
func OpenAuditLog(path string) (*AuditLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create audit log folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return newAuditLog(f, f, auditQueueLen, auditFullWait, time.Now), nil
}

// newAuditLog lets tests substitute the writer (one that stalls, or counts
// writes), the queue length, the wait and the clock.
func newAuditLog(out io.Writer, file *os.File, queueLen int, fullWait time.Duration, now func() time.Time) *AuditLog {
	l := &AuditLog{
		out:      out,
		file:     file,
		now:      now,
		fullWait: fullWait,
		queue:    make(chan []byte, queueLen),
		done:     make(chan struct{}),
	}
	go l.write()
	return l
}

// Record appends r to the log. It returns at once unless the writer is
// more than a queue behind; then it waits up to a second and drops r.
// Records after Close are dropped too. encoding/json escapes every control
// character, so a record is always exactly one line, whatever Reason holds.
func (l *AuditLog) Record(r AuditRecord) {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	r.Time = r.Time.UTC()
	if r.Expiration != nil {
		exp := r.Expiration.UTC()
		r.Expiration = &exp
	}
	line, err := json.Marshal(r)
	if err != nil {
		// Only a time outside years 0-9999 fails to encode.
		l.dropped.Add(1)
		return
	}
	line = append(line, '\n')

	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.dropped.Add(1)
		return
	}
	select {
	case l.queue <- line:
		return
	default:
	}
	wait := time.NewTimer(l.fullWait)
	defer wait.Stop()
	select {
	case l.queue <- line:
	case <-wait.C:
		l.dropped.Add(1)
	}
}

// Failing says why the audit log could not be written last ("" when the
// last write worked).
func (l *AuditLog) Failing() string {
	if l == nil {
		return ""
	}
	if why := l.failing.Load(); why != nil {
		return *why
	}
	return ""
}

// Dropped is how many records were lost: the queue stayed full for a
// second, the log was closed, or the file refused a write.
func (l *AuditLog) Dropped() uint64 { return l.dropped.Load() }

// Close writes every queued record, syncs and closes the file. It waits
// for the disk, however long that takes. Later calls return the same
// result.
func (l *AuditLog) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.queue)
		l.mu.Unlock()
		<-l.done

		err := l.werr
		if l.file != nil {
			if serr := l.file.Sync(); serr != nil && err == nil {
				err = fmt.Errorf("sync audit log: %w", serr)
			}
			if cerr := l.file.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close audit log: %w", cerr)
			}
		}
		l.closeErr = err
	})
	return l.closeErr
}

// write is the one goroutine that writes: it blocks while the queue is
// empty, then takes everything already queued (up to auditBatchMax) into
// one batch, so a burst costs one write(2) and a lone record is written at
// once.
func (l *AuditLog) write() {
	defer close(l.done)
	batch := make([]byte, 0, auditBatchMax)
	torn := false // a failed write left part of a line in the file
	for line := range l.queue {
		batch = batch[:0]
		if torn {
			// End the torn line so the next record starts a line of
			// its own: readers lose one record, not two.
			batch = append(batch, '\n')
		}
		records := len(batch) // where the records start
		batch = append(batch, line...)
	gather:
		for len(batch) < auditBatchMax {
			select {
			case line, ok := <-l.queue:
				if !ok {
					break gather
				}
				batch = append(batch, line...)
			default:
				break gather
			}
		}
		n, err := l.out.Write(batch)
		if err == nil {
			torn = false
			l.failing.Store(nil)
			continue
		}
		why := err.Error()
		l.failing.Store(&why)
		n = min(max(n, 0), len(batch))
		l.dropped.Add(uint64(bytes.Count(batch[max(n, records):], []byte{'\n'})))
		if n > 0 {
			torn = batch[n-1] != '\n'
		}
		if l.werr == nil {
			l.werr = fmt.Errorf("write audit log: %w", err)
		}
	}
}
