//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/pquerna/otp/totp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/sandbox"
)

// sandboxCmds are the script commands of the sandbox scenarios.
var sandboxCmds = map[string]func(*testscript.TestScript, bool, []string){
	"path-without-tools": cmdPathWithoutTools,
	"demo-within":        cmdDemoWithin,
	"demo-left-nothing":  cmdDemoLeftNothing,
	"sandbox-serve":      cmdSandboxServe,
}

// toolsTheDemoMustNotNeed are what today's moto-based demo uses and the
// embedded sandbox replaces.
var toolsTheDemoMustNotNeed = []string{"moto_server", "python3", "python", "aws", "curl", "oathtool"}

// path-without-tools: PATH becomes the folder of this test's credbroker
// programs and a folder with sh alone (the AWS SDKs run credential_process
// through sh), and none of toolsTheDemoMustNotNeed is found on it. The
// PATH it had is kept in $FULL_PATH.
func cmdPathWithoutTools(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: path-without-tools")
	}
	bin := filepath.Dir(lookPath(ts, "credbroker-cli"))
	shDir := filepath.Join(ts.Getenv("WORK"), "sh-only")
	ts.Check(os.MkdirAll(shDir, 0o755))
	ts.Check(os.Symlink("/bin/sh", filepath.Join(shDir, "sh")))
	ts.Setenv("FULL_PATH", ts.Getenv("PATH"))
	ts.Setenv("PATH", bin+string(filepath.ListSeparator)+shDir)
	for _, tool := range toolsTheDemoMustNotNeed {
		for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
			if _, err := os.Stat(filepath.Join(dir, tool)); err == nil {
				ts.Fatalf("%s is still on PATH in %s", tool, dir)
			}
		}
	}
}

// demo-within SECONDS: run `credbroker demo` with the script's environment
// (stdout and stderr as exec keeps them) and fail if it takes longer.
func cmdDemoWithin(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: demo-within SECONDS")
	}
	limit, err := strconv.Atoi(args[0])
	ts.Check(err)
	cmd := exec.Command(lookPath(ts, "credbroker"), "demo")
	cmd.Dir = ts.Getenv("WORK")
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "USER", "LANG", "PYENV_ROOT", "PYENV_VERSION"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&stdout, ts.Stdout()), io.MultiWriter(&stderr, ts.Stderr())
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	ts.Logf("credbroker demo took %s", took.Round(time.Millisecond))
	switch {
	case err != nil && !neg:
		ts.Fatalf("credbroker demo: %v", err)
	case err == nil && neg:
		ts.Fatalf("credbroker demo succeeded unexpectedly")
	case took > time.Duration(limit)*time.Second:
		ts.Fatalf("credbroker demo took %s, more than %ds", took.Round(time.Millisecond), limit)
	}
}

// demo-left-nothing: no folder of the demo is left in TMPDIR, and no
// process still runs with the demo's socket (its daemon was stopped).
func cmdDemoLeftNothing(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: demo-left-nothing")
	}
	tmp := ts.Getenv("TMPDIR")
	entries, err := os.ReadDir(tmp)
	ts.Check(err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "credbroker-demo-") || strings.HasPrefix(e.Name(), "cbd-") {
			ts.Fatalf("the demo left %s behind", filepath.Join(tmp, e.Name()))
		}
	}
	marker := []byte("CREDBROKER_SOCKET=" + filepath.Join(tmp, "credbroker-demo-"))
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, path := range environs {
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, marker) {
			ts.Fatalf("process %s still runs with the demo's socket", filepath.Base(filepath.Dir(path)))
		}
	}
}

var listeningLine = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[0-9]+)$`)

// sandbox-serve STATE: `credbroker sandbox serve STATE` prints "listening
// on URL" first, answers the Go SDK there (GetCallerIdentity, and
// GetSessionToken with alice's MFA code), stops with exit 0 on SIGTERM,
// and has written the used MFA step back to STATE.
func cmdSandboxServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sandbox-serve STATE")
	}
	path := ts.MkAbs(args[0])
	st, err := sandbox.LoadState(path)
	ts.Check(err)
	alice, dev := st.Users[0].AccessKeys[0], st.MFADevices[0]
	cmd := exec.Command(lookPath(ts, "credbroker"), "sandbox", "serve", path, "--listen", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + ts.Getenv("PATH"), "HOME=" + ts.Getenv("HOME"), "TMPDIR=" + ts.Getenv("TMPDIR")}
	cmd.Stderr = ts.Stderr()
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	defer cmd.Process.Kill()
	first, err := bufio.NewReader(out).ReadString('\n')
	ts.Check(err)
	m := listeningLine.FindStringSubmatch(strings.TrimSuffix(first, "\n"))
	if m == nil {
		ts.Fatalf("the first line is %q, not listening on http://127.0.0.1:PORT", first)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(m[1]), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(alice.ID, alice.Secret, "")})
	id, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	ts.Check(err)
	if *id.Arn != "arn:aws:iam::111111111111:user/alice" {
		ts.Fatalf("GetCallerIdentity: %s", *id.Arn)
	}
	code, err := totp.GenerateCode(dev.Seed, time.Now())
	ts.Check(err)
	_, err = client.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(dev.Serial), TokenCode: aws.String(code)})
	ts.Check(err)
	ts.Check(cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			ts.Fatalf("sandbox serve after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		ts.Fatalf("sandbox serve still runs 10 s after SIGTERM")
	}
	after, err := sandbox.LoadState(path)
	ts.Check(err)
	if after.MFADevices[0].LastStep == 0 {
		ts.Fatalf("the MFA code's step was not written back to %s", path)
	}
}
