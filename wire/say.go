package wire

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// SlowAfter is how long a caller waits in silence: past it, a client says
// on stderr what it waits for.
const SlowAfter = time.Second

// SayAfter writes line to w (a terminal's stderr, never stdout) if stop is
// not called within d: a wait longer than that is said as it happens.
// stop reports whether the line was written. A w that is a file but not a
// terminal (an SDK's pipe, a log) hears nothing: an SDK that calls
// credential_process shows its stderr as an error.
func SayAfter(d time.Duration, w io.Writer, line string) (stop func() bool) {
	_, stop = SayWaits(d, w, line) // with no waits told, it says line
	return stop
}

// SayWaits is SayAfter for a request to the daemon that may say what it
// waits for (Client.OnWait): at d, the line says what the daemon last
// said it waits for, and for how long from now ("credbroker: waiting 17 s
// for the next MFA code of arn:aws:iam::123456789012:mfa/alice"), else
// generic; after d, each new wait is said as the daemon reports it. As
// with SayAfter, a w that is not a terminal hears nothing: onWait is then
// nil, so that a Client given it asks the daemon for no interim answers
// nobody would read.
func SayWaits(d time.Duration, w io.Writer, generic string) (onWait func(what string, wait time.Duration), stop func() bool) {
	if !isTerminal(w) {
		return nil, func() bool { return false }
	}
	var (
		mu         sync.Mutex
		done, late bool
		said       bool
		what       string
		until      time.Time
	)
	t := time.AfterFunc(d, func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		late, said = true, true
		if left := time.Until(until); what != "" && left > 0 {
			fmt.Fprintln(w, WaitLine(what, left))
			return
		}
		fmt.Fprintln(w, generic)
	})
	onWait = func(w2 string, wait time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		end := time.Now().Add(wait)
		// The same wait told again (the daemon repeats what it waits for
		// to a caller that starts listening mid-wait) is said once.
		same := w2 == what && end.Sub(until).Abs() < time.Second
		what, until = w2, end
		if late && !done && !same {
			fmt.Fprintln(w, WaitLine(w2, wait))
		}
	}
	return onWait, func() bool {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		done = true
		return said
	}
}

// WaitLine is the line that says a wait: "credbroker: waiting 17 s for
// WHAT" (tenths of a second under one).
func WaitLine(what string, wait time.Duration) string {
	n := fmt.Sprintf("%d s", int(wait.Round(time.Second)/time.Second))
	if wait < time.Second {
		n = fmt.Sprintf("%.1f s", wait.Seconds())
	}
	return "credbroker: waiting " + n + " for " + what
}

// isTerminal: a w that is a file is a terminal (a character device); any
// other writer (a test's buffer) is taken as one.
func isTerminal(w io.Writer) bool {
	if f, ok := w.(*os.File); ok {
		fi, err := f.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
	return true
}
