//go:build unix

package main

// Script commands for credbroker serve and exec --server: a server started
// in the background whose first lines become the script's environment,
// raw requests to it, SDK clients (Go here, boto3 and the JS SDK in the
// scripts) and a client run as another user.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/internal/asuser"
)

var serveCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"serve-start":      cmdServeStart,
	"serve-stop":       cmdServeStop,
	"serve-stderr":     cmdServeStderr,
	"http-request":     cmdHTTPRequest,
	"imds-get":         cmdIMDSGet,
	"serve-hammer":     cmdServeHammer,
	"go-sdk-as-nobody": cmdGoSDKAsNobody,
	"js-sdk-setup":     cmdJSSDKSetup,
}

// goSDKCreds is an AWS SDK for Go v2 program with no profile: its default
// credential chain finds the container endpoint or IMDS from the
// environment. It prints where its credentials came from, their key id
// (never the secret) and the identity STS sees.
func goSDKCreds() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load config:", err)
		os.Exit(1)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "credentials:", err)
		os.Exit(1)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "GetCallerIdentity:", err)
		os.Exit(1)
	}
	fmt.Printf("source=%s key=%s\n%s\n", creds.Source, creds.AccessKeyID, *out.Arn)
}

// runningServer is a credbroker serve started by serve-start.
type runningServer struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	env    []string
	exited chan error
}

type lockedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed and replaced on each write
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.buf.Write(p)
}

// waitMatch returns the buffer once re matches it, or what it holds when
// the deadline passes. The server writes to a pipe that os/exec copies
// into the buffer on its own goroutine, so a line the server wrote before
// the client saw its answer may land here a moment later.
func (b *lockedBuffer) waitMatch(re *regexp.Regexp, deadline time.Duration) (string, bool) {
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		b.mu.Lock()
		s := b.buf.String()
		if re.MatchString(s) {
			b.mu.Unlock()
			return s, true
		}
		if b.written == nil {
			b.written = make(chan struct{})
		}
		ch := b.written
		b.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return s, false
		}
	}
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	serversMu sync.Mutex
	servers   = map[*testscript.TestScript]map[string]*runningServer{}
)

func serverOf(ts *testscript.TestScript, name string) *runningServer {
	serversMu.Lock()
	defer serversMu.Unlock()
	s := servers[ts][name]
	if s == nil {
		ts.Fatalf("no server %s: serve-start it first", name)
	}
	return s
}

// serve-start NAME ecs|imds PROFILE [FLAGS...]: start `credbroker serve
// KIND --profile PROFILE` (on 127.0.0.1:0 unless FLAGS has --listen) in
// the background, wait for the environment it prints first and set it in
// the script. The server is stopped when the script ends.
func cmdServeStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: serve-start NAME ecs|imds PROFILE [FLAGS...]")
	}
	name, kind, profile := args[0], args[1], args[2]
	argv := []string{"serve", kind, "--profile", profile}
	if !slices.Contains(args[3:], "--listen") {
		argv = append(argv, "--listen", "127.0.0.1:0")
	}
	argv = append(argv, args[3:]...)
	cmd := exec.Command(lookPath(ts, "credbroker"), argv...)
	cmd.Env = scriptEnv(ts)
	cmd.Dir = ts.Getenv("WORK")
	stdout, err := cmd.StdoutPipe()
	ts.Check(err)
	s := &runningServer{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	ts.Check(cmd.Start())
	ts.Defer(func() { stopServer(s) })
	want := map[string]int{"ecs": 2, "imds": 2}[kind]
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		s.exited <- cmd.Wait()
	}()
	timeout := time.After(time.Minute)
	for len(s.env) < want {
		select {
		case line, ok := <-lines:
			if !ok {
				ts.Fatalf("credbroker serve %s ended before printing its environment:\n%s", kind, s.stderr)
			}
			k, _, found := strings.Cut(line, "=")
			if !found || !strings.HasPrefix(k, "AWS_") {
				ts.Fatalf("credbroker serve printed %q where an environment line belongs", line)
			}
			s.env = append(s.env, line)
		case <-timeout:
			ts.Fatalf("credbroker serve %s printed no environment within a minute:\n%s", kind, s.stderr)
		}
	}
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
	serversMu.Lock()
	if servers[ts] == nil {
		servers[ts] = map[string]*runningServer{}
	}
	servers[ts][name] = s
	serversMu.Unlock()
	ts.Logf("serve-start %s: %s", name, strings.Join(redactEnv(s.env), " "))
}

