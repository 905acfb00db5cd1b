//go:build linux

package main

// Target 1: a new credential-process to JSON on stdout, against the floor.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processOutput is credential_process JSON (Version 1).
type processOutput struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

// validOutput says whether out is credential_process JSON with credentials
// that have not expired.
func validOutput(out []byte) (processOutput, bool) {
	var p processOutput
	if err := json.Unmarshal(out, &p); err != nil {
		return p, false
	}
	exp, err := time.Parse(time.RFC3339, p.Expiration)
	return p, err == nil && p.Version == 1 && p.AccessKeyID != "" && p.SecretAccessKey != "" &&
		p.SessionToken != "" && exp.After(time.Now())
}

// spawned is one run of a program: fork/exec to its exit, its stdout
// read to EOF from a pipe.
type spawned struct {
	wall   time.Duration
	status syscall.WaitStatus
	ru     syscall.Rusage
	out    []byte // a slice of the caller's buffer
}

// spawn runs path with argv and env, stdin and stderr on /dev/null, and
// times it from just before fork to wait4's return. Everything the
// harness does is the same for every program, so its own cost is the
// same for the floor and for credbroker.
func spawn(path string, argv, env []string, devnull uintptr, buf []byte) (spawned, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return spawned{}, err
	}
	attr := &syscall.ProcAttr{Env: env, Files: []uintptr{devnull, uintptr(p[1]), devnull}}
	start := time.Now()
	pid, err := syscall.ForkExec(path, argv, attr)
	syscall.Close(p[1])
	if err != nil {
		syscall.Close(p[0])
		return spawned{}, err
	}
	n := 0
	for {
		if n == len(buf) {
			break // the caller's buffer is far larger than any answer
		}
		m, err := syscall.Read(p[0], buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if m <= 0 {
			break
		}
		n += m
	}
	var s spawned
	for {
		_, err = syscall.Wait4(pid, &s.status, 0, &s.ru)
		if err != syscall.EINTR {
			break
		}
	}
	s.wall = time.Since(start)
	syscall.Close(p[0])
	s.out = buf[:n]
	return s, err
}

// series is one program measured in the interleaved runs.
type series struct {
	name  string
	path  string
	argv  []string
	env   []string
	check func(spawned) bool

	wall     []time.Duration
	cpu      []time.Duration
	minflt   []int64
	failures int
	outLen   int
}

func (s *series) record(r spawned) {
	s.wall = append(s.wall, r.wall)
	s.cpu = append(s.cpu, time.Duration(r.ru.Utime.Nano()+r.ru.Stime.Nano()))
	s.minflt = append(s.minflt, r.ru.Minflt)
	s.outLen = len(r.out)
}

// measureColdstart interleaves the series: warmup rounds, then runs
// rounds, each round one run of every series in a rotating order so
// that no series always follows the same one.
func measureColdstart(ser []*series, warmup, runs int) error {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	buf := make([]byte, 64<<10)
	// The harness itself should not collect garbage in the middle of a
	// run; what it allocates here is tiny.
	runtime.GC()
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	for round := range warmup + runs {
		for k := range ser {
			s := ser[(round+k)%len(ser)]
			r, err := spawn(s.path, s.argv, s.env, devnull.Fd(), buf)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			ok := s.check(r)
			if round < warmup {
				if !ok {
					return fmt.Errorf("%s failed during warm-up (exit status %d)", s.name, r.status.ExitStatus())
				}
				continue
			}
			if !ok {
				s.failures++
				continue
			}
			s.record(r)
		}
		if round%64 == 63 {
			runtime.GC()
		}
	}
	return nil
}

// initLine is one package's init as GODEBUG=inittrace=1 reports it.
type initLine struct {
	pkg   string
	clock time.Duration
	bytes int64
}

// initTrace runs a program n times with GODEBUG=inittrace=1 and returns
// the mean init time per package, largest first, and the mean total.
func initTrace(path string, argv, env []string, n int) ([]initLine, time.Duration, error) {
	sum := map[string]*initLine{}
	for range n {
		cmd := exec.Command(path, argv[1:]...)
		cmd.Env = append(slices.Clone(env), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		// stdout holds credentials: read and dropped, never shown.
		if _, err := cmd.Output(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				return nil, 0, err
			}
		}
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			// init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
			f := strings.Fields(sc.Text())
			if len(f) < 8 || f[0] != "init" {
				continue
			}
			clock, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				continue
			}
			b, _ := strconv.ParseInt(f[7], 10, 64)
			l := sum[f[1]]
			if l == nil {
				l = &initLine{pkg: f[1]}
				sum[f[1]] = l
			}
			l.clock += time.Duration(clock * float64(time.Millisecond))
			l.bytes += b
		}
	}
	var out []initLine
	var total time.Duration
	for _, l := range sum {
		l.clock /= time.Duration(n)
		l.bytes /= int64(n)
		total += l.clock
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b initLine) int { return int(b.clock - a.clock) })
	return out, total, nil
}

func medianInt(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// freshRequests times n requests for profile, each on a new connection
// (dial, GET with Connection: close, read to EOF), as a credential-process
// makes its one request, but without starting a process.
func freshRequests(socket, profile string, n int) (summary, error) {
	req := []byte("GET /v1/credentials?profile=" + profile + " HTTP/1.1\r\nHost: credbroker\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 64<<10)
	var ds []time.Duration
	for i := range n + n/10 {
		start := time.Now()
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return summary{}, err
		}
		if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: socket}); err != nil {
			syscall.Close(fd)
			return summary{}, err
		}
		if _, err := syscall.Write(fd, req); err != nil {
			syscall.Close(fd)
			return summary{}, err
		}
		total := 0
		for total < len(buf) {
			m, err := syscall.Read(fd, buf[total:])
			if err == syscall.EINTR {
				continue
			}
			if m <= 0 {
				break
			}
			total += m
		}
		syscall.Close(fd)
		d := time.Since(start)
		if !bytes.HasPrefix(buf[:total], []byte("HTTP/1.1 200 ")) {
			return summary{}, fmt.Errorf("GET /v1/credentials on a fresh connection: not a 200 answer")
		}
		if i >= n/10 { // the first tenth warms up
			ds = append(ds, d)
		}
	}
	return summarize(ds), nil
}
