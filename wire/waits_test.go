package wire

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// TestInterimAnswers: the 102 answers before the final one are told to
// onWait, in order, and do not change the final status or body.
func TestInterimAnswers(t *testing.T) {
	t.Parallel()
	raw := "HTTP/1.1 102 Processing\r\nCredbroker-Wait-For: the next MFA code of arn:aws:iam::123456789012:mfa/alice\r\nCredbroker-Wait-Seconds: 17.2\r\n\r\n" +
		"HTTP/1.1 102 Processing\r\nCredbroker-Wait-For: nothing said right\r\nCredbroker-Wait-Seconds: soon\r\n\r\n" +
		"HTTP/1.1 102 Processing\r\nCredbroker-Wait-For: a retry against STS\r\nCredbroker-Wait-Seconds: 0.6\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	var got []string
	status, body, err := readAnswer(bufio.NewReader(strings.NewReader(raw)), func(what string, wait time.Duration) {
		got = append(got, WaitLine(what, wait))
	})
	if err != nil || status != 200 || string(body) != "{}" {
		t.Fatalf("readAnswer = %d, %q, %v", status, body, err)
	}
	want := []string{"credbroker: waiting 17 s for the next MFA code of arn:aws:iam::123456789012:mfa/alice", "credbroker: waiting 0.6 s for a retry against STS"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("waits %q, want %q", got, want)
	}
}
