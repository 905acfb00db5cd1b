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
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			return func() bool { return false }
		}
	}
	var (
		mu   sync.Mutex
		done bool
		said bool
	)
	t := time.AfterFunc(d, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			fmt.Fprintln(w, line)
			said = true
		}
	})
	return func() bool {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		done = true
		return said
	}
}
