package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Clock is a sandbox clock that tests move, for a Server's Now and
// Advanced fields, in two ways a test of real client programs needs:
//
//   - Offset: the sandbox's clock runs that far from its clients' (a
//     client whose clock is 20 minutes behind is a sandbox offset by +20
//     minutes): X-Amz-Date is checked against the moved clock, so a
//     signature is refused as AWS refuses a skewed client's.
//   - Advance: that much time passes for the sandbox and its clients
//     alike: sessions age and expire, while the signatures and MFA codes
//     the clients make on their own clocks, which a test cannot move, are
//     read as made that much later, and the Expiration of what it issues
//     is told on those clocks.
//
// A Clock is safe for concurrent use; the zero Clock is the real time.
type Clock struct {
	// Real is the clock that is moved (time.Now when nil).
	Real func() time.Time

	mu       sync.Mutex
	offset   time.Duration
	advanced time.Duration
}

// Now is the sandbox's time: Real, plus the offset, plus what has been
// advanced.
func (c *Clock) Now() time.Time {
	real := time.Now
	if c.Real != nil {
		real = c.Real
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return real().Add(c.offset + c.advanced)
}

// Advanced is how much time has been advanced for the sandbox and its
// clients alike.
func (c *Clock) Advanced() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.advanced
}

// SetOffset sets how far the sandbox's clock runs from its clients'.
func (c *Clock) SetOffset(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// Advance lets d pass for the sandbox and its clients alike.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanced += d
}

// String says where the clock stands: "clock offset 20m0s advanced 0s".
func (c *Clock) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("clock offset %s advanced %s", c.offset, c.advanced)
}

// maxClockMove bounds one command: ten years.
const maxClockMove = 10 * 365 * 24 * time.Hour

// Control reads commands from r, one a line, until r ends, and answers
// each with one line on w, so that a test knows the move took effect
// before its next request:
//
//	offset DURATION    the sandbox's clock runs DURATION from its clients' (negative: behind)
//	advance DURATION   DURATION (positive) passes for the sandbox and its clients alike
//
// The answer is String, or "clock error: ..." for a line it cannot read.
// `credbroker sandbox serve --test-clock` runs it on its stdin, which only
// the process that started it holds.
func (c *Clock) Control(r io.Reader, w io.Writer) error {
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		if err := c.command(lines.Text()); err != nil {
			if _, werr := fmt.Fprintf(w, "clock error: %v\n", err); werr != nil {
				return werr
			}
			continue
		}
		if _, err := fmt.Fprintln(w, c.String()); err != nil {
			return err
		}
	}
	return lines.Err()
}

func (c *Clock) command(line string) error {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	d, err := time.ParseDuration(strings.TrimSpace(arg))
	if verb != "offset" && verb != "advance" {
		return fmt.Errorf("unknown command %q: use offset DURATION or advance DURATION", clip(verb, 16))
	}
	if err != nil || d > maxClockMove || d < -maxClockMove {
		return fmt.Errorf("%s needs a duration such as 20m or -1h30m, up to ten years, not %q", verb, clip(arg, 32))
	}
	if verb == "offset" {
		c.SetOffset(d)
		return nil
	}
	if d <= 0 {
		return fmt.Errorf("advance needs a positive duration: time does not go back for the clients (use offset)")
	}
	c.Advance(d)
	return nil
}