// redactEnv hides the authorization token from the test log.
func redactEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == "AWS_CONTAINER_AUTHORIZATION_TOKEN" {
			kv = fmt.Sprintf("%s=<%d characters>", k, len(v))
		}
		out = append(out, kv)
	}
	return out
}

// stopServer sends SIGTERM and waits for the server to end (SIGKILL after
// ten seconds); it returns how it ended.
func stopServer(s *runningServer) error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err
		return err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		err := <-s.exited
		s.exited <- err
		return fmt.Errorf("did not stop on SIGTERM within 10s: %v", err)
	}
}

// serve-stop NAME: the server stops on SIGTERM with status 0.
func cmdServeStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve-stop NAME")
	}
	s := serverOf(ts, args[0])
	if err := stopServer(s); err != nil {
		ts.Fatalf("server %s: %v\n%s", args[0], err, s.stderr)
	}
	fmt.Fprint(ts.Stderr(), s.stderr.String())
}

// serve-stderr NAME [REGEXP]: the server's stderr so far becomes the
// last command's stderr, for the stderr check that follows. With REGEXP
// it first waits (up to 30 s) until the stderr matches it.
func cmdServeStderr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: serve-stderr NAME [REGEXP]")
	}
	b := serverOf(ts, args[0]).stderr
	out := b.String()
	if len(args) == 2 {
		var ok bool
		out, ok = b.waitMatch(regexp.MustCompile(args[1]), 30*time.Second)
		if !ok {
			ts.Fatalf("server %s wrote nothing matching %q in 30 s; its stderr:\n%s", args[0], args[1], out)
		}
	}
	fmt.Fprint(ts.Stderr(), out)
}

// http-request METHOD URL [Header:Value...]: one request; prints
// "status=N" and the body, with every value of a JSON body that is a
// secret (SecretAccessKey, Token) replaced by its length. Negated: the
// request gets no answer at all (nobody listens).
func cmdHTTPRequest(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: http-request METHOD URL [Header:Value...]")
	}
	req, err := http.NewRequest(args[0], args[1], nil)
	ts.Check(err)
	for _, h := range args[2:] {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, v)
	}
	printResponse(ts, neg, req)
}

// imds-get PATH: a session token from the IMDS endpoint, then GET PATH
// with it; printed as http-request prints.
func cmdIMDSGet(ts *testscript.TestScript, neg bool, args []string) {
	base := ts.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
	if neg || len(args) != 1 || base == "" {
		ts.Fatalf("usage: imds-get PATH (after serve-start NAME imds)")
	}
	put, err := http.NewRequest("PUT", base+"latest/api/token", nil)
	ts.Check(err)
	put.Header.Set(imdsTokenTTLHeader, "60")
	resp, err := http.DefaultClient.Do(put)
	ts.Check(err)
	token, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	ts.Check(err)
	if resp.StatusCode != 200 {
		ts.Fatalf("PUT latest/api/token: status %d", resp.StatusCode)
	}
	req, err := http.NewRequest("GET", base+args[0], nil)
	ts.Check(err)
	req.Header.Set(imdsTokenHeader, string(token))
	printResponse(ts, false, req)
}

func printResponse(ts *testscript.TestScript, neg bool, req *http.Request) {
	resp, err := http.DefaultClient.Do(req)
	if neg {
		if err == nil {
			resp.Body.Close()
			ts.Fatalf("%s %s got an answer (status %d), want none", req.Method, req.URL, resp.StatusCode)
		}
		return
	}
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "status=%d\n%s\n", resp.StatusCode, redactBody(body))
}

