//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/broker/wire"
	"github.com/credbroker/credbroker/internal/stspeer"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// credbroker is the small front program SDKs run; it runs
		// credbroker-cli (this package's main) for all but the fast path.
		"credbroker":     func() { os.Exit(wire.Front(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) },
		"credbroker-cli": main,
		// go-sdk-identity is an AWS SDK for Go v2 program: it loads the
		// shared config like any Go application and calls
		// GetCallerIdentity, so credentials come through credential_process.
		"go-sdk-identity": goSDKIdentity,
	})
}

func goSDKIdentity() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-sdk-identity PROFILE")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(os.Args[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "load config:", err)
		os.Exit(1)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "GetCallerIdentity:", err)
		os.Exit(1)
	}
	fmt.Println(*out.Arn)
}

type valueKey string

const (
	proxyKey valueKey = "proxy"
	stateKey valueKey = "secrets"
)

// scriptState is what a script made: secrets (IAM secret keys, TOTP seeds),
// which leakscan looks for with every secret STS issued, and its checking moto.
type scriptState struct {
	values   map[string]string
	authMoto *stspeer.Moto
}

func TestScripts(t *testing.T) {
	moto, err := theMoto()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"iam-user":         cmdIAMUser,
		"add-key":          cmdAddKey,
		"seed":             cmdSeed,
		"totp-add":         cmdTOTPAdd,
		"totp-vs-oathtool": cmdTOTPVsOathtool,
		"stscount":         cmdSTSCount,
		"sts-backend":      cmdSTSBackend,
		"leakscan":         cmdLeakscan,
	}
	for name, f := range daemonCmds {
		cmds[name] = f
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			proxy, err := stspeer.StartProxy(moto.URL)
			if err != nil {
				return err
			}
			env.Defer(proxy.Close)
			env.Values[proxyKey] = proxy
			env.Values[stateKey] = &scriptState{values: map[string]string{}}
			// A short folder for the daemon's socket (a socket path has at
			// most 103 bytes; $WORK is longer).
			sockDir, err := os.MkdirTemp("", "cb")
			if err != nil {
				return err
			}
			socket := filepath.Join(sockDir, "broker.sock")
			env.Setenv("CREDBROKER_SOCKET", socket)
			env.Defer(func() {
				stopDaemon(socket)
				os.RemoveAll(sockDir)
			})
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
				return err
			}
			for _, kv := range [][2]string{
				{"HOME", home},
				{"STS", proxy.URL},
				{"MOTO", moto.URL},
				{"AWS_ENDPOINT_URL_STS", proxy.URL},
				{"AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config")},
				{"AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials")},
				{"AWS_DEFAULT_REGION", "us-east-1"},
				{"AWS_REGION", "us-east-1"},
				{"AWS_EC2_METADATA_DISABLED", "true"},
				{"AWS_PAGER", ""},
				{"CREDBROKER_CONFIG", filepath.Join(env.WorkDir, "credbroker.conf")},
				{"CREDBROKER_KEYRING", "file"},
				{"CREDBROKER_FILE_DIR", filepath.Join(env.WorkDir, "keyring")},
				{"CREDBROKER_FILE_PASSPHRASE", "correct horse battery staple"},
				{"PYENV_VERSION", os.Getenv("PYENV_VERSION")},
				{"PYENV_ROOT", os.Getenv("PYENV_ROOT")},
			} {
				env.Setenv(kv[0], kv[1])
			}
			return nil
		},
		Cmds: cmds,
	})
}

// stopDaemon stops the daemon serving socket, if any: SIGTERM, then
// SIGKILL if it has not gone within five seconds.
func stopDaemon(socket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := broker.NewClient(socket).Status(ctx)
	if err != nil {
		return
	}
	p, err := os.FindProcess(st.PID)
	if err != nil {
		return
	}
	_ = p.Signal(syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.Kill()
}

func proxyOf(ts *testscript.TestScript) *stspeer.Proxy { return ts.Value(proxyKey).(*stspeer.Proxy) }

func stateOf(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey).(*scriptState)
}

// iam-user NAME: create an IAM user with an access key in the current STS
// backend's moto; sets $NAME_KEY_ID (the secret stays in the test's memory).
func cmdIAMUser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: iam-user NAME")
	}
	p := proxyOf(ts)
	key, err := stspeer.CreateIAMUser(p.Target(), args[0])
	ts.Check(err)
	ts.Setenv(args[0]+"_KEY_ID", key.ID)
	s := stateOf(ts)
	s.values[args[0]+"_KEY_ID"] = key.ID
	s.values[args[0]+"_SECRET"] = key.Secret
}

