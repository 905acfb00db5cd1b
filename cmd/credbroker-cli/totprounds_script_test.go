//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/keystore"
)

// The many-rounds TOTP race (totp_rounds.txtar), run with the offline
// scenarios.
func init() {
	addCmds(daemonCmds, map[string]func(*testscript.TestScript, bool, []string){"totp-rounds": cmdTOTPRounds})
}

// roundsGate parks a shell until the gate opens: it says it is ready on
// fd 3 and closes it, waits for one line on stdin (the gate; sh reads a
// pipe one byte at a time, so each shell takes one line), then becomes
// `credbroker totp code PROFILE` with stdin on /dev/null. Forking the
// processes one after the other would let the first run before the last
// exist; parked shells all start when one write opens the gate.
const roundsGate = `echo >&3; exec 3>&-; read -r _ || exit 97; exec "$0" totp code "$1" </dev/null`

// roundsLimit bounds the whole herd: K runs of one device wait at most
// (K-1)·30 s for their steps.
const roundsLimit = 3 * time.Minute

// totp-rounds N K: N profiles, each with an MFA device and a random seed of
// its own (stored with `credbroker totp add`, in memory here otherwise),
// and K `credbroker totp code PROFILE` for each, N·K processes released
// together from a gate. For each profile the K codes must differ, each be
// oathtool's code of the seed at a time step of the run, and the last of
// them be the step recorded as used. Every process must end well, with
// nothing on stderr but the line saying it waits for the next step. The
// profiles' items are removed from the keyring at the end, the processes
// killed if the command fails before they end.
func cmdTOTPRounds(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: totp-rounds N K")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	k, err := strconv.Atoi(args[1])
	ts.Check(err)
	if n < 1 || k < 2 {
		ts.Fatalf("totp-rounds: want at least 1 profile and 2 runs each")
	}
	if _, err := exec.LookPath("oathtool"); err != nil {
		ts.Fatalf("oathtool not found: install the Debian package oathtool")
	}
	tag := make([]byte, 4)
	_, _ = rand.Read(tag)
	run := hex.EncodeToString(tag)
	keys, err := keystore.Open(keystore.ConfigFromEnv(ts.Getenv))
	ts.Check(err)
	names := make([]string, n)
	devices := make([]string, n)
	seeds := make([]string, n)
	var conf strings.Builder
	for i := range names {
		// Names of this run only: a keyring like keyctl's is the user's,
		// not the script's.
		names[i] = fmt.Sprintf("r%s-%03d", run, i)
		devices[i] = "arn:aws:iam::123456789012:mfa/" + names[i]
		b := make([]byte, 20)
		_, _ = rand.Read(b)
		seeds[i] = base32.StdEncoding.EncodeToString(b)
		stateOf(ts).values["seed:"+names[i]] = seeds[i]
		fmt.Fprintf(&conf, "\n[profile %s]\nmfa_serial = %s\n", names[i], devices[i])
	}
	roundsQuota(ts, keys.Backend(), n)
	ts.Defer(func() {
		for i := range names {
			_ = keys.Delete(keystore.KindTOTPSeed, names[i])
			_ = keys.Delete(keystore.KindState, "mfa-step/"+devices[i])
		}
	})
	f, err := os.OpenFile(ts.Getenv("CREDBROKER_CONFIG"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	ts.Check(err)
	_, err = f.WriteString(conf.String())
	ts.Check(f.Close())
	ts.Check(err)
	// 300 processes at once: the programs as they ship, not the
	// race-built test binary (shippedPrograms).
	shipped, err := shippedPrograms(ts)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	exe := filepath.Join(shipped, "credbroker")
	env := scriptEnv(ts)
	for i := range names {
		add := exec.Command(exe, "totp", "add", names[i])
		add.Env = env
		add.Stdin = strings.NewReader(seeds[i] + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			ts.Fatalf("credbroker totp add %s: %v: %s", names[i], err, out)
		}
	}

	before, after, outs, errs := roundsHerd(ts, exe, env, names, k)

	first, last := before.Unix()/30, after.Unix()/30
	waited := 0
	for i, name := range names {
		steps := oathSteps(ts, seeds[i], first, last)
		got := map[int64]bool{}
		maxStep := int64(-1)
		for j := 0; j < k; j++ {
			p := i*k + j
			code := strings.TrimSpace(outs[p].String())
			step, ok := steps[code]
			if !ok {
				ts.Fatalf("totp code %s printed a code that oathtool makes at no time step from %d to %d", name, first, last)
			}
			if got[step] {
				ts.Fatalf("two of the %d concurrent totp code %s printed the code of step %d (AWS refuses a code used twice)", k, name, step)
			}
			got[step] = true
			maxStep = max(maxStep, step)
			e := errs[p].String()
			if totpWaitLine.MatchString(e) {
				waited++
				e = totpWaitLine.ReplaceAllString(e, "")
			}
			if strings.TrimSpace(e) != "" {
				ts.Fatalf("totp code %s said on stderr more than that it waits for the next step: %q", name, e)
			}
		}
		rec, ok, err := (broker.StepStore{Keys: keys}).LastStep(devices[i])
		ts.Check(err)
		if !ok || int64(rec) != maxStep {
			ts.Fatalf("the codes of %s were of steps up to %d, but %d (found: %v) is recorded as the last used", name, maxStep, rec, ok)
		}
	}
	ts.Logf("%d profiles × %d totp code released together: each profile's codes differ and are oathtool's, at steps %d to %d; %d waited for the next step; the gate opening to the last exit: %s",
		n, k, first, last, waited, after.Sub(before).Round(100*time.Millisecond))
}

// roundsHerd parks len(names)·k shells at a gate (k per profile, profile
// i's at i·k…), opens it with one write and waits for all of them: the
// time the gate opened, the last exit, and each process's output. Its
// processes are killed and reaped if it fails.
func roundsHerd(ts *testscript.TestScript, exe string, env []string, names []string, k int) (before, after time.Time, outs, errs []bytes.Buffer) {
	total := len(names) * k
	gateR, gateW, err := os.Pipe()
	ts.Check(err)
	readyR, readyW, err := os.Pipe()
	if err != nil {
		gateR.Close()
		gateW.Close()
		ts.Fatalf("pipe: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), roundsLimit)
	cmds := make([]*exec.Cmd, 0, total)
	type end struct {
		p   int
		err error
	}
	done := make(chan end, total)
	defer func() {
		// On the way out, on success or failure: shells still parked
		// read the end of the gate and exit; whatever still runs is
		// killed; all are reaped.
		gateW.Close()
		readyR.Close()
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
		for range cmds {
			<-done
		}
		cancel()
	}()
	outs, errs = make([]bytes.Buffer, total), make([]bytes.Buffer, total)
	for p := 0; p < total; p++ {
		c := exec.CommandContext(ctx, "/bin/sh", "-c", roundsGate, exe, names[p/k])
		c.Env = env
		c.Stdin = gateR
		c.ExtraFiles = []*os.File{readyW}
		c.Stdout, c.Stderr = &outs[p], &errs[p]
		if err := c.Start(); err != nil {
			gateR.Close()
			readyW.Close()
			ts.Fatalf("start process %d of %d: %v", p, total, err)
		}
		cmds = append(cmds, c)
		go func() { done <- end{p, c.Wait()} }()
	}
	gateR.Close()
	readyW.Close()
	// Every shell writes one line to readyW before it reads the gate,
	// then closes it: a short read means one died on the way.
	ready, err := io.ReadFull(readyR, make([]byte, total))
	if err != nil {
		ts.Fatalf("only %d of %d shells reached the gate: %v", ready, total, err)
	}
	before = time.Now()
	if _, err := gateW.Write(bytes.Repeat([]byte("\n"), total)); err != nil {
		ts.Fatalf("open the gate: %v", err)
	}
	var failed []end
	for range cmds {
		if e := <-done; e.err != nil {
			failed = append(failed, e)
		}
	}
	after = time.Now()
	cmds = nil // all reaped
	if len(failed) > 0 {
		// Their stderr, once all ended: ts.Stderr() is not safe for
		// concurrent writers.
		for _, e := range failed {
			fmt.Fprintf(ts.Stderr(), "totp code %s: %v: %s", names[e.p/k], e.err, errs[e.p].String())
		}
		ts.Fatalf("%d of %d totp code runs failed", len(failed), total)
	}
	return before, after, outs, errs
}

// oathSteps maps the codes oathtool makes from seed at the time steps from
// first to last to their steps.
func oathSteps(ts *testscript.TestScript, seed string, first, last int64) map[string]int64 {
	steps := map[string]int64{}
	for i, code := range oathCodes(ts, seed, first, last) {
		steps[code] = first + int64(i)
	}
	if int64(len(steps)) != last-first+1 {
		ts.Fatalf("oathtool gave %d codes for %d time steps", len(steps), last-first+1)
	}
	return steps
}

// roundsQuota checks, for the keyctl backend, that the kernel's key quota
// of this user holds n profiles' seeds and steps: a user other than root
// may keep 200 keys and 20000 bytes by default
// (/proc/sys/kernel/keys/maxkeys and maxbytes).
func roundsQuota(ts *testscript.TestScript, backend string, n int) {
	if backend != "keyctl" {
		return
	}
	data, err := os.ReadFile("/proc/key-users")
	ts.Check(err)
	uid := strconv.Itoa(os.Getuid()) + ":"
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || f[0] != uid {
			continue
		}
		keysUsed, keysMax, ok1 := quotaPair(f[3])
		bytesUsed, bytesMax, ok2 := quotaPair(f[4])
		if !ok1 || !ok2 {
			ts.Fatalf("/proc/key-users: cannot read the line of uid %d", os.Getuid())
		}
		// A seed item and a step item per profile, each charged its
		// description, a NUL and its data (under 256 bytes).
		need := n * 2 * 256
		if keysUsed+2*n+1 > keysMax || bytesUsed+need > bytesMax {
			ts.Fatalf("the kernel key quota of uid %d (%d/%d keys, %d/%d bytes used) cannot hold %d profiles' items: raise /proc/sys/kernel/keys/maxkeys and maxbytes, or run as root",
				os.Getuid(), keysUsed, keysMax, bytesUsed, bytesMax, n)
		}
		return
	}
	// No line yet: this user has no key; the defaults are checked when
	// the keys are added.
}

func quotaPair(s string) (used, limit int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	u, err1 := strconv.Atoi(a)
	l, err2 := strconv.Atoi(b)
	return u, l, found && err1 == nil && err2 == nil
}
