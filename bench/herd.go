//go:build linux

package main

// The herd: N credential-process started together on a cold cache with no
// daemon running.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type herdResult struct {
	n          int
	park       time.Duration // forking N gated shells until all wait at the gate
	wall       time.Duration // the gate opening to the last exit
	each       summary       // the gate opening to each exit
	valid      int
	distinctID int
	failures   map[string]int // redacted stderr line -> count
	sts        map[string]int
	daemons    int      // "starting" lines in the autostarted daemon's log
	refreshes  []string // the daemon's "refreshed" lines: profile and how long the STS chain took
	daemonPID  int
	rss, hwm   int64
}

type herdProc struct {
	pid       int
	end       time.Time
	out, errb []byte
	status    syscall.WaitStatus
}

// gateScript waits for one line on stdin (the gate), then becomes
// credential-process with stdin on /dev/null. Forking N Go processes one
// after the other would take the harness hundreds of milliseconds on a
// small machine, the first ones running (and starting the daemon) while
// the last are not yet forked; parked shells all start at once instead.
const gateScript = `read -r _ || exit 97; exec "$0" credential-process --profile "$1" </dev/null`

// herd starts n credential-process for profile at once and waits for all.
func herd(bin string, s *site, profile string, n int, sec *secrets) (herdResult, error) {
	res := herdResult{n: n, failures: map[string]int{}}
	sh := "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		return res, errors.New("/bin/sh not found: the herd parks its processes in shells")
	}
	var gate [2]int
	if err := syscall.Pipe2(gate[:], syscall.O_CLOEXEC); err != nil {
		return res, err
	}
	defer syscall.Close(gate[1])
	argv := []string{"sh", "-c", gateScript, bin, profile}
	procs := make([]*herdProc, n)
	var wg sync.WaitGroup
	forkStart := time.Now()
	for i := range procs {
		var o, e [2]int
		if err := syscall.Pipe2(o[:], syscall.O_CLOEXEC); err != nil {
			syscall.Close(gate[0])
			return res, err
		}
		if err := syscall.Pipe2(e[:], syscall.O_CLOEXEC); err != nil {
			syscall.Close(gate[0])
			return res, err
		}
		// The harness's ends go to the poller; the child's stay blocking.
		_ = syscall.SetNonblock(o[0], true)
		_ = syscall.SetNonblock(e[0], true)
		pid, err := syscall.ForkExec(sh, argv, &syscall.ProcAttr{Env: s.env, Dir: s.dir,
			Files: []uintptr{uintptr(gate[0]), uintptr(o[1]), uintptr(e[1])}})
		syscall.Close(o[1])
		syscall.Close(e[1])
		if err != nil {
			syscall.Close(gate[0])
			// Those already parked exit when the gate closes.
			return res, fmt.Errorf("start credential-process %d: %w", i, err)
		}
		p := &herdProc{pid: pid}
		procs[i] = p
		stdout, stderr := os.NewFile(uintptr(o[0]), "stdout"), os.NewFile(uintptr(e[0]), "stderr")
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ew sync.WaitGroup
			ew.Add(1)
			go func() { defer ew.Done(); p.errb, _ = io.ReadAll(stderr); stderr.Close() }()
			p.out, _ = io.ReadAll(stdout)
			stdout.Close()
			ew.Wait()
			for {
				if _, err := syscall.Wait4(p.pid, &p.status, 0, nil); err != syscall.EINTR {
					break
				}
			}
			p.end = time.Now()
		}()
	}
	syscall.Close(gate[0])
	parked := waitParked(procs, 10*time.Second)
	res.park = time.Since(forkStart)
	if !parked {
		return res, errors.New("the herd's shells did not all reach the gate within 10s")
	}
	open := time.Now()
	if _, err := syscall.Write(gate[1], bytes.Repeat([]byte("\n"), n)); err != nil {
		return res, fmt.Errorf("open the gate: %w", err)
	}
	wg.Wait()
	var last time.Time
	ids := map[string]bool{}
	var each []time.Duration
	for _, p := range procs {
		if p.end.After(last) {
			last = p.end
		}
		each = append(each, p.end.Sub(open))
		out, ok := validOutput(p.out)
		if ok && p.status.ExitStatus() == 0 {
			res.valid++
			ids[out.AccessKeyID] = true
			continue
		}
		line := strings.TrimSpace(sec.redact(string(p.errb)))
		if line == "" {
			line = fmt.Sprintf("exit status %d, no valid JSON and nothing on stderr", p.status.ExitStatus())
		}
		res.failures[line]++
	}
	res.wall = last.Sub(open)
	res.each = summarize(each)
	res.distinctID = len(ids)
	log, _ := os.ReadFile(filepath.Join(s.dir, "state", "credbroker", "daemon.log"))
	res.daemons = strings.Count(string(log), "msg=starting")
	for _, l := range strings.Split(string(log), "\n") {
		if !strings.Contains(l, "msg=refreshed") {
			continue
		}
		// Only the profile and the time taken: nothing else is copied out.
		var keep []string
		for _, f := range strings.Fields(l) {
			if strings.HasPrefix(f, "profile=") || strings.HasPrefix(f, "took=") {
				keep = append(keep, f)
			}
		}
		res.refreshes = append(res.refreshes, strings.Join(keep, " "))
	}
	return res, nil
}

// waitParked waits until every process is a shell asleep (at the gate's
// read), or within has passed.
func waitParked(procs []*herdProc, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for _, p := range procs {
		for {
			if parkedAtGate(p.pid) {
				break
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(time.Millisecond)
		}
	}
	return true
}

func parkedAtGate(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open || end+2 >= len(data) {
		return false
	}
	comm := string(data[open+1 : end])
	return comm == "sh" && data[end+2] == 'S'
}