// redactBody shows a JSON object with its secret values replaced by their
// length; any other body as it is.
func redactBody(body []byte) string {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return string(body)
	}
	for _, k := range []string{"SecretAccessKey", "Token"} {
		if v, ok := doc[k].(string); ok {
			doc[k] = fmt.Sprintf("<%d characters>", len(v))
		}
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc)
	return strings.TrimSpace(out.String())
}

// serve-hammer NAME N: N requests for credentials to the server, eight at
// a time; all must get the same key.
func cmdServeHammer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: serve-hammer NAME N")
	}
	s := serverOf(ts, args[0])
	var n int
	_, err := fmt.Sscan(args[1], &n)
	ts.Check(err)
	env := map[string]string{}
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	get := func() (string, error) { return ecsKeyID(env) }
	if base := env["AWS_EC2_METADATA_SERVICE_ENDPOINT"]; base != "" {
		get = func() (string, error) { return imdsKeyID(base) }
	}
	keys := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			keys[i], errs[i] = get()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			ts.Fatalf("request %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			ts.Fatalf("request %d got key %s, request 0 %s", i, keys[i], keys[0])
		}
	}
	ts.Logf("serve-hammer: %d requests got key %s", n, keys[0])
}

func ecsKeyID(env map[string]string) (string, error) {
	req, err := http.NewRequest("GET", env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", env["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
	return keyIDOf(req, "AccessKeyId")
}

func imdsKeyID(base string) (string, error) {
	req, err := http.NewRequest("PUT", base+"latest/api/token", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(imdsTokenTTLHeader, "60")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	token, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("token: status %d", resp.StatusCode)
	}
	role, err := http.NewRequest("GET", base+"latest/meta-data/iam/security-credentials/", nil)
	if err != nil {
		return "", err
	}
	role.Header.Set(imdsTokenHeader, string(token))
	resp, err = http.DefaultClient.Do(role)
	if err != nil {
		return "", err
	}
	name, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, err = http.NewRequest("GET", base+"latest/meta-data/iam/security-credentials/"+string(name), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(imdsTokenHeader, string(token))
	return keyIDOf(req, "AccessKeyId")
}

func keyIDOf(req *http.Request, field string) (string, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d, %v", resp.StatusCode, err)
	}
	id, _ := doc[field].(string)
	if id == "" {
		return "", fmt.Errorf("no %s in the answer", field)
	}
	return id, nil
}

// go-sdk-as-nobody: run go-sdk-creds as user nobody (uid 65534) with the
// script's endpoint variables, as another local user's program would.
func cmdGoSDKAsNobody(ts *testscript.TestScript, neg bool, args []string) {
	bin := filepath.Join(neighbourBin(ts, "go-sdk-creds"), "go-sdk-creds")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := asuser.Command(ctx, asuser.Nobody, bin)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	for _, k := range []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
		"AWS_EC2_METADATA_DISABLED", "AWS_REGION", "AWS_ENDPOINT_URL_STS"} {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	if err := cmd.Run(); (err != nil) != neg {
		ts.Fatalf("go-sdk-creds as nobody: %v", err)
	}
}

// jsClientOnce installs the JS SDK of testdata/jsclient once per test
// binary (node_modules is ignored by git).
var jsClientOnce = sync.OnceValues(func() (string, error) {
	dir, err := filepath.Abs(filepath.Join("testdata", "jsclient"))
	if err != nil {
		return "", err
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s not found: install the Debian packages nodejs and npm", tool)
		}
	}
	install := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return dir, nil
})

// js-sdk-setup: the JS SDK v3 client is installed; $JSCLIENT is its folder.
func cmdJSSDKSetup(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: js-sdk-setup")
	}
	dir, err := jsClientOnce()
	if err != nil {
		ts.Fatalf("js-sdk-setup: %v", err)
	}
	ts.Setenv("JSCLIENT", dir)
}
