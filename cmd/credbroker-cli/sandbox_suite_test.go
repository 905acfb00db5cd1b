//go:build unix

package main

// The suites that need no moto_server: the sandbox scenarios
// (testdata/sandbox), where the STS peer is `credbroker sandbox serve`,
// which checks what moto cannot (MFA codes and their reuse, expiry, clock
// skew, trust policies and ExternalId), and the offline ones
// (testdata/offline), which call no STS at all. `make test` runs them on
// any machine; TestScripts keeps the moto interop scenarios.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/pquerna/otp/totp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/internal/stspeer"
	"github.com/credbroker/credbroker/sandbox"
)

func TestSandboxScripts(t *testing.T) { runHermeticScripts(t, "testdata/sandbox") }

func TestOfflineScripts(t *testing.T) { runHermeticScripts(t, "testdata/offline") }

// noSTS is where the STS proxy points until sandbox-start: the discard
// port, where nothing listens, so a call before it fails plainly.
const noSTS = "http://127.0.0.1:9"

const sandboxKey valueKey = "sandbox"

func runHermeticScripts(t *testing.T, dir string) {
	cmds := joinCmds(t, commonCmds, daemonCmds, callerCmds, sandboxCmds, map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"sandbox-start":      cmdSandboxStart,
		"sandbox-clock":      cmdSandboxClock,
		"mfa-code":           cmdMFACode,
		"sandbox-use-code":   cmdSandboxUseCode,
		"sandbox-deactivate": cmdSandboxDeactivate,
	})
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			proxy, err := stspeer.StartProxy(noSTS)
			if err != nil {
				return err
			}
			env.Defer(proxy.Close)
			env.Values[sandboxKey] = &sandboxRun{}
			return setupScript(env, proxy)
		},
		// [ci]: running on CI (CI=true), where a missing tool is a failure.
		Condition: func(cond string) (bool, error) {
			if cond == "ci" {
				return os.Getenv("CI") == "true", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: cmds,
	})
}

// sandboxRun is the script's running sandbox.
type sandboxRun struct {
	url     string
	clock   *bufio.Writer // serve's stdin: clock commands
	answers chan string   // serve's stdout after its first two lines
	users   map[string]sandboxUser
}

type sandboxUser struct{ keyID, secret, serial, seed string }

func sandboxOf(ts *testscript.TestScript) *sandboxRun {
	sb := ts.Value(sandboxKey).(*sandboxRun)
	if sb.url == "" {
		ts.Fatalf("no sandbox: run sandbox-start first")
	}
	return sb
}

// The roles sandbox-start adds to the demo's (dev user alice with a key
// and an MFA device; prod roles Admin, which trusts dev with MFA only,
// and ReadOnly, which trusts dev): Vendor trusts dev with the ExternalId
// vendor-42, as a third party's role does; Elsewhere trusts only another
// account (333333333333).
const (
	trustVendor = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
  "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "vendor-42"}}}]}`
	trustElsewhere = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"}, "Action": "sts:AssumeRole"}]}`
	readEverything = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "iam:Get*", "iam:List*"], "Resource": "*"}]}`
)

var listeningFirst = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[0-9]+)\n$`)

