package wire

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"path/filepath"
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

// TestAcceptWaitsHeader: a request whose caller hears waits says so
// (HeaderAcceptWaits); one without onWait does not, and the daemon then
// sends it no interim answer.
func TestAcceptWaitsHeader(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "cbw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	requests := make(chan *http.Request, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r, err := http.ReadRequest(bufio.NewReader(c))
			if err == nil {
				requests <- r
			}
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
			c.Close()
		}
	}()
	for _, tc := range []struct {
		onWait func(string, time.Duration)
		want   string
	}{
		{func(string, time.Duration) {}, "1"},
		{nil, ""},
	} {
		if _, _, err := roundTrip(socket, "GET", "/v1/health", nil, 5*time.Second, false, tc.onWait); err != nil {
			t.Fatal(err)
		}
		if got := (<-requests).Header.Get(HeaderAcceptWaits); got != tc.want {
			t.Errorf("with onWait %v: %s = %q, want %q", tc.onWait != nil, HeaderAcceptWaits, got, tc.want)
		}
	}
}
