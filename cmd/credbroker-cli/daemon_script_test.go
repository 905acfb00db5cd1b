//go:build unix

package main

// Script commands for the daemon scenarios: a herd of credential_process
// processes, a caller running as another user, an STS outage, and kill -9
// of the daemon in the middle of refreshes.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/credbroker/credbroker/internal/asuser"
	"github.com/credbroker/credbroker/wire"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/internal/stspeer"
	"github.com/credbroker/credbroker/keystore"
)

var daemonCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"sts-mode":         cmdSTSMode,
	"herd":             cmdHerd,
	"as-nobody":        cmdAsNobody,
	"socket-dir-group": cmdSocketDirGroup,
	"wait-socket":      cmdWaitSocket,
	"outage":           cmdOutage,
	"kill9-loop":       cmdKill9Loop,
	"keystore-check":   cmdKeystoreCheck,
	"daemon-stop": func(ts *testscript.TestScript, neg bool, args []string) {
		stopDaemon(ts.Getenv("CREDBROKER_SOCKET"))
	},
}

// sts-mode [fault=none|503|throttle|silent] [lifetime=DURATION] [delay=DURATION]
// [date=OFFSET]: silent takes requests and never answers; date moves the
// Date header of STS's answers (a peer whose clock is that far off).
func cmdSTSMode(ts *testscript.TestScript, neg bool, args []string) {
	p := proxyOf(ts)
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "fault":
			if v == "none" {
				v = ""
			}
			p.SetMode(func(m *stspeer.Mode) { m.Fault = v })
		case "lifetime", "delay", "date":
			d, err := time.ParseDuration(v)
			if err != nil {
				ts.Fatalf("sts-mode %s: %v", a, err)
			}
			switch k {
			case "lifetime":
				p.SetMode(func(m *stspeer.Mode) { m.Lifetime = d })
			case "delay":
				p.SetMode(func(m *stspeer.Mode) { m.Delay = d })
			default:
				p.SetMode(func(m *stspeer.Mode) { m.DateOffset = d })
			}
		default:
			ts.Fatalf("usage: sts-mode [fault=none|503|throttle|silent] [lifetime=D] [delay=D] [date=OFFSET]")
		}
	}
}

// credentialProcess runs `credbroker credential-process --profile
// profile` as an SDK would, and parses what it printed.
func credentialProcess(ts *testscript.TestScript, profile string) (out wire.ProcessOutput, stderr string, err error) {
	cmd := exec.Command(lookPath(ts, "credbroker"), "credential-process", "--profile", profile)
	cmd.Env = scriptEnv(ts)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	if err == nil {
		if jerr := json.Unmarshal(so.Bytes(), &out); jerr != nil {
			err = fmt.Errorf("stdout is not credential_process JSON: %v", jerr)
		}
	} else if so.Len() > 0 {
		err = fmt.Errorf("%v, and something on stdout", err)
	}
	return out, se.String(), err
}

// expiration parses out's Expiration and checks it is in the future:
// expired credentials must never be handed out.
func expiration(ts *testscript.TestScript, out wire.ProcessOutput) time.Time {
	exp, err := time.Parse(time.RFC3339, out.Expiration)
	if err != nil {
		ts.Fatalf("Expiration %q: %v", out.Expiration, err)
	}
	if !exp.After(time.Now()) {
		ts.Fatalf("handed out credentials that expired at %s", out.Expiration)
	}
	return exp
}

// herd N PROFILE: N credential_process processes started together; all
// must get the same valid credentials.
func cmdHerd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: herd N PROFILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	exe := lookPath(ts, "credbroker")
	env := scriptEnv(ts)
	cmds := make([]*exec.Cmd, n)
	outs := make([]bytes.Buffer, n)
	errs := make([]bytes.Buffer, n)
	start := time.Now()
	for i := range cmds {
		cmds[i] = exec.Command(exe, "credential-process", "--profile", args[1])
		cmds[i].Env = env
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
		ts.Check(cmds[i].Start())
	}
	ids := map[string]int{}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			ts.Fatalf("process %d of the herd: %v: %s", i, err, errs[i].String())
		}
		var out wire.ProcessOutput
		if err := json.Unmarshal(outs[i].Bytes(), &out); err != nil || out.Version != 1 {
			ts.Fatalf("process %d of the herd printed no credential_process JSON", i)
		}
		expiration(ts, out)
		ids[out.AccessKeyID]++
	}
	if len(ids) != 1 {
		ts.Fatalf("the herd got %d different credentials, want one", len(ids))
	}
	ts.Logf("herd: %d processes got the same credentials in %s", n, time.Since(start).Round(time.Millisecond))
}