// add-key PROFILE USER [flags...]: credbroker add PROFILE with USER's key on
// stdin, as a script would pipe it. "add-key PROFILE USER:badsecret" sends
// the right key id with a wrong secret.
func cmdAddKey(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: add-key PROFILE USER[:badsecret] [flags]")
	}
	user, variant, _ := strings.Cut(args[1], ":")
	s := stateOf(ts)
	id, secret := s.values[user+"_KEY_ID"], s.values[user+"_SECRET"]
	if id == "" {
		ts.Fatalf("no IAM user %s: run iam-user %s first", user, user)
	}
	if variant == "badsecret" {
		secret = strings.Repeat("A", 40)
	}
	runCredbroker(ts, neg, id+"\n"+secret+"\n", append([]string{"add", args[0]}, args[2:]...)...)
}

// seed NAME: make a random 160-bit TOTP seed, kept in memory only.
func cmdSeed(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: seed NAME")
	}
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	stateOf(ts).values["seed:"+args[0]] = base32.StdEncoding.EncodeToString(b)
}

// totp-add PROFILE SEEDNAME|-literal TEXT: credbroker totp add PROFILE with
// the named seed (or literal text) on stdin.
func cmdTOTPAdd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: totp-add PROFILE SEEDNAME | totp-add PROFILE -literal TEXT")
	}
	input := stateOf(ts).values["seed:"+args[1]]
	if args[1] == "-literal" {
		input = strings.Join(args[2:], " ")
	} else if input == "" {
		ts.Fatalf("no seed %s", args[1])
	}
	runCredbroker(ts, neg, input+"\n", "totp", "add", args[0])
}

// runCredbroker runs the credbroker command of this test binary with stdin,
// its output checked by stdout and stderr like exec's.
func runCredbroker(ts *testscript.TestScript, neg bool, stdin string, args ...string) {
	cmd := exec.Command("credbroker", args...)
	cmd.Path = lookPath(ts, "credbroker")
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = scriptEnv(ts)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	err := cmd.Run()
	if err != nil && !neg {
		ts.Fatalf("credbroker %s: %v", strings.Join(args, " "), err)
	}
	if err == nil && neg {
		ts.Fatalf("credbroker %s succeeded unexpectedly", strings.Join(args, " "))
	}
}

func lookPath(ts *testscript.TestScript, name string) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	ts.Fatalf("%s not on PATH", name)
	return ""
}

func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "WORK", "TMPDIR", "AWS_ENDPOINT_URL_STS", "AWS_CONFIG_FILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"CREDBROKER_CONFIG", "CREDBROKER_KEYRING", "CREDBROKER_FILE_DIR", "CREDBROKER_FILE_PASSPHRASE", "CREDBROKER_SOCKET", "CREDBROKER_NO_AUTOSTART"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

// totp-vs-oathtool PROFILE SEEDNAME: `credbroker totp code PROFILE` equals
// oathtool's code for the same seed in the same 30 s step.
func cmdTOTPVsOathtool(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: totp-vs-oathtool PROFILE SEEDNAME")
	}
	seed := stateOf(ts).values["seed:"+args[1]]
	if _, err := exec.LookPath("oathtool"); err != nil {
		ts.Fatalf("oathtool not found: install the Debian package oathtool")
	}
	for attempt := 0; attempt < 3; attempt++ {
		step := time.Now().Unix() / 30
		cmd := exec.Command(lookPath(ts, "credbroker"), "totp", "code", args[0])
		cmd.Env = scriptEnv(ts)
		ours, err := cmd.Output()
		ts.Check(err)
		// The seed goes to oathtool on stdin ("-"), not its command line.
		oath := exec.Command("oathtool", "--totp", "-b", "-")
		oath.Stdin = strings.NewReader(seed + "\n")
		theirs, err := oath.Output()
		ts.Check(err)
		if time.Now().Unix()/30 != step {
			continue // crossed a step boundary: compare again
		}
		o, th := strings.TrimSpace(string(ours)), strings.TrimSpace(string(theirs))
		if len(o) != 6 || o != th {
			ts.Fatalf("credbroker totp code = %q, oathtool = %q", o, th)
		}
		ts.Logf("credbroker and oathtool agree on the code of step %d", step)
		return
	}
	ts.Fatalf("could not compare within one 30 s step three times")
}

