//go:build unix

// Package stspeer gives tests and benchmarks a real STS peer nobody here
// wrote: moto_server on a loopback port, IAM users made through its Query
// API, and a reverse proxy in front of it that counts STS calls by action,
// records every secret STS hands out (so that leak scans can look for
// them), and can play an STS in trouble.
//
// It is test support: nothing in credbroker itself imports it.
package stspeer

import (
	"bytes"
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
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Moto is a moto_server process on a loopback port.
type Moto struct {
	URL string
	cmd *exec.Cmd
	log io.Writer
}

// StartMoto starts moto_server, its output to log (nil: discarded);
// extraEnv configures it (INITIAL_NO_AUTH_ACTION_COUNT=N makes it check
// keys and signatures after N actions).
func StartMoto(log io.Writer, extraEnv ...string) (*Moto, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found: install it with pip install 'moto[server]'")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if log == nil {
		log = io.Discard
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), log: log}
	m.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	m.cmd.Env = append(os.Environ(), extraEnv...)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	// Its own process group: Stop kills moto and any worker it forked.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.Stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 60s", m.URL)
}

// Stop kills moto_server.
func (m *Moto) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}

// IAMCall makes an unsigned IAM Query API call against moto at base and
// returns its answer. moto routes on the credential scope of the
// Authorization header and, with authentication off (or within its first
// INITIAL_NO_AUTH_ACTION_COUNT actions), does not check the signature.
func IAMCall(base string, form url.Values) ([]byte, error) {
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
		return nil, fmt.Errorf("IAM %s: HTTP %d: %s", form.Get("Action"), resp.StatusCode, body)
	}
	return body, nil
}

// AccessKey is what CreateAccessKey returns.
type AccessKey struct {
	ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
	Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
}

// CreateIAMUser creates an IAM user and an access key for it in the moto
// at base.
func CreateIAMUser(base, name string) (AccessKey, error) {
	if _, err := IAMCall(base, url.Values{"Action": {"CreateUser"}, "UserName": {name}}); err != nil {
		return AccessKey{}, err
	}
	body, err := IAMCall(base, url.Values{"Action": {"CreateAccessKey"}, "UserName": {name}})
	if err != nil {
		return AccessKey{}, err
	}
	var k AccessKey
	if err := xml.Unmarshal(body, &k); err != nil || k.ID == "" || k.Secret == "" {
		return AccessKey{}, fmt.Errorf("CreateAccessKey answer for %s not understood", name)
	}
	return k, nil
}

// Proxy is a reverse proxy in front of an STS.
type Proxy struct {
	URL string
	srv *http.Server

	mu      sync.Mutex
	target  *url.URL
	counts  map[string]int
	last    map[string]url.Values // action -> its last request's form
	secrets map[string]bool
	mode    Mode
}

// Mode is how the proxy behaves; the zero Mode forwards everything.
type Mode struct {
	// RootIdentity answers GetCallerIdentity as an account's root user
	// would, and forwards the rest.
	RootIdentity bool
	// Fault, when set, is what STS answers instead of forwarding: "503"
	// (ServiceUnavailable) or "throttle" (HTTP 400 Throttling); "silent"
	// takes the request and never answers (until the caller gives up).
	Fault string
	// DateOffset moves the Date header of every answer: a peer whose
	// clock is that far from this machine's.
	DateOffset time.Duration
	// Lifetime, when set, rewrites the Expiration of issued credentials
	// to now+Lifetime, so that expiry can be watched in seconds.
	Lifetime time.Duration
	// Delay holds every STS answer back, so that work is in flight.
	Delay time.Duration
}

var (
	secretInAnswer     = regexp.MustCompile(`<(SecretAccessKey|SessionToken)>([^<]+)</`)
	expirationInAnswer = regexp.MustCompile(`<Expiration>[^<]+</Expiration>`)
)

// StartProxy serves a proxy to target on a loopback port.
func StartProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: u, counts: map[string]int{}, last: map[string]url.Values{}, secrets: map[string]bool{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p.mu.Lock()
			t := p.target
			p.mu.Unlock()
			r.SetURL(t)
			// Keep the Host the client signed (SigV4 signs it).
			r.Out.Host = r.In.Host
		},
		ModifyResponse: p.inspect,
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the request", http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		p.mu.Lock()
		p.counts[action]++
		p.last[action] = form
		mode := p.mode
		p.mu.Unlock()
		switch {
		case mode.Fault == "silent":
			<-r.Context().Done()
			return
		case mode.Fault != "":
			mode.setDate(w.Header())
			fault(w, mode.Fault)
			return
		case mode.RootIdentity && action == "GetCallerIdentity":
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:iam::123456789012:root</Arn><UserId>123456789012</UserId><Account>123456789012</Account>`+
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
			return
		}
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

// setDate gives an answer the Date header of a peer whose clock is
// DateOffset from this machine's (when it is not 0).
func (m Mode) setDate(h http.Header) {
	if m.DateOffset != 0 {
		h.Set("Date", time.Now().Add(m.DateOffset).UTC().Format(http.TimeFormat))
	}
}

// inspect records the secrets in an STS answer, and applies Lifetime and
// Delay.
func (p *Proxy) inspect(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	p.mu.Lock()
	for _, m := range secretInAnswer.FindAllSubmatch(body, -1) {
		p.secrets[string(m[2])] = true
	}
	mode := p.mode
	p.mu.Unlock()
	if mode.Lifetime > 0 {
		exp := time.Now().Add(mode.Lifetime).UTC().Format(time.RFC3339)
		body = expirationInAnswer.ReplaceAll(body, []byte("<Expiration>"+exp+"</Expiration>"))
		resp.Header.Del("Content-Length")
		resp.ContentLength = int64(len(body))
	}
	mode.setDate(resp.Header)
	time.Sleep(mode.Delay)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// fault answers like STS does when it is in trouble.
func fault(w http.ResponseWriter, kind string) {
	status, code, msg := http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable"
	if kind == "throttle" {
		status, code, msg = http.StatusBadRequest, "Throttling", "Rate exceeded"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ErrorResponse>`, code, msg)
}

// Close stops the proxy.
func (p *Proxy) Close() { _ = p.srv.Close() }

// Target is the STS the proxy forwards to.
func (p *Proxy) Target() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target.String()
}

// SetTarget forwards to another STS from now on.
func (p *Proxy) SetTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = u
	return nil
}

// SetMode changes how the proxy behaves; change edits the current mode.
func (p *Proxy) SetMode(change func(*Mode)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	change(&p.mode)
}

// Param is the value of key in the last request for action since the last
// Reset ("" for none).
func (p *Proxy) Param(action, key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[action].Get(key)
}

// Count is how many calls of action reached the proxy since the last Reset.
func (p *Proxy) Count(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[action]
}

// Take returns the counts by action and starts counting over: the
// counts, and the last request of each action Param reads.
func (p *Proxy) Take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	p.counts = map[string]int{}
	p.last = map[string]url.Values{}
	return c
}

// Reset starts counting over (see Take).
func (p *Proxy) Reset() { p.Take() }

// Issued lists every secret key and session token STS handed out through
// the proxy.
func (p *Proxy) Issued() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.secrets))
	for s := range p.secrets {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Available says whether moto_server can be started here, and if not, what
// is missing.
func Available() (bool, string) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return false, "moto_server is not installed (it comes with the machine image: pip install 'moto[server]')"
	}
	return true, ""
}
