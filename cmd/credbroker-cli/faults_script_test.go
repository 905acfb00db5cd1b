package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The fault scenarios' commands (sts_faults.txtar), run with the daemon
// scenarios.
func init() {
	daemonCmds["fails-within"] = cmdFailsWithin
}

// fails-within [-tty] DURATION PROFILE: credential_process for PROFILE
// (the small program, as an SDK runs it) must fail, print nothing on
// stdout, and end within DURATION; its stderr is the command's, for
// stderr to check. -tty runs it on a terminal (script(1)), where waits
// over a second are said; its terminal's output is then the stderr.
func cmdFailsWithin(ts *testscript.TestScript, neg bool, args []string) {
	tty := len(args) > 0 && args[0] == "-tty"
	if tty {
		args = args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fails-within [-tty] DURATION PROFILE")
	}
	limit, err := time.ParseDuration(args[0])
	ts.Check(err)
	front := lookPath(ts, "credbroker")
	cmd := exec.Command(front, "credential-process", "--profile", args[1])
	if tty {
		// script(1) gives the command a terminal and copies what it
		// writes there to its stdout.
		cmd = exec.Command("script", "-qefc", shellQuote(front)+" credential-process --profile "+shellQuote(args[1]), "/dev/null")
	}
	cmd.Env = scriptEnv(ts)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	out := se.String()
	if tty {
		out = strings.ReplaceAll(so.String(), "\r\n", "\n")
	} else if so.Len() > 0 {
		ts.Fatalf("credential_process printed on stdout: %d bytes", so.Len())
	}
	fmt.Fprint(ts.Stderr(), out)
	ts.Logf("credential_process failed after %s", took.Round(10*time.Millisecond))
	if err == nil {
		ts.Fatalf("credential_process succeeded")
	}
	if took > limit {
		ts.Fatalf("credential_process took %s, more than %s", took.Round(10*time.Millisecond), limit)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
