//go:build unix

package main

// Script commands for the hostile-neighbour scenarios (limits.txtar):
// another local user holding every connection it can, or hammering the
// socket with requests it is refused, run for real as that uid (setpriv)
// against a real daemon process.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/internal/asuser"
	"github.com/credbroker/credbroker/wire"
)

// The scenarios' commands join the moto suite's (TestScripts).
func init() { addCmds(callerCmds, limitCmds) }

var limitCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"hold-slots":      cmdHoldSlots,
	"answered-within": cmdAnsweredWithin,
	"hammer":          cmdHammer,
	"herd-as":         cmdHerdAs,
	"as-uid":          cmdAsUID,
	"mark-size":       cmdMarkSize,
	"grew-at-most":    cmdGrewAtMost,
}

// Environment variables that make the test binary, run again as another
// uid, a slot holder or a hammer instead of a test run.
const (
	holderEnv = "CREDBROKER_TEST_SLOT_HOLDER"
	hammerEnv = "CREDBROKER_TEST_HAMMER"
)

// neighbourID is uid as a member of the socket's group (nogroup), as the
// scenarios' users are.
func neighbourID(ts *testscript.TestScript, uid string) asuser.Identity {
	n, err := strconv.ParseUint(uid, 10, 32)
	ts.Check(err)
	return asuser.Identity{UID: uint32(n), GID: 65534}
}

// neighbourBin copies the programs named (credbroker, credbroker-cli, or
// "self", the test binary) to a folder another uid may enter, and returns
// the folder.
func neighbourBin(ts *testscript.TestScript, names ...string) string {
	if why, _ := asuser.Check(); why != "" {
		ts.Fatalf("%s", why)
	}
	dir, err := asuser.SharedDir("cbnb")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	for _, name := range names {
		src := ""
		if name == "self" {
			src, err = os.Executable()
			ts.Check(err)
		} else {
			src = lookPath(ts, name)
		}
		ts.Check(asuser.CopyExecutable(src, filepath.Join(dir, name)))
	}
	return dir
}

// neighbourEnv is the whole environment of a credbroker run as another
// uid: no home, no daemon started on demand, the script's daemon socket.
func neighbourEnv(ts *testscript.TestScript) []string {
	return []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "CREDBROKER_NO_AUTOSTART=1", "CREDBROKER_SOCKET=" + ts.Getenv("CREDBROKER_SOCKET")}
}

// hold-slots UID: UID opens keep-alive connections to the daemon, one
// health request on each, until one is refused at once or not answered
// within 2 s: as many as it can hold. It keeps them (a request on each every 10 s)
// until the script ends. $HELD is how many it holds.
func cmdHoldSlots(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hold-slots UID")
	}
	bin := filepath.Join(neighbourBin(ts, "self"), "self")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := asuser.Command(ctx, neighbourID(ts, args[0]), bin, "-test.run=^TestSlotHolder$")
	cmd.Env = []string{holderEnv + "=" + ts.Getenv("CREDBROKER_SOCKET")}
	cmd.Dir = "/"
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	// The holder runs on while the script goes on: its stderr goes to a
	// file of its own, not to ts.Stderr(), which the next command resets.
	errFile, err := os.Create(filepath.Join(ts.Getenv("WORK"), "holder-"+args[0]+".stderr"))
	ts.Check(err)
	cmd.Stderr = errFile
	ts.Check(cmd.Start())
	ts.Defer(func() { cancel(); _ = cmd.Wait(); _ = errFile.Close() })
	line, err := bufio.NewReader(out).ReadString('\n')
	held, perr := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "held "))
	if err != nil || perr != nil {
		ts.Fatalf("the slot holder did not say how many it holds: %q %v", line, err)
	}
	ts.Logf("uid %s holds %d connections to the daemon", args[0], held)
	ts.Setenv("HELD", strconv.Itoa(held))
}

// answered-within DURATION UID PROFILE: credential_process run as UID for
// PROFILE prints credentials within DURATION (each run is stopped at 30 s).
// It runs up to three times and takes the fastest: on a loaded 2-core
// machine one run of the race-built program may start late, while a
// starved caller waits in every run (before the limits: 100 s, then an
// error).
func cmdAnsweredWithin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: answered-within DURATION UID PROFILE")
	}
	limit, err := time.ParseDuration(args[0])
	ts.Check(err)
	// The timed program is the small credbroker as it ships (see
	// shippedPrograms).
	shipped, err := shippedPrograms(ts)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	dir := neighbourBin(ts)
	ts.Check(asuser.CopyExecutable(filepath.Join(shipped, "credbroker"), filepath.Join(dir, "credbroker")))
	var tries []string
	for range 3 {
		took := credentialProcessAs(ts, dir, args[1], args[2])
		tries = append(tries, took.Round(time.Millisecond).String())
		if took <= limit {
			ts.Logf("uid %s's credential_process was answered in %s (runs: %s)", args[1], took.Round(time.Millisecond), strings.Join(tries, ", "))
			return
		}
	}
	ts.Fatalf("uid %s's credential_process was answered in %s, want within %s", args[1], strings.Join(tries, ", "), limit)
}