// sandbox-start: `credbroker sandbox serve --test-clock` on a free
// loopback port, serving the demo state plus the roles Vendor and
// Elsewhere from a file outside $WORK (it holds the made-up keys, and
// leakscan looks for them in $WORK); the script's STS proxy ($STS, which
// counts calls and records what STS issued) forwards to it, and
// AWS_ENDPOINT_URL_IAM points at it too. alice's key and seed are script
// secrets (add-key PROFILE alice, totp-add PROFILE alice), and so are a
// key of the dev account's root user (root) and one the sandbox never
// issued (ghost); $alice_KEY_ID and the like are their key ids. The
// sandbox is stopped at the end.
func cmdSandboxStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: sandbox-start")
	}
	sb := ts.Value(sandboxKey).(*sandboxRun)
	if sb.url != "" {
		ts.Fatalf("sandbox-start: a sandbox already runs at %s", sb.url)
	}
	st, err := sandbox.DemoState()
	ts.Check(err)
	now := time.Now().UTC().Truncate(time.Second)
	for _, r := range [][2]string{{"Vendor", trustVendor}, {"Elsewhere", trustElsewhere}} {
		st.Roles = append(st.Roles, sandbox.Role{Account: sandbox.ProdAccount, Name: r[0], ID: "AROA" + randomUpper(ts, 17), CreateDate: now,
			TrustPolicy: json.RawMessage(r[1]), Policies: []sandbox.NamedPolicy{{Name: "Read", Document: json.RawMessage(readEverything)}}})
	}
	// The dev account's root user has a key too (AWS advises against
	// one); ghost's key is one the sandbox never issued.
	root, ghost := madeUpKey(ts), madeUpKey(ts)
	st.Accounts[0].RootAccessKeys = []sandbox.AccessKey{root}
	dir, err := os.MkdirTemp("", "cbsandbox")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	state := filepath.Join(dir, "state.json")
	ts.Check(st.Save(state))
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	ts.Check(err)
	defer logFile.Close()

	cmd := exec.Command(lookPath(ts, "credbroker"), "sandbox", "serve", state, "--listen", "127.0.0.1:0", "--test-clock")
	cmd.Env = []string{"PATH=" + ts.Getenv("PATH"), "HOME=" + ts.Getenv("HOME"), "TMPDIR=" + ts.Getenv("TMPDIR")}
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	ts.Check(err)
	stdout, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	ts.Defer(func() {
		stdin.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	out := bufio.NewReader(stdout)
	first, err := out.ReadString('\n')
	m := listeningFirst.FindStringSubmatch(first)
	if err != nil || m == nil {
		log, _ := os.ReadFile(logFile.Name())
		ts.Fatalf("sandbox serve said %q (%v), not listening on URL: %s", first, err, log)
	}
	if _, err := out.ReadString('\n'); err != nil { // the export line
		ts.Fatalf("sandbox serve: %v", err)
	}
	answers := make(chan string, 16)
	go func() {
		defer close(answers)
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				return
			}
			answers <- strings.TrimSuffix(line, "\n")
		}
	}()
	sb.url, sb.clock, sb.answers = m[1], bufio.NewWriter(stdin), answers
	ts.Check(proxyOf(ts).SetTarget(sb.url))
	ts.Setenv("SANDBOX", sb.url)
	ts.Setenv("AWS_ENDPOINT_URL_IAM", sb.url)

	alice := st.Users[0]
	sb.users = map[string]sandboxUser{"alice": {keyID: alice.AccessKeys[0].ID, secret: alice.AccessKeys[0].Secret,
		serial: st.MFADevices[0].Serial, seed: st.MFADevices[0].Seed}}
	s := stateOf(ts)
	s.values["seed:alice"] = st.MFADevices[0].Seed
	for name, key := range map[string]sandbox.AccessKey{"alice": alice.AccessKeys[0], "root": root, "ghost": ghost} {
		s.values[name+"_KEY_ID"], s.values[name+"_SECRET"] = key.ID, key.Secret
		ts.Setenv(name+"_KEY_ID", key.ID)
	}
}

// madeUpKey is a made-up access key in the sandbox's format.
func madeUpKey(ts *testscript.TestScript) sandbox.AccessKey {
	secret := make([]byte, 30)
	_, err := rand.Read(secret)
	ts.Check(err)
	return sandbox.AccessKey{ID: "AKIA" + randomUpper(ts, 16), Secret: base64.StdEncoding.EncodeToString(secret), Status: "Active",
		CreateDate: time.Now().UTC().Truncate(time.Second)}
}

// sandbox-deactivate USER: IAM UpdateAccessKey makes USER's key Inactive
// (signed with that key, at the sandbox), as its owner would.
func cmdSandboxDeactivate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sandbox-deactivate USER")
	}
	u := sandboxUserOf(ts, args[0])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(sandboxOf(ts).url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(u.keyID, u.secret, "")})
	_, err := client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(u.keyID), Status: iamtypes.StatusTypeInactive})
	ts.Check(err)
}

