//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credbroker/credbroker/cmd/credbroker/front"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/internal/stspeer"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/wire"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// credbroker is the small front program SDKs run; it runs
		// credbroker-cli (this package's main) for all but the fast path.
		"credbroker":     func() { os.Exit(front.Main(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) },
		"credbroker-cli": main,
		// go-sdk-identity is an AWS SDK for Go v2 program: it loads the
		// shared config like any Go application and calls
		// GetCallerIdentity, so credentials come through credential_process.
		"go-sdk-identity": goSDKIdentity,
		// go-sdk-creds is a Go SDK v2 program with no profile: its
		// default chain finds the serve endpoints (serve_script_test.go).
		"go-sdk-creds": goSDKCreds,
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
	// totpSteps: the time steps whose codes `credbroker totp code` gave,
	// per seed name (totp-vs-oathtool).
	totpSteps map[string]map[int64]bool
	// squatLog is where the squatter logs what it heard.
	squatLog string
	// passphrase is the script's file keyring passphrase.
	passphrase string
	// peer2 is the second STS peer (second-peer).
	peer2 *stspeer.Proxy
}

// TestSquatter is not a test: the squatter command runs the test binary
// again as another user with it, to listen on a loopback port.
func TestSquatter(t *testing.T) {
	if log := os.Getenv(squatterEnv); log != "" {
		squatterMain(log)
	}
}

func TestScripts(t *testing.T) {
	// The scenarios drive moto_server (IAM users, STS) and the AWS CLI v1
	// and boto3 of the machine image. Without them, the hermetic suites
	// still run (TestSandboxScripts, TestOfflineScripts, the packages'
	// own tests); CI runs these too.
	if ok, why := stspeer.Available(); !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skipf("%s: the moto interop scenarios did not run (CI runs them all)", why)
	}
	moto, err := theMoto()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	cmds := joinCmds(t, commonCmds, daemonCmds, callerCmds, serveCmds, map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"iam-user":    cmdIAMUser,
		"sts-backend": cmdSTSBackend,
	})
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			proxy, err := stspeer.StartProxy(moto.URL)
			if err != nil {
				return err
			}
			env.Defer(proxy.Close)
			env.Setenv("MOTO", moto.URL)
			return setupScript(env, proxy)
		},
		Cmds: cmds,
	})
}

// commonCmds are the script commands of every suite: keys and seeds in
// the script's keyring, TOTP codes, the STS peer's counts, and the checks
// that no secret leaks.
var commonCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"add-key":          cmdAddKey,
	"seed":             cmdSeed,
	"totp-add":         cmdTOTPAdd,
	"totp-vs-oathtool": cmdTOTPVsOathtool,
	"stscount":         cmdSTSCount,
	"eventually":       cmdEventually,
	"leakscan":         cmdLeakscan,
	"no-secret-run":    cmdNoSecretRun,
	"secret-env":       cmdSecretEnv,
}

// joinCmds is one suite's script commands; a name in two sets is a
// mistake (one would silently win).
func joinCmds(t *testing.T, sets ...map[string]func(*testscript.TestScript, bool, []string)) map[string]func(*testscript.TestScript, bool, []string) {
	cmds := map[string]func(*testscript.TestScript, bool, []string){}
	for _, set := range sets {
		for name, f := range set {
			if cmds[name] != nil {
				t.Fatalf("script command %s is registered twice", name)
			}
			cmds[name] = f
		}
	}
	return cmds
}

// addCmds adds cmds, at init, to the set of the suites that run them; a
// name already there is a mistake, as in joinCmds.
func addCmds(set, cmds map[string]func(*testscript.TestScript, bool, []string)) {
	for name, f := range cmds {
		if set[name] != nil {
			panic("script command " + name + " is registered twice")
		}
		set[name] = f
	}
}

// setupScript gives a script its own home, config, file keyring (with a
// passphrase of its own), daemon socket and STS peer behind proxy ($STS
// and AWS_ENDPOINT_URL_STS); the daemon is stopped at the end.
func setupScript(env *testscript.Env, proxy *stspeer.Proxy) error {
	env.Values[proxyKey] = proxy
	// Each script's file keyring has a passphrase of its own, so
	// that a scan for it never finds another script's processes.
	pass := make([]byte, 15)
	if _, err := rand.Read(pass); err != nil {
		return err
	}
	passphrase := "cb-" + base32.StdEncoding.EncodeToString(pass)
	env.Values[stateKey] = &scriptState{values: map[string]string{}, passphrase: passphrase}
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
		{"CREDBROKER_FILE_PASSPHRASE", passphrase},
		{"PYENV_VERSION", os.Getenv("PYENV_VERSION")},
		{"PYENV_ROOT", os.Getenv("PYENV_ROOT")},
	} {
		env.Setenv(kv[0], kv[1])
	}
	return nil
}