// shippedPrograms builds credbroker and credbroker-cli as they ship
// (without -race) into the script's $WORK, once per script (the go build
// cache makes later builds a link), and returns their folder. Tests that
// time a program or start hundreds of them use these: under -race the test
// binary alone takes about 1 s to start on this machine and needs several
// times the memory.
func shippedPrograms(ts *testscript.TestScript) (string, error) {
	dir := filepath.Join(ts.Getenv("WORK"), "shipped")
	if _, err := os.Stat(filepath.Join(dir, "credbroker-cli")); err == nil {
		return dir, nil
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/credbroker/credbroker/cmd/credbroker", "github.com/credbroker/credbroker/cmd/credbroker-cli")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build cmd/credbroker cmd/credbroker-cli: %v: %s", err, out)
	}
	return dir, nil
}

// credentialProcessAs runs the credbroker in dir as credential_process for
// profile as uid and says how long it took to print valid credentials.
func credentialProcessAs(ts *testscript.TestScript, dir, uid, profile string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := asuser.Command(ctx, neighbourID(ts, uid), filepath.Join(dir, "credbroker"), "credential-process", "--profile", profile)
	cmd.Env = neighbourEnv(ts)
	cmd.Dir = "/"
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var out wire.ProcessOutput
	if err != nil || json.Unmarshal(stdout.Bytes(), &out) != nil || out.Version != 1 {
		ts.Fatalf("uid %s's credential_process after %s: %v: %s", uid, took.Round(time.Millisecond), err, stderr.String())
	}
	return took
}

// as-uid UID ARGS...: run credbroker ARGS as UID (group nogroup), a
// caller the daemon did not start; an argument @FILE is the first line of
// $WORK/FILE (an MFA code a human would type).
func cmdAsUID(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: as-uid UID ARGS...")
	}
	dir := neighbourBin(ts, "credbroker", "credbroker-cli")
	argv := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		if name, ok := strings.CutPrefix(a, "@"); ok {
			a, _, _ = strings.Cut(ts.ReadFile(name), "\n")
		}
		argv = append(argv, a)
	}
	id := neighbourID(ts, args[0])
	// Its own runtime folder, where its clients take turns to prompt.
	run, err := os.MkdirTemp("", "cbrun")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(run) })
	ts.Check(os.Chown(run, int(id.UID), int(id.GID)))
	runNeighbour(ts, neg, "as-uid "+strings.Join(args, " "), dir, id, argv, "XDG_RUNTIME_DIR="+run)
}

// runNeighbour runs the credbroker in dir (neighbourBin's) with argv as
// id, a caller the daemon did not start, with neighbourEnv and env; its
// output is the command's, and it must fail when neg (what names the
// command in the failure).
func runNeighbour(ts *testscript.TestScript, neg bool, what, dir string, id asuser.Identity, argv []string, env ...string) {
	cmd := asuser.Command(context.Background(), id, filepath.Join(dir, "credbroker"), argv...)
	cmd.Env = append(neighbourEnv(ts), env...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	if err := cmd.Run(); (err != nil) != neg {
		ts.Fatalf("%s: %v", what, err)
	}
}

// herd-as UID N PROFILE: N credential_process processes started together
// as UID; every one must print credentials (those past the uid's share of
// connections are told to come back in a moment, and do).
func cmdHerdAs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: herd-as UID N PROFILE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	dir := neighbourBin(ts, "credbroker", "credbroker-cli")
	id := neighbourID(ts, args[0])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmds := make([]*exec.Cmd, n)
	outs, errs := make([]bytes.Buffer, n), make([]bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = asuser.Command(ctx, id, filepath.Join(dir, "credbroker"), "credential-process", "--profile", args[2])
		cmds[i].Env = neighbourEnv(ts)
		cmds[i].Dir = "/"
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
		ts.Check(cmds[i].Start())
	}
	failed := 0
	for i, c := range cmds {
		var out wire.ProcessOutput
		if err := c.Wait(); err != nil || json.Unmarshal(outs[i].Bytes(), &out) != nil || out.Version != 1 {
			failed++
			ts.Logf("process %d of uid %s's herd: %v: %s", i, args[0], err, errs[i].String())
		}
	}
	if failed > 0 {
		ts.Fatalf("%d of the %d processes of uid %s's herd got no credentials", failed, n, args[0])
	}
	ts.Logf("all %d processes of uid %s's herd got credentials", n, args[0])
}

