//go:build linux

package main

// The bench's peers come from internal/stspeer (moto_server, IAM users,
// a counting proxy); here: credbroker runs with an environment that keeps
// everything in the bench's temporary folder.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// secrets holds every secret the bench made or saw, so that any text it
// shows (a failing command's stderr, a log line) is redacted first.
type secrets struct {
	mu   sync.Mutex
	list []string
	// issued lists what STS handed out (the proxy records it).
	issued func() []string
}

func (s *secrets) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range v {
		if len(x) >= 6 {
			s.list = append(s.list, x)
		}
	}
}

func (s *secrets) redact(text string) string {
	s.mu.Lock()
	list := append([]string(nil), s.list...)
	issued := s.issued
	s.mu.Unlock()
	if issued != nil {
		list = append(list, issued()...)
	}
	for _, x := range list {
		text = strings.ReplaceAll(text, x, "[redacted]")
	}
	return text
}

func formatCounts(c map[string]int) string {
	if len(c) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(c) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
	}
	return strings.Join(parts, ", ")
}

// site is one credbroker installation: config, file keyring, state
// folder, socket, all under dir.
type site struct {
	dir    string
	socket string
	env    []string
}

func newSite(dir, stsURL, passphrase string) (*site, error) {
	for _, d := range []string{"home", "state", "keyring", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	s := &site{dir: dir, socket: filepath.Join(dir, "run", "s.sock")}
	if len(s.socket) >= 100 {
		return nil, fmt.Errorf("socket path %s is %d bytes: too long for a Unix socket", s.socket, len(s.socket))
	}
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "home", ".config"),
		"CREDBROKER_CONFIG=" + filepath.Join(dir, "credbroker.conf"),
		"CREDBROKER_KEYRING=file",
		"CREDBROKER_FILE_DIR=" + filepath.Join(dir, "keyring"),
		"CREDBROKER_FILE_PASSPHRASE=" + passphrase,
		"CREDBROKER_SOCKET=" + s.socket,
		"AWS_ENDPOINT_URL_STS=" + stsURL,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	return s, nil
}

// setEnv sets (or, with "", removes) a variable of the site's
// environment.
func (s *site) setEnv(k, v string) {
	env := s.env[:0]
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, k+"=") {
			env = append(env, kv)
		}
	}
	if v != "" {
		env = append(env, k+"="+v)
	}
	s.env = env
}

func (s *site) writeConfig(text string) error {
	return os.WriteFile(filepath.Join(s.dir, "credbroker.conf"), []byte(text), 0o600)
}

// run runs credbroker with stdin and returns its stdout; a failure says
// what credbroker printed on stderr, redacted.
func (s *site) run(bin string, sec *secrets, stdin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = s.env
	cmd.Dir = s.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("credbroker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(sec.redact(errb.String())))
	}
	return out.String(), nil
}

// daemonClient speaks HTTP to a daemon over its Unix socket, with
// keep-alive connections (at most conns of them).
func daemonClient(socket string, conns int) *http.Client {
	var d net.Dialer
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", socket)
			},
			DisableCompression:  true,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     time.Minute,
		},
		Timeout: 30 * time.Second,
	}
}

// daemonStatus is the part of GET /v1/status the bench reads (never a
// secret).
type daemonStatus struct {
	PID          int    `json:"pid"`
	Requests     uint64 `json:"requests"`
	AuditDropped uint64 `json:"audit_dropped"`
}

func getStatus(c *http.Client) (daemonStatus, error) {
	var st daemonStatus
	resp, err := c.Get("http://credbroker/v1/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /v1/status: HTTP %d", resp.StatusCode)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// waitHealthy waits until a daemon answers GET /v1/health on socket.
func waitHealthy(socket string, within time.Duration) error {
	c := daemonClient(socket, 1)
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(within)
	for {
		resp, err := c.Get("http://credbroker/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no daemon answers on %s after %s", socket, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopPID sends SIGTERM to pid and waits up to five seconds for it to go
// (or become a zombie someone else will reap), then sends SIGKILL.
func stopPID(pid int) {
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 100 {
		if !alive(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) {
		return data[i+2] != 'Z'
	}
	return true
}

// procStatus reads the given fields (in kB, or plain counts) of
// /proc/PID/status.
func procStatus(pid int, fields ...string) (map[string]int64, error) {
	return procStatusFile("/proc/"+strconv.Itoa(pid)+"/status", fields...)
}

// procCPU is the user+system CPU time pid has used, all threads.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("cannot parse /proc/PID/stat")
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15), in clock
	// ticks of 1/100 s (USER_HZ is 100 on every Linux ABI Go supports).
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