// stopDaemon stops the daemon serving socket, if any: SIGTERM, then
// SIGKILL if it has not gone within five seconds.
func stopDaemon(socket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := wire.NewClient(socket).Status(ctx)
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
// the right key id with a wrong secret; "USER:swapped" sends the secret
// first, then the key id.
func cmdAddKey(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: add-key PROFILE USER[:badsecret|:swapped] [flags]")
	}
	user, variant, _ := strings.Cut(args[1], ":")
	s := stateOf(ts)
	id, secret := s.values[user+"_KEY_ID"], s.values[user+"_SECRET"]
	if id == "" {
		ts.Fatalf("no IAM user %s: run iam-user %s first", user, user)
	}
	switch variant {
	case "":
	case "badsecret":
		secret = strings.Repeat("A", 40)
	case "swapped":
		id, secret = secret, id
	default:
		ts.Fatalf("add-key: unknown variant %s", variant)
	}
	runCredbroker(ts, neg, id+"\n"+secret+"\n", append([]string{"add", args[0]}, args[2:]...)...)
}

// secret-env NAME VALUE: set the environment variable NAME to the script
// secret VALUE (USER_SECRET of iam-user, or seed:NAME), as a process that
// holds credentials of its own would have it.
func cmdSecretEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: secret-env NAME VALUE")
	}
	v := stateOf(ts).values[args[1]]
	if v == "" {
		ts.Fatalf("no script secret %s", args[1])
	}
	ts.Setenv(args[0], v)
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

