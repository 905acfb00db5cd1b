package wire

import (
	"strconv"
	"strings"
	"time"
)

// While a request waits on something its caller should hear of (the next
// MFA time step, a retry against STS), the daemon sends interim answers,
// status 102, before the final one: HeaderWaitFor says what is waited for
// (the words after "waiting 17 s for"), HeaderWaitSeconds for how long.
// A client that reads them (Client.OnWait) says them on its terminal.
const (
	StatusWaiting     = 102
	HeaderWaitFor     = "Credbroker-Wait-For"
	HeaderWaitSeconds = "Credbroker-Wait-Seconds"
	// HeaderAcceptWaits on a request says its client reads interim
	// answers; a client without it (one older than them) gets none.
	HeaderAcceptWaits = "Credbroker-Accept-Waits"
	// MaxWaitNotes bounds the interim answers of one request (Go's HTTP
	// client takes at most 5).
	MaxWaitNotes = 4
)

// FormatWaitSeconds is d for HeaderWaitSeconds.
func FormatWaitSeconds(d time.Duration) string {
	return strconv.FormatFloat(max(d, 0).Seconds(), 'f', 1, 64)
}

// parseWait reads an interim answer's headers (name: value lines, names
// in lower case) into what is waited for and how long.
func parseWait(headers map[string]string) (what string, wait time.Duration, ok bool) {
	what = strings.TrimSpace(headers[strings.ToLower(HeaderWaitFor)])
	secs, err := strconv.ParseFloat(strings.TrimSpace(headers[strings.ToLower(HeaderWaitSeconds)]), 64)
	if what == "" || err != nil || secs < 0 || secs > 24*3600 {
		return "", 0, false
	}
	return what, time.Duration(secs * float64(time.Second)), true
}