// stscount ACTION N: exactly N calls of ACTION reached STS since the last
// `stscount reset`.
func cmdSTSCount(ts *testscript.TestScript, neg bool, args []string) {
	p := proxyOf(ts)
	if len(args) == 1 && args[0] == "reset" {
		p.Reset()
		return
	}
	if len(args) != 2 {
		ts.Fatalf("usage: stscount ACTION N | stscount reset")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if got := p.Count(args[0]); (got == want) == neg {
		ts.Fatalf("%s reached STS %d times, want %d", args[0], got, want)
	}
}

// sts-backend moto|auth|root: what answers behind the proxy. auth is a
// second moto that checks keys and signatures (after the first 2 actions,
// which iam-user uses to create a user and key); root answers
// GetCallerIdentity as an account's root user would.
func cmdSTSBackend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sts-backend moto|auth|root")
	}
	p := proxyOf(ts)
	switch args[0] {
	case "moto", "root":
		moto, err := theMoto()
		ts.Check(err)
		mode := ""
		if args[0] == "root" {
			mode = "root"
		}
		ts.Check(p.SetTarget(moto.URL))
		p.SetMode(func(m *stspeer.Mode) { m.RootIdentity = mode == "root" })
	case "auth":
		// One checking moto per script, started on first use.
		m := stateOf(ts).authMoto
		if m == nil {
			var err error
			m, err = stspeer.StartMoto(nil, "INITIAL_NO_AUTH_ACTION_COUNT=2")
			ts.Check(err)
			ts.Defer(m.Stop)
			stateOf(ts).authMoto = m
		}
		ts.Check(p.SetTarget(m.URL))
		p.SetMode(func(m *stspeer.Mode) { m.RootIdentity = false })
	default:
		ts.Fatalf("unknown backend %s", args[0])
	}
}

// leakscan: no file under $WORK (HOME, TMPDIR, the keyring folder, the
// config) and neither of the last command's outputs holds a secret in plain
// text: the IAM secret keys and TOTP seeds the script made, and every
// secret key and session token STS issued during the script.
func cmdLeakscan(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("leakscan cannot be negated")
	}
	var secrets []string
	for name, v := range stateOf(ts).values {
		if !strings.HasSuffix(name, "_KEY_ID") {
			secrets = append(secrets, v)
		}
	}
	secrets = append(secrets, proxyOf(ts).Issued()...)
	if len(secrets) < 2 {
		ts.Fatalf("leakscan found only %d secrets to look for: the scenario made none", len(secrets))
	}
	files, leaks, err := findLeaks(ts.Getenv("WORK"), secrets)
	ts.Check(err)
	n, sockLeaks, err := findLeaks(filepath.Dir(ts.Getenv("CREDBROKER_SOCKET")), secrets)
	ts.Check(err)
	files += n
	leaks = append(leaks, sockLeaks...)
	if len(leaks) > 0 {
		ts.Fatalf("these files hold a secret in plain text: %s", strings.Join(leaks, ", "))
	}
	// Nor any process's command line (secrets go through stdin, the
	// keyring and the socket, never argv).
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process has gone
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				ts.Fatalf("the command line %s holds a secret", path)
			}
		}
	}
	for _, stream := range []string{"stderr"} {
		out := ts.ReadFile(stream)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				ts.Fatalf("the last command's %s holds a secret", stream)
			}
		}
	}
	ts.Logf("leakscan: %d secrets absent from %d files and %d command lines", len(secrets), files, len(cmdlines))
}

// findLeaks returns the files under dir that contain any of secrets, and
// how many files it read.
func findLeaks(dir string, secrets []string) (files int, leaks []string, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				leaks = append(leaks, path)
				break
			}
		}
		return nil
	})
	return files, leaks, err
}

// TestFindLeaks proves the scan behind leakscan finds a planted secret, so
// a clean scan means something.
func TestFindLeaks(t *testing.T) {
	dir := t.TempDir()
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	if err := os.MkdirAll(filepath.Join(dir, "home", ".cache"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "home", "clean.txt"), []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(dir, "home", ".cache", "creds.json")
	if err := os.WriteFile(planted, []byte(`{"SecretAccessKey":"`+secret+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	files, leaks, err := findLeaks(dir, []string{"other", secret})
	if err != nil || files != 2 || len(leaks) != 1 || leaks[0] != planted {
		t.Fatalf("findLeaks = %d files, %v, %v; want the planted file", files, leaks, err)
	}
}