// eventually REGEXP CMD ARGS...: runs CMD (found on the script's PATH,
// in $WORK, with the script's environment) until its stdout and stderr
// together match REGEXP, for up to 20 s; its last output becomes the
// command's stdout. For a change the daemon notices on its own clock (a
// config file edited): the test waits for what it checks, not for a time.
func cmdEventually(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: eventually REGEXP CMD ARGS...")
	}
	re := regexp.MustCompile(args[0])
	deadline := time.Now().Add(20 * time.Second)
	for {
		cmd := exec.Command(args[1], args[2:]...)
		cmd.Path = lookPath(ts, args[1])
		cmd.Dir = ts.Getenv("WORK")
		cmd.Env = scriptEnv(ts)
		out, _ := cmd.CombinedOutput()
		if re.Match(out) {
			fmt.Fprint(ts.Stdout(), string(out))
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s printed nothing matching %q in 20 s; last:\n%s", strings.Join(args[1:], " "), args[0], out)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
		"CREDBROKER_CONFIG", "CREDBROKER_KEYRING", "CREDBROKER_FILE_DIR", "CREDBROKER_FILE_PASSPHRASE", "CREDBROKER_SOCKET", "CREDBROKER_NO_AUTOSTART",
		"PASSWORD_STORE_DIR", "GNUPGHOME"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

// totp-vs-oathtool PROFILE SEEDNAME: `credbroker totp code PROFILE` gives
// oathtool's code for the same seed at one time step from when it was run
// to when it returned (a later step than the current one when the current
// one was already used: it waits for the next), never the code of a step it
// gave before, and records the step as used for the device, as the daemon
// does, so that the daemon does not send the same code again.
func cmdTOTPVsOathtool(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: totp-vs-oathtool PROFILE SEEDNAME")
	}
	s := stateOf(ts)
	seed := s.values["seed:"+args[1]]
	if seed == "" {
		ts.Fatalf("no seed %s", args[1])
	}
	if _, err := exec.LookPath("oathtool"); err != nil {
		ts.Fatalf("oathtool not found: install the Debian package oathtool")
	}
	before := time.Now()
	cmd := exec.Command(lookPath(ts, "credbroker"), "totp", "code", args[0])
	cmd.Env = scriptEnv(ts)
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(&stderr, ts.Stderr())
	out, err := cmd.Output()
	after := time.Now()
	if err != nil {
		ts.Fatalf("credbroker totp code %s: %v: %s", args[0], err, stderr.String())
	}
	ours := strings.TrimSpace(string(out))
	if len(ours) != 6 {
		ts.Fatalf("credbroker totp code printed %d characters, want a 6-digit code", len(ours))
	}
	i := slices.Index(oathCodes(ts, seed, before.Unix()/30, after.Unix()/30), ours)
	step := before.Unix()/30 + int64(i)
	if i < 0 {
		ts.Fatalf("credbroker totp code gave a code that oathtool makes at no time step from %d to %d", before.Unix()/30, after.Unix()/30)
	}
	if s.totpSteps == nil {
		s.totpSteps = map[string]map[int64]bool{}
	}
	given := s.totpSteps[args[1]]
	if given[step] {
		ts.Fatalf("credbroker totp code gave the code of time step %d twice (AWS refuses a code used twice)", step)
	}
	// Started in a step whose code it gave already: it must have waited,
	// and said so.
	waited := given[before.Unix()/30]
	if waited && !totpWaitLine.MatchString(stderr.String()) {
		ts.Fatalf("credbroker totp code waited for the next time step without saying so on stderr: %q", stderr.String())
	}
	if given == nil {
		s.totpSteps[args[1]] = map[int64]bool{}
	}
	s.totpSteps[args[1]][step] = true
	if last := lastMFAStep(ts); last < step {
		ts.Fatalf("credbroker totp code gave the code of time step %d but recorded %d as the last used one", step, last)
	}
	ts.Logf("credbroker and oathtool agree on the code of step %d (waited for it: %v)", step, waited)
}

// oathCodes are the codes oathtool makes from seed at the time steps from
// first to last, in order, from one run of it. The seed goes to oathtool on
// stdin ("-"), not its command line.
func oathCodes(ts *testscript.TestScript, seed string, first, last int64) []string {
	if _, err := exec.LookPath("oathtool"); err != nil {
		ts.Fatalf("oathtool not found: install the Debian package oathtool")
	}
	oath := exec.Command("oathtool", "--totp", "-b", "--now", "@"+strconv.FormatInt(first*30, 10),
		"-w", strconv.FormatInt(last-first, 10), "-")
	oath.Stdin = strings.NewReader(seed + "\n")
	out, err := oath.Output()
	ts.Check(err)
	codes := strings.Fields(string(out))
	if int64(len(codes)) != last-first+1 {
		ts.Fatalf("oathtool gave %d codes for %d time steps", len(codes), last-first+1)
	}
	return codes
}

// totpWaitLine is what totp code says when it waits for a fresh step.
var totpWaitLine = regexp.MustCompile(`(?m)^credbroker: the code of this time step was already used \(AWS refuses a code twice\); waiting [0-9]+s for the next one$`)

// lastMFAStep is the latest time step recorded as used for any MFA device
// in the script's keystore (broker.StepStore), or -1.
func lastMFAStep(ts *testscript.TestScript) int64 {
	keys, err := keystore.Open(keystore.ConfigFromEnv(ts.Getenv))
	ts.Check(err)
	items, err := keys.List()
	ts.Check(err)
	last := int64(-1)
	for _, it := range items {
		if it.Kind != keystore.KindState || !strings.HasPrefix(it.Name, "mfa-step/") {
			continue
		}
		step, ok, err := (broker.StepStore{Keys: keys}).LastStep(strings.TrimPrefix(it.Name, "mfa-step/"))
		ts.Check(err)
		if ok && int64(step) > last {
			last = int64(step)
		}
	}
	return last
}

// stscount ACTION N: exactly N calls of ACTION reached STS since the last
// `stscount reset`.
func cmdSTSCount(ts *testscript.TestScript, neg bool, args []string) {
	countAt(ts, proxyOf(ts), neg, args)
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
// config) or in the socket's folder, no process's command line, no
// credbroker process's environment, and not the last command's stderr holds
// a secret in plain text, whole or in part (leakPattern): the IAM secret
// keys and TOTP seeds the script made, and every secret key and session
// token STS issued during the script. The last command's stdout is not
// scanned: credential-process prints credentials there, by design.
func cmdLeakscan(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("leakscan cannot be negated")
	}
	secrets := scriptSecrets(ts)
	if len(secrets) < 2 {
		ts.Fatalf("leakscan found only %d secrets to look for: the scenario made none", len(secrets))
	}
	leak := newLeakPattern(secrets, leakRun)
	files, leaks, err := findLeaks(ts.Getenv("WORK"), leak)
	ts.Check(err)
	n, sockLeaks, err := findLeaks(filepath.Dir(ts.Getenv("CREDBROKER_SOCKET")), leak)
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
		if leak.in(data) {
			ts.Fatalf("the command line %s holds a secret", path)
		}
	}
	// Nor the environment of a credbroker process (the daemon takes only
	// what it needs from the process that starts it, which may hold
	// credentials of its own).
	envs := 0
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, path := range comms {
		comm, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(comm, []byte("credbroker")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(filepath.Dir(path), "environ"))
		if err != nil {
			continue // the process has gone
		}
		envs++
		if leak.in(data) {
			ts.Fatalf("the environment of %s (%s) holds a secret", filepath.Dir(path), strings.TrimSpace(string(comm)))
		}
	}
	if leak.in([]byte(ts.ReadFile("stderr"))) {
		ts.Fatalf("the last command's stderr holds a secret")
	}
	ts.Logf("leakscan: %d secrets absent from %d files, %d command lines and %d credbroker environments", len(secrets), files, len(cmdlines), envs)
}