// hammer UID DURATION PROFILE: UID asks for PROFILE's credentials as fast
// as it can for DURATION, over as many connections at once as the daemon
// lets it have, and says how it was answered.
func cmdHammer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: hammer UID DURATION PROFILE")
	}
	if _, err := time.ParseDuration(args[1]); err != nil {
		ts.Fatalf("hammer: %v", err)
	}
	bin := filepath.Join(neighbourBin(ts, "self"), "self")
	cmd := asuser.Command(context.Background(), neighbourID(ts, args[0]), bin, "-test.run=^TestHammer$")
	cmd.Env = []string{hammerEnv + "=" + strings.Join([]string{ts.Getenv("CREDBROKER_SOCKET"), args[1], args[2]}, " ")}
	cmd.Dir = "/"
	cmd.Stderr = ts.Stderr()
	out, err := cmd.Output()
	if err != nil {
		ts.Fatalf("hammer: %v", err)
	}
	ts.Logf("uid %s hammered the daemon for %s: %s", args[0], args[1], strings.TrimSpace(string(out)))
}

// sizes holds what mark-size measured, per script.
var sizes sync.Map // [2]any{*testscript.TestScript, path} -> int64

// mark-size FILE: remember FILE's size (0 if missing) for grew-at-most.
func cmdMarkSize(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mark-size FILE")
	}
	path := ts.MkAbs(args[0])
	sizes.Store([2]any{ts, path}, fileSize(path))
}

// grew-at-most FILE BYTES: FILE grew by at most BYTES since mark-size.
func cmdGrewAtMost(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: grew-at-most FILE BYTES")
	}
	limit, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	path := ts.MkAbs(args[0])
	before, ok := sizes.Load([2]any{ts, path})
	if !ok {
		ts.Fatalf("grew-at-most %s: no mark-size before", args[0])
	}
	grew := fileSize(path) - before.(int64)
	if grew > limit {
		ts.Fatalf("%s grew by %d bytes, want at most %d", args[0], grew, limit)
	}
	ts.Logf("%s grew by %d bytes (at most %d)", args[0], grew, limit)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestSlotHolder is not a test: hold-slots runs the test binary again as
// another uid with it.
func TestSlotHolder(t *testing.T) {
	if socket := os.Getenv(holderEnv); socket != "" {
		holdSlots(socket)
	}
}

// TestHammer is not a test: hammer runs the test binary again as another
// uid with it.
func TestHammer(t *testing.T) {
	if spec := os.Getenv(hammerEnv); spec != "" {
		hammerMain(spec)
	}
}

// holdSlots opens connections until one is refused at once (closed with
// its answer) or not answered, says how many it holds, and keeps them
// until killed. A connection whose request was answered, even throttled
// (past the uid's request rate), is held: the daemon keeps it open.
func holdSlots(socket string) {
	var held []*heldConn
	for len(held) < 2000 {
		c, err := net.Dial("unix", socket)
		if err != nil {
			break
		}
		hc := &heldConn{c, bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c))}
		if status, closed := hc.health(); status == 0 || closed {
			c.Close()
			break
		}
		held = append(held, hc)
	}
	fmt.Printf("held %d\n", len(held))
	for {
		time.Sleep(10 * time.Second) // within the daemon's 30 s idle limit
		for _, hc := range held {
			hc.health()
		}
	}
}

type heldConn struct {
	c  net.Conn
	rw *bufio.ReadWriter
}

// health sends a keep-alive health request and returns the answer's
// status (0: none within 2 s) and whether the daemon closes the
// connection with it.
func (hc *heldConn) health() (status int, closed bool) {
	_ = hc.c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := hc.rw.WriteString("GET " + wire.PathHealth + " HTTP/1.1\r\nHost: credbroker\r\n\r\n"); err != nil || hc.rw.Flush() != nil {
		return 0, true
	}
	resp, err := http.ReadResponse(hc.rw.Reader, nil)
	if err != nil {
		return 0, true
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Close
}

// hammerMain asks for a profile over 64 keep-alive connections at once
// (reconnecting when the daemon closes one) for the given time, and prints
// the count of answers by HTTP status as JSON.
func hammerMain(spec string) {
	f := strings.Fields(spec)
	socket, profile := f[0], f[2]
	d, _ := time.ParseDuration(f[1])
	end := time.Now().Add(d)
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for time.Now().Before(end) {
				c, err := net.Dial("unix", socket)
				if err != nil {
					mu.Lock()
					counts[0]++
					mu.Unlock()
					continue
				}
				rw := bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c))
				for time.Now().Before(end) {
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					if _, err := rw.WriteString("GET " + wire.PathCredentials + "?profile=" + profile + " HTTP/1.1\r\nHost: credbroker\r\n\r\n"); err != nil || rw.Flush() != nil {
						break
					}
					resp, err := http.ReadResponse(rw.Reader, nil)
					if err != nil {
						break
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					counts[resp.StatusCode]++
					mu.Unlock()
					if resp.Close {
						break
					}
				}
				c.Close()
			}
		})
	}
	wg.Wait()
	out, _ := json.Marshal(counts)
	fmt.Println(string(out))
	os.Exit(0)
}
