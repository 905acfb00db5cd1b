//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The fault scenarios' commands (sts_faults.txtar), run with the daemon
// scenarios.
func init() {
	addCmds(daemonCmds, map[string]func(*testscript.TestScript, bool, []string){
		"fails-within": cmdFailsWithin,
		"totp-race":    cmdTOTPRace,
	})
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

// totp-race PROFILE SEEDNAME N: N `credbroker totp code PROFILE` started
// at once must print N different codes, each one oathtool makes from the
// seed at a time step of the run (so up to (N-1)·30 s).
func cmdTOTPRace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: totp-race PROFILE SEEDNAME N")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	seed := stateOf(ts).values["seed:"+args[1]]
	if seed == "" {
		ts.Fatalf("no seed %s", args[1])
	}
	before := time.Now()
	cmds := make([]*exec.Cmd, n)
	outs := make([]bytes.Buffer, n)
	// Each run has a stderr of its own: ts.Stderr() is not safe for
	// concurrent writers; they are copied there in order once all ended.
	errs := make([]bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = exec.Command(lookPath(ts, "credbroker"), "totp", "code", args[0])
		cmds[i].Env = scriptEnv(ts)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
	}
	for _, c := range cmds {
		ts.Check(c.Start())
	}
	waitErrs := make([]error, n)
	for i, c := range cmds {
		waitErrs[i] = c.Wait()
	}
	for i := range cmds {
		_, _ = ts.Stderr().Write(errs[i].Bytes())
	}
	for _, err := range waitErrs {
		ts.Check(err)
	}
	after := time.Now()
	codes := oathCodes(ts, seed, before.Unix()/30, after.Unix()/30)
	seen := map[string]bool{}
	for i := range outs {
		code := strings.TrimSpace(outs[i].String())
		if seen[code] {
			ts.Fatalf("two of %d concurrent totp code runs printed the same code", n)
		}
		seen[code] = true
		if !slices.Contains(codes, code) {
			ts.Fatalf("totp code printed a code that oathtool makes at no time step of the run")
		}
	}
	ts.Logf("%d concurrent totp code runs printed %d different codes in %s", n, n, after.Sub(before).Round(100*time.Millisecond))
}
