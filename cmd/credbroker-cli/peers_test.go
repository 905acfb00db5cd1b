//go:build unix

package main

// Real peers for the CLI scenarios: moto_server (an STS and IAM nobody here
// wrote) on a loopback port, behind a counting reverse proxy that sees every
// STS call, records every secret STS hands out (for the leak scans) and can
// play a misbehaving STS.

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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// motoServer is a moto_server process on a loopback port.
type motoServer struct {
	URL string
	cmd *exec.Cmd
	log bytes.Buffer
}

// startMoto starts moto_server; extraEnv configures it (for example
// INITIAL_NO_AUTH_ACTION_COUNT to make it check keys and signatures).
func startMoto(extraEnv ...string) (*motoServer, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found: install it with pip install 'moto[server]'")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &motoServer{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	m.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	m.cmd.Env = append(os.Environ(), extraEnv...)
	m.cmd.Stdout, m.cmd.Stderr = &m.log, &m.log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.Stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 30s: %s", m.URL, m.log.String())
}

func (m *motoServer) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	sharedMotoOnce sync.Once
	sharedMoto     *motoServer
	sharedMotoErr  error
)

// theMoto is one moto_server shared by the scripts of a test run; each
// script creates its own IAM users, so they don't interfere.
func theMoto() (*motoServer, error) {
	sharedMotoOnce.Do(func() { sharedMoto, sharedMotoErr = startMoto() })
	return sharedMoto, sharedMotoErr
}

// iamCall makes an IAM Query API call against moto. moto routes on the
// credential scope of the Authorization header and, with authentication
// off (or within its first INITIAL_NO_AUTH_ACTION_COUNT actions), does not
// check the signature.
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
		return nil, fmt.Errorf("IAM %s: HTTP %d: %s", form.Get("Action"), resp.StatusCode, body)
	}
	return body, nil
}

// iamAccessKey is what CreateAccessKey returns.
type iamAccessKey struct {
	AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
	SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
}

// createIAMUser creates an IAM user and an access key for it in moto.
func createIAMUser(base, name string) (iamAccessKey, error) {
	if _, err := iamCall(base, url.Values{"Action": {"CreateUser"}, "UserName": {name}}); err != nil {
		return iamAccessKey{}, err
	}
	body, err := iamCall(base, url.Values{"Action": {"CreateAccessKey"}, "UserName": {name}})
	if err != nil {
		return iamAccessKey{}, err
	}
	var k iamAccessKey
	if err := xml.Unmarshal(body, &k); err != nil || k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return iamAccessKey{}, fmt.Errorf("CreateAccessKey answer not understood: %v", err)
	}
	return k, nil
}

// stsProxy is a reverse proxy in front of an STS. It counts calls by
// action, records the secrets in STS answers, and can misbehave.
type stsProxy struct {
	srv *http.Server
	URL string

	mu      sync.Mutex
	target  *url.URL
	counts  map[string]int
	secrets map[string]bool
	// mode: "" forwards; "root" answers GetCallerIdentity with a root
	// user's ARN and forwards the rest.
	mode string
	// fault, when set, is what STS answers instead of forwarding:
	// "503" (ServiceUnavailable) or "throttle" (HTTP 400 Throttling).
	fault string
	// lifetime, when set, rewrites the Expiration of issued credentials
	// to now+lifetime, so that expiry can be watched in seconds.
	lifetime time.Duration
	// delay holds every STS answer back, so that work is in flight.
	delay time.Duration
}

var expirationInAnswer = regexp.MustCompile(`<Expiration>[^<]+</Expiration>`)

// stsFault answers like STS does when it is in trouble.
func stsFault(w http.ResponseWriter, fault string) {
	status, code, msg := http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable"
	if fault == "throttle" {
		status, code, msg = http.StatusBadRequest, "Throttling", "Rate exceeded"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ErrorResponse>`, code, msg)
}

var secretInAnswer = regexp.MustCompile(`<(SecretAccessKey|SessionToken)>([^<]+)</`)

func startProxy(target string) (*stsProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &stsProxy{target: u, counts: map[string]int{}, secrets: map[string]bool{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p.mu.Lock()
			t := p.target
			p.mu.Unlock()
			r.SetURL(t)
			// Keep the Host the client signed (SigV4 signs it).
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			p.mu.Lock()
			for _, m := range secretInAnswer.FindAllSubmatch(body, -1) {
				p.secrets[string(m[2])] = true
			}
			lifetime, delay := p.lifetime, p.delay
			p.mu.Unlock()
			if lifetime > 0 {
				exp := time.Now().Add(lifetime).UTC().Format(time.RFC3339)
				body = expirationInAnswer.ReplaceAll(body, []byte("<Expiration>"+exp+"</Expiration>"))
				resp.Header.Del("Content-Length")
				resp.ContentLength = int64(len(body))
			}
			time.Sleep(delay)
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return nil
		},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		p.mu.Lock()
		p.counts[action]++
		mode, fault := p.mode, p.fault
		p.mu.Unlock()
		if fault != "" {
			stsFault(w, fault)
			return
		}
		if mode == "root" && action == "GetCallerIdentity" {
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

func (p *stsProxy) Close() { _ = p.srv.Close() }

func (p *stsProxy) count(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[action]
}

func (p *stsProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[string]int{}
}

func (p *stsProxy) setTarget(target string, mode string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target, p.mode = u, mode
	return nil
}

func (p *stsProxy) issued() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.secrets))
	for s := range p.secrets {
		out = append(out, s)
	}
	return out
}

// TestProxyCountsAndRecords checks the test harness itself against moto, so
// a broken proxy cannot make the scenarios pass.
func TestProxyCountsAndRecords(t *testing.T) {
	moto, err := theMoto()
	if err != nil {
		t.Fatal(err)
	}
	p, err := startProxy(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	key, err := createIAMUser(moto.URL, "proxy-check")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader("Action=GetSessionToken&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key.AccessKeyID+"/20261127/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || p.count("GetSessionToken") != 1 {
		t.Fatalf("status %d, count %d: %.200s", resp.StatusCode, p.count("GetSessionToken"), body)
	}
	issued := p.issued()
	if len(issued) != 2 {
		t.Fatalf("recorded %d secrets, want the secret key and the session token", len(issued))
	}
	for _, s := range issued {
		if !bytes.Contains(body, []byte(s)) {
			t.Errorf("recorded a value that is not in the answer")
		}
	}
}
