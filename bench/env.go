//go:build linux

package main

// The bench's peers: moto_server on a loopback port, a counting reverse
// proxy in front of it (the idea of cmd/credbroker/peers_test.go), IAM
// users made through moto's Query API, and credbroker runs with an
// environment that keeps everything in the bench's temporary folder.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	defer s.mu.Unlock()
	for _, x := range s.list {
		text = strings.ReplaceAll(text, x, "[redacted]")
	}
	return text
}

// motoServer is a moto_server process on a loopback port.
type motoServer struct {
	URL string
	cmd *exec.Cmd
	log *os.File
}

func startMoto(logPath string) (*motoServer, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found on PATH: install it with pip install 'moto[server]'")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	m := &motoServer{URL: fmt.Sprintf("http://127.0.0.1:%d", port), log: log}
	m.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	m.cmd.Stdout, m.cmd.Stderr = log, log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.Stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 60s (see %s)", m.URL, logPath)
}

// Stop kills moto_server's process group (moto may fork workers).
func (m *motoServer) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
	m.log.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// iamCall makes an IAM Query API call against moto, which routes on the
// credential scope of the Authorization header and, with authentication
// off, does not check the signature.
func iamCall(base string, form url.Values) ([]byte, error) {
	form.Set("Version", "2010-05-08")
	req, err := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261127/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("IAM %s: HTTP %d", form.Get("Action"), resp.StatusCode)
	}
	return body, nil
}

// accessKey is what CreateAccessKey returns.
type accessKey struct {
	ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
	Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
}

// createIAMUser creates an IAM user with an access key in moto.
func createIAMUser(base, name string) (accessKey, error) {
	if _, err := iamCall(base, url.Values{"Action": {"CreateUser"}, "UserName": {name}}); err != nil {
		return accessKey{}, err
	}
	body, err := iamCall(base, url.Values{"Action": {"CreateAccessKey"}, "UserName": {name}})
	if err != nil {
		return accessKey{}, err
	}
	var k accessKey
	if err := xml.Unmarshal(body, &k); err != nil || k.ID == "" || k.Secret == "" {
		return accessKey{}, fmt.Errorf("CreateAccessKey answer for %s not understood", name)
	}
	return k, nil
}

// stsProxy is a reverse proxy in front of moto that counts STS calls by
// action and remembers every secret in the answers (for redaction).
type stsProxy struct {
	srv *http.Server
	URL string

	mu     sync.Mutex
	counts map[string]int
}

var secretInAnswer = regexp.MustCompile(`<(SecretAccessKey|SessionToken)>([^<]+)</`)

func startProxy(target string, sec *secrets) (*stsProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &stsProxy{counts: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// Keep the Host the client signed (SigV4 signs it).
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			for _, m := range secretInAnswer.FindAllSubmatch(body, -1) {
				sec.add(string(m[2]))
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return nil
		},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the request", http.StatusBadRequest)
			return
		}
		action := r.Header.Get("X-Amz-Target")
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			action = form.Get("Action")
		}
		if action == "" {
			action = "(unknown)"
		}
		p.mu.Lock()
		p.counts[action]++
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	p.URL = "http://" + l.Addr().String()
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

func (p *stsProxy) Close() { _ = p.srv.Close() }

// take returns the counts since the last take and starts over.
func (p *stsProxy) take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	p.counts = map[string]int{}
	return c
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
