package sandbox

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestClockMoves: an offset makes the clients' signatures skewed (as a
// client clock 20 minutes behind); an advance ages the sessions the
// sandbox issued while the clients' signatures and MFA codes, made on
// their unmoved clocks, still pass.
func TestClockMoves(t *testing.T) {
	w := newWorld(t, nil)
	real := w.clock // what the clients sign and make codes with
	clk := &Clock{Real: real.Now}
	w.srv.Now, w.srv.Advanced = clk.Now, clk.Advanced
	gci := map[string]string{"Action": "GetCallerIdentity"}

	var st struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	}
	w.ok(w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "DurationSeconds": "900",
		"SerialNumber": "arn:aws:iam::111111111111:mfa/alice", "TokenCode": w.code(0)}), &st)
	session := creds{st.Credentials.AccessKeyId, st.Credentials.SecretAccessKey, st.Credentials.SessionToken}
	w.ok(w.call(session, "sts", gci), nil)

	// Offset: the same requests are now skewed.
	clk.SetOffset(20 * time.Minute)
	w.refused(w.call(w.alice, "sts", gci), http.StatusForbidden, "SignatureDoesNotMatch",
		"Signature expired: 20261127T100015Z is now earlier than 20261127T101515Z (20261127T102015Z - 5 min.)")
	clk.SetOffset(-20 * time.Minute)
	w.refused(w.call(w.alice, "sts", gci), http.StatusForbidden, "SignatureDoesNotMatch",
		"Signature not yet current: 20261127T100015Z is still later than 20261127T094515Z (20261127T094015Z + 5 min.)")
	clk.SetOffset(0)

	// Advance: the 15-minute session expires, yet alice's signature made
	// now on her clock, and the code of her clock's next step, pass.
	real.Add(30 * time.Second)
	clk.Advance(16 * time.Minute)
	w.refused(w.call(session, "sts", gci), http.StatusForbidden, "ExpiredToken", msgExpiredToken)
	w.ok(w.call(w.alice, "sts", gci), nil)
	var again struct{ Credentials struct{ Expiration string } }
	w.ok(w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "DurationSeconds": "900",
		"SerialNumber": "arn:aws:iam::111111111111:mfa/alice", "TokenCode": w.code(0)}), &again)
	// The new session's Expiration is told on alice's clock, as she
	// reads it: 900 s from her now.
	if want := real.Now().Add(900 * time.Second).UTC().Format(time.RFC3339); again.Credentials.Expiration != want {
		t.Errorf("Expiration %s, want %s", again.Credentials.Expiration, want)
	}
}

// TestClockControl: each command line is answered with where the clock
// stands, or with what is wrong; nothing moves on a bad line.
func TestClockControl(t *testing.T) {
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk := &Clock{Real: func() time.Time { return base }}
	in, feed := io.Pipe()
	out, answers := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- clk.Control(in, answers); answers.Close() }()
	read := bufio.NewReader(out)
	for _, tc := range []struct{ line, answer string }{
		{"offset 20m", "clock offset 20m0s advanced 0s"},
		{"advance 2h", "clock offset 20m0s advanced 2h0m0s"},
		{"advance 30m", "clock offset 20m0s advanced 2h30m0s"},
		{"offset -5m", "clock offset -5m0s advanced 2h30m0s"},
		{"advance -1h", "clock error: advance needs a positive duration: time does not go back for the clients (use offset)"},
		{"rewind 1h", `clock error: unknown command "rewind": use offset DURATION or advance DURATION`},
		{"offset soon", `clock error: offset needs a duration such as 20m or -1h30m, up to ten years, not "soon"`},
		{"advance 100000h", `clock error: advance needs a duration such as 20m or -1h30m, up to ten years, not "100000h"`},
	} {
		if _, err := io.WriteString(feed, tc.line+"\n"); err != nil {
			t.Fatal(err)
		}
		got, err := read.ReadString('\n')
		if err != nil || strings.TrimSuffix(got, "\n") != tc.answer {
			t.Errorf("%q: answered %q (%v), want %q", tc.line, got, err, tc.answer)
		}
	}
	feed.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, want := clk.Now(), base.Add(-5*time.Minute+150*time.Minute); !got.Equal(want) || clk.Advanced() != 150*time.Minute {
		t.Errorf("Now %s advanced %s; want %s and 2h30m", got, clk.Advanced(), want)
	}
}