// socket-dir-group GROUP: let GROUP reach the daemon's socket folder
// (0750), as the system service's RuntimeDirectory does.
func cmdSocketDirGroup(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: socket-dir-group GROUP")
	}
	dir := filepath.Dir(ts.Getenv("CREDBROKER_SOCKET"))
	out, err := exec.Command("chgrp", args[0], dir).CombinedOutput()
	if err != nil {
		ts.Fatalf("chgrp: %v: %s", err, out)
	}
	ts.Check(os.Chmod(dir, 0o750))
}

// wait-socket: wait until a daemon answers on $CREDBROKER_SOCKET.
func cmdWaitSocket(ts *testscript.TestScript, neg bool, args []string) {
	c := wire.NewClient(ts.Getenv("CREDBROKER_SOCKET"))
	deadline := time.Now().Add(10 * time.Second)
	for c.Health(context.Background()) != nil {
		if time.Now().After(deadline) {
			ts.Fatalf("no daemon answers on %s", c.Socket)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// as-nobody ARGS...: run credbroker ARGS as user nobody (uid 65534, group
// nogroup, no supplementary groups), a caller the daemon did not start.
func cmdAsNobody(ts *testscript.TestScript, neg bool, args []string) {
	// nobody cannot reach the test's own folders: give it a copy of the
	// programs in a folder it may enter.
	dir := neighbourBin(ts, "credbroker", "credbroker-cli")
	runNeighbour(ts, neg, "as-nobody "+strings.Join(args, " "), dir, asuser.Nobody, args)
}

// outage PROFILE: STS fails (503, then throttling) while a daemon serves
// PROFILE with 30-second credentials. Callers keep getting the cached
// credentials while they are valid; once expired, a clear error and never
// the expired keys; when STS is back, the same daemon serves again.
func cmdOutage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: outage PROFILE")
	}
	profile := args[0]
	p := proxyOf(ts)
	set := func(fault string, lifetime time.Duration) {
		p.SetMode(func(m *stspeer.Mode) { m.Fault, m.Lifetime = fault, lifetime })
	}
	c := wire.NewClient(ts.Getenv("CREDBROKER_SOCKET"))
	set("", 30*time.Second)
	ts.Check(c.Forget(context.Background(), profile))
	first, stderr, err := credentialProcess(ts, profile)
	if err != nil {
		ts.Fatalf("before the outage: %v: %s", err, stderr)
	}
	exp := expiration(ts, first)
	st, err := c.Status(context.Background())
	ts.Check(err)
	pid := st.PID

	set("503", 30*time.Second)
	p.Reset()
	served := 0
	for time.Until(exp) > 4*time.Second {
		if time.Until(exp) < 15*time.Second {
			set("throttle", 30*time.Second)
		}
		out, stderr, err := credentialProcess(ts, profile)
		if err != nil {
			ts.Fatalf("during the outage, %s before expiry: %v: %s", time.Until(exp).Round(time.Second), err, stderr)
		}
		expiration(ts, out)
		// moto issues the same session key every time; the expiration
		// (rewritten to now+30s by the proxy) tells issues apart.
		if out.Expiration != first.Expiration {
			ts.Fatalf("during the outage: other credentials than the cached ones")
		}
		served++
		time.Sleep(time.Second)
	}
	// Up to 25 one-second rounds fit between the first issue and 4 s
	// before expiry (fewer on a loaded machine); a daemon that stopped
	// serving would have failed one. The daemon went back to STS (and
	// failed) in that time: it was not simply idle.
	attempts := p.Count("GetSessionToken")
	if served < 5 || attempts < 1 {
		ts.Fatalf("during the outage: served %d times (want at least 5), %d attempts at STS (want at least 1)", served, attempts)
	}
	ts.Logf("outage: the cached credentials were served %d times while STS failed %d attempts", served, attempts)

	time.Sleep(time.Until(exp) + time.Second)
	out, stderr, err := credentialProcess(ts, profile)
	if err == nil {
		ts.Fatalf("after expiry during the outage: credentials expiring %s were handed out", out.Expiration)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "credbroker: error: profile "+profile+": GetSessionToken") ||
		!strings.Contains(stderr, "Throttling") {
		ts.Fatalf("after expiry: want one line naming the profile and STS's error, got %q", stderr)
	}
	ts.Logf("outage: after expiry: %s", strings.TrimSpace(stderr))

	set("", 0)
	back := time.Now()
	for {
		out, _, err := credentialProcess(ts, profile)
		if err == nil {
			expiration(ts, out)
			if out.Expiration == first.Expiration {
				ts.Fatalf("after the outage: the old credentials again")
			}
			break
		}
		if time.Since(back) > 6*time.Minute {
			ts.Fatalf("STS is back but the daemon did not serve within 6 min: %v", err)
		}
		time.Sleep(2 * time.Second)
	}
	st, err = c.Status(context.Background())
	ts.Check(err)
	if st.PID != pid {
		ts.Fatalf("the daemon was restarted (pid %d -> %d)", pid, st.PID)
	}
	ts.Logf("outage: served again %s after STS came back, same daemon", time.Since(back).Round(time.Second))
}

// kill9-loop N PROFILE...: N times, make the daemon refresh every profile
// (STS answers slowly), kill -9 it at a random moment, then check the
// keystore is intact and a new daemon serves every profile.
func cmdKill9Loop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: kill9-loop N PROFILE...")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	profiles := args[1:]
	p := proxyOf(ts)
	p.SetMode(func(m *stspeer.Mode) { m.Delay = 150 * time.Millisecond })
	defer p.SetMode(func(m *stspeer.Mode) { m.Delay = 0 })
	c := wire.NewClient(ts.Getenv("CREDBROKER_SOCKET"))
	for i := range n {
		// A daemon serving every profile (started on demand).
		for _, prof := range profiles {
			if _, stderr, err := credentialProcess(ts, prof); err != nil {
				ts.Fatalf("round %d: the restarted daemon does not serve %s: %v: %s", i, prof, err, stderr)
			}
		}
		st, err := c.Status(context.Background())
		ts.Check(err)
		// Drop what is cached and ask again: refreshes are in flight,
		// and writing the keystore, when the kill comes.
		for _, prof := range profiles {
			ts.Check(c.Forget(context.Background(), prof))
		}
		var wg sync.WaitGroup
		for _, prof := range profiles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _ = credentialProcess(ts, prof) // may fail: the daemon dies under it
			}()
		}
		time.Sleep(time.Duration(20+rand.IntN(400)) * time.Millisecond)
		ts.Check(syscall.Kill(st.PID, syscall.SIGKILL))
		for syscall.Kill(st.PID, 0) == nil {
			time.Sleep(5 * time.Millisecond)
		}
		wg.Wait()
		keystoreCheck(ts)
	}
	for _, prof := range profiles {
		if _, stderr, err := credentialProcess(ts, prof); err != nil {
			ts.Fatalf("after %d kills: %s: %v: %s", n, prof, err, stderr)
		}
	}
	ts.Logf("kill9-loop: %d kills during refreshes; every restart served, the keystore stayed intact", n)
}

// keystore-check: every item in the keystore reads back whole.
func cmdKeystoreCheck(ts *testscript.TestScript, neg bool, args []string) { keystoreCheck(ts) }

func keystoreCheck(ts *testscript.TestScript) {
	keys, err := keystore.Open(keystore.ConfigFromEnv(ts.Getenv))
	ts.Check(err)
	items, err := keys.List()
	ts.Check(err)
	for _, it := range items {
		data, err := keys.Get(it.Kind, it.Name)
		if err != nil {
			ts.Fatalf("keystore item %s %s is damaged: %v", it.Kind, it.Name, err)
		}
		if it.Kind == keystore.KindSession && !json.Valid(data) {
			ts.Fatalf("cached session %s is not whole", it.Name)
		}
	}
	if len(items) == 0 {
		ts.Fatalf("the keystore is empty")
	}
}