// no-secret-run N: neither output of the last command holds N characters
// in a row of a secret the script made (its IAM secret keys and seeds).
func cmdNoSecretRun(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: no-secret-run N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	secrets := madeSecrets(ts)
	if len(secrets) == 0 {
		ts.Fatalf("no-secret-run: the script made no secret")
	}
	leak := newLeakPattern(secrets, n)
	for _, stream := range []string{"stdout", "stderr"} {
		if leak.in([]byte(ts.ReadFile(stream))) {
			ts.Fatalf("the last command's %s holds %d characters in a row of a secret", stream, n)
		}
	}
}

// scriptSecrets are the secrets leakscan looks for: those the script made
// and those STS issued.
func scriptSecrets(ts *testscript.TestScript) []string {
	return append(madeSecrets(ts), proxyOf(ts).Issued()...)
}

// madeSecrets are the IAM secret keys and TOTP seeds the script made.
func madeSecrets(ts *testscript.TestScript) []string {
	var secrets []string
	for name, v := range stateOf(ts).values {
		if !strings.HasSuffix(name, "_KEY_ID") {
			secrets = append(secrets, v)
		}
	}
	return secrets
}

// leakRun is how much of a secret makes a leak: 16 characters in a row of a
// 40-character secret key (or a longer token) cannot be chance, and a
// message that quotes half a secret leaks it as surely as one that quotes
// it whole.
const leakRun = 16

// leakPattern finds secrets in data: every run of its run length of a
// secret at least minPartial long, and shorter secrets whole.
type leakPattern struct {
	run   int
	runs  map[string]bool
	whole [][]byte
}

// minPartial: secrets this long or longer are looked for in part.
const minPartial = 20

func newLeakPattern(secrets []string, run int) *leakPattern {
	p := &leakPattern{run: run, runs: map[string]bool{}}
	for _, s := range secrets {
		if len(s) < minPartial || len(s) < run {
			p.whole = append(p.whole, []byte(s))
			continue
		}
		for i := 0; i+run <= len(s); i++ {
			p.runs[s[i:i+run]] = true
		}
	}
	return p
}

// in reports whether data holds a secret, whole or in part.
func (p *leakPattern) in(data []byte) bool {
	for _, w := range p.whole {
		if len(w) > 0 && bytes.Contains(data, w) {
			return true
		}
	}
	if len(p.runs) == 0 {
		return false
	}
	for i := 0; i+p.run <= len(data); i++ {
		if p.runs[string(data[i:i+p.run])] {
			return true
		}
	}
	return false
}

// findLeaks returns the files under dir that hold a secret, and how many
// files it read.
func findLeaks(dir string, leak *leakPattern) (files int, leaks []string, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if leak.in(data) {
			leaks = append(leaks, path)
		}
		return nil
	})
	return files, leaks, err
}

// TestFindLeaks proves the scan behind leakscan finds a planted secret,
// whole or a 16-character part of it, so a clean scan means something.
func TestFindLeaks(t *testing.T) {
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for _, tc := range []struct {
		name    string
		planted string
		leaks   bool
	}{
		{"whole", `{"SecretAccessKey":"` + secret + `"}`, true},
		{"16 characters of it", `error: "` + secret[12:28] + `..." is not an access key id`, true},
		{"its last 16 characters", secret[24:], true},
		{"15 characters of it", `error: "` + secret[12:27] + `" is not an access key id`, false},
		{"16 characters of two places", secret[:8] + secret[20:28], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "home", ".cache"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "home", "clean.txt"), []byte("nothing here"), 0o600); err != nil {
				t.Fatal(err)
			}
			planted := filepath.Join(dir, "home", ".cache", "creds.json")
			if err := os.WriteFile(planted, []byte(tc.planted), 0o600); err != nil {
				t.Fatal(err)
			}
			files, leaks, err := findLeaks(dir, newLeakPattern([]string{"other", secret}, leakRun))
			if err != nil || files != 2 {
				t.Fatalf("findLeaks = %d files, %v; want 2 files", files, err)
			}
			if found := len(leaks) == 1 && leaks[0] == planted; found != tc.leaks || (!tc.leaks && len(leaks) > 0) {
				t.Fatalf("findLeaks found %v; want the planted file: %v", leaks, tc.leaks)
			}
		})
	}
	// A short secret is looked for whole.
	if p := newLeakPattern([]string{"shortsecret"}, leakRun); !p.in([]byte("x shortsecret y")) || p.in([]byte("shortsecre")) {
		t.Error("a short secret is not looked for whole")
	}
}