// sandbox-clock offset|advance DURATION: move the sandbox's clock (see
// sandbox.Clock): offset, its clock runs DURATION from its clients' (a
// client clock skewed the other way); advance, DURATION passes for the
// sandbox and its clients alike (sessions expire). It returns once the
// sandbox said the move took effect.
func cmdSandboxClock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sandbox-clock offset|advance DURATION")
	}
	sb := sandboxOf(ts)
	_, err := fmt.Fprintf(sb.clock, "%s %s\n", args[0], args[1])
	ts.Check(err)
	ts.Check(sb.clock.Flush())
	select {
	case answer, ok := <-sb.answers:
		if !ok || !strings.HasPrefix(answer, "clock offset ") {
			ts.Fatalf("sandbox-clock %s %s: the sandbox answered %q", args[0], args[1], answer)
		}
		ts.Logf("sandbox: %s", answer)
	case <-time.After(10 * time.Second):
		ts.Fatalf("sandbox-clock: no answer from the sandbox in 10 s")
	}
}

// mfa-code USER FILE [next|wrong]: write the code of USER's MFA device at
// this time step to FILE (as a human reads it off an authenticator); with
// next, the code of the next step (STS accepts one step either side);
// with wrong, a 6-digit code that is the code of no step from two before
// to two after this one.
func cmdMFACode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 || (len(args) == 3 && args[2] != "wrong" && args[2] != "next") {
		ts.Fatalf("usage: mfa-code USER FILE [next|wrong]")
	}
	u := sandboxUserOf(ts, args[0])
	now := time.Now()
	if len(args) == 3 && args[2] == "next" {
		now = now.Add(30 * time.Second)
	}
	code, err := totp.GenerateCode(u.seed, now)
	ts.Check(err)
	if len(args) == 3 && args[2] == "wrong" {
		valid := map[string]bool{}
		for _, d := range []time.Duration{-60 * time.Second, -30 * time.Second, 0, 30 * time.Second, 60 * time.Second} {
			c, err := totp.GenerateCode(u.seed, now.Add(d))
			ts.Check(err)
			valid[c] = true
		}
		for n := 0; valid[code]; n++ {
			code = fmt.Sprintf("%06d", (123456+n*7919)%1000000)
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(code+"\n"), 0o600))
}

func sandboxUserOf(ts *testscript.TestScript, name string) sandboxUser {
	u, ok := sandboxOf(ts).users[name]
	if !ok {
		ts.Fatalf("no sandbox user %s", name)
	}
	return u
}

var codeWord = regexp.MustCompile(`\b[0-9]{6}\b`)

// sandbox-use-code USER FILE: GetSessionToken at the sandbox (not through
// the proxy: stscount does not see it) with USER's key and the MFA code in
// FILE (the first 6-digit word: FILE may be stdout), as another program
// or device with the same MFA device would. It prints what STS answered;
// ! expects a refusal.
func cmdSandboxUseCode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-use-code USER FILE")
	}
	u := sandboxUserOf(ts, args[0])
	code := codeWord.FindString(ts.ReadFile(args[1]))
	if code == "" {
		ts.Fatalf("no 6-digit code in %s", args[1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(sandboxOf(ts).url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(u.keyID, u.secret, "")})
	_, err := client.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(u.serial), TokenCode: aws.String(code), DurationSeconds: aws.Int32(900)})
	var api smithy.APIError
	switch {
	case err == nil:
		fmt.Fprintf(ts.Stdout(), "GetSessionToken with code %s: accepted\n", code)
	case errors.As(err, &api):
		fmt.Fprintf(ts.Stdout(), "GetSessionToken with code %s: %s: %s\n", code, api.ErrorCode(), api.ErrorMessage())
	default:
		ts.Fatalf("GetSessionToken: %v", err)
	}
	if (err != nil) != neg {
		ts.Fatalf("GetSessionToken with code %s: %v (want %s)", code, err, map[bool]string{true: "a refusal", false: "success"}[neg])
	}
}

// randomUpper is n random capital letters and digits 2-7.
func randomUpper(ts *testscript.TestScript, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	ts.Check(err)
	return base32.StdEncoding.EncodeToString(b)[:n]
}
