//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/credbroker/credbroker/wire"
)

// TestCredentialProcessWaitsWhenThrottled: credential-process asked by a
// daemon to come back in a moment (its uid's share used up) comes back
// then, and prints the credentials; nothing is printed in between.
func TestCredentialProcessWaitsWhenThrottled(t *testing.T) {
	t.Parallel()
	throttled, _ := json.Marshal(wire.ErrorBody{Code: wire.CodeThrottled, Message: "uid 1 sends more than 20 requests a second to this daemon", Hint: "h", RetryAfterMS: 20})
	d := startFakeDaemon(t, func(gets, posts int, code string) (int, string) {
		if gets <= 3 {
			return 429, string(throttled)
		}
		return 200, fakeCreds
	})
	var stdout, stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: d.env, prompter: &countingPrompter{}}
	exit := run([]string{"credential-process", "--profile", "p"}, a)
	if gets, _, _ := d.counts(); exit != 0 || stdout.String() != fakeCreds || stderr.Len() != 0 || gets != 4 {
		t.Fatalf("exit %d, stdout %q, stderr %q after %d requests; want the credentials after 4", exit, stdout.String(), stderr.String(), gets)
	}
}
