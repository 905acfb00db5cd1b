package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/sandbox"
	"github.com/credbroker/credbroker/wire"
)

func newSandboxCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "sandbox",
		Short: "A local STS, IAM and console sign-in endpoint with made-up keys, to try credbroker on",
		Long: `The sandbox answers STS, IAM and the console federation endpoint on loopback, as
AWS does: it checks Signature Version 4, MFA codes, trust and identity policies,
durations and expiry. Its keys are made up and open nothing but the sandbox.

  credbroker sandbox init state.json
  credbroker sandbox show state.json
  credbroker sandbox serve state.json --listen 127.0.0.1:4566

Point a client at it with AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM.`,
	}
	c.AddCommand(newSandboxInitCmd(a), newSandboxShowCmd(a), newSandboxServeCmd(a))
	return c
}

// exactState accepts exactly one STATE argument.
func exactState(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{c, fmt.Sprintf("%s takes one STATE argument (a JSON file), got %d", c.CommandPath(), len(args))}
	}
	return nil
}

func newSandboxInitCmd(a *app) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "init STATE [--force]",
		Short: "Write the demo's sandbox state: dev user alice (key, MFA device) and prod roles Admin and ReadOnly",
		Args:  exactState,
		RunE: func(c *cobra.Command, args []string) error {
			path := args[0]
			if _, err := os.Lstat(path); err == nil && !force {
				return sandboxExistsError{path}
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			st, err := sandbox.DemoState()
			if err != nil {
				return err
			}
			if err := st.Save(path); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Wrote the sandbox state to %s: dev user alice with a key and an MFA device, prod roles Admin (MFA) and ReadOnly.\n", path)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "replace an existing state file")
	return c
}

type sandboxExistsError struct{ path string }

func (e sandboxExistsError) Error() string { return e.path + " exists: not replaced" }

// Hint says how to replace it.
func (e sandboxExistsError) Hint() string {
	return "run: credbroker sandbox init " + e.path + " --force"
}

func newSandboxShowCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show STATE [--json]",
		Short: "Print the sandbox's users (with their made-up keys and MFA seeds) and roles",
		Args:  exactState,
		RunE: func(c *cobra.Command, args []string) error {
			st, err := sandbox.LoadState(args[0])
			if err != nil {
				return err
			}
			sum, err := st.Summarize()
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(sum)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "USER\tACCESS KEY\tSECRET KEY\tMFA DEVICE\tMFA SEED")
			for _, u := range sum.Users {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.ARN, dash(u.AccessKeyID), dash(u.SecretAccessKey), dash(u.MFASerial), dash(u.MFASeed))
			}
			fmt.Fprintln(w, "\nROLE\tMFA\tMAX SESSION")
			for _, r := range sum.Roles {
				fmt.Fprintf(w, "%s\t%v\t%ds\n", r.ARN, r.MFARequired, r.MaxSessionDuration)
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"users":[...],"roles":[...]} as JSON`)
	return c
}

func newSandboxServeCmd(a *app) *cobra.Command {
	var listen string
	var testClock bool
	c := &cobra.Command{
		Use:   "serve STATE [--listen 127.0.0.1:PORT] [--test-clock]",
		Short: "Serve the sandbox on loopback until interrupted; changes are written back to STATE",
		Long: `Serve STS, IAM and /federation from STATE on a loopback address (port 0: a free
one) until SIGINT or SIGTERM. The first line printed is "listening on URL".
Changes (keys created, MFA codes used) are written back to STATE atomically.

With --test-clock, the process that started it moves the sandbox's clock
through its stdin, one command a line, each answered with a line on stdout:
  offset DURATION    the sandbox's clock runs DURATION from its clients' (skew)
  advance DURATION   DURATION passes for the sandbox and its clients alike
                     (sessions expire; signatures and MFA codes still match)`,
		Args: exactState,
		RunE: func(c *cobra.Command, args []string) error {
			srv, err := sandbox.Open(args[0])
			if err != nil {
				return err
			}
			clock := &sandbox.Clock{}
			if testClock {
				srv.Now, srv.Advanced = clock.Now, clock.Advanced
			}
			l, err := sandbox.Listen(listen)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "listening on http://%s\n", l.Addr())
			fmt.Fprintf(a.stdout, "export AWS_ENDPOINT_URL_STS=http://%s AWS_ENDPOINT_URL_IAM=http://%s\n", l.Addr(), l.Addr())
			if testClock {
				// Only the process holding stdin moves the clock; no
				// socket or file can.
				go func() {
					if err := clock.Control(a.stdin, a.stdout); err != nil {
						a.warn("sandbox: test clock: " + err.Error())
					}
				}()
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return srv.Serve(ctx, l)
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "loopback address and port to listen on (port 0: a free one)")
	c.Flags().BoolVar(&testClock, "test-clock", false, "for tests: move the sandbox's clock with commands on stdin (see above)")
	return c
}

func newDemoCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the whole flow against an embedded sandbox STS: key and MFA seed stored, daemon, role with MFA",
		Long: `Run credbroker end to end with nothing but this program: a sandbox STS on a
loopback port, a temporary home folder with a file keyring, alice's key and MFA
seed stored in it, the daemon started, and the prod Admin role (MFA required)
assumed through credential_process by the AWS SDK for Go, and by the AWS CLI
when aws is on PATH. Everything it makes is removed at the end; the exit code
is 0 only if the Admin role's session came back.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(c.Context(), 2*time.Minute)
			defer cancel()
			return a.runDemo(ctx)
		},
	}
}

// demoRole is the role the demo assumes; its ARN prefix is what must come back.
const demoRole = "arn:aws:iam::" + sandbox.ProdAccount + ":role/Admin"

// runDemo runs the demo. It points this process's environment at the
// demo's folders and sandbox, so that what it starts (the daemon, the
// SDK's credential_process, the AWS CLI) finds them; the keyring's
// passphrase stays in memory and reaches the daemon over its socket.
func (a *app) runDemo(ctx context.Context) error {
	st, err := sandbox.DemoState()
	if err != nil {
		return err
	}
	sum, err := st.Summarize()
	if err != nil {
		return err
	}
	alice := sum.Users[0]
	srv, err := sandbox.New(st)
	if err != nil {
		return err
	}
	l, err := sandbox.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, l) }()
	defer func() { stopServing(); <-served }()
	endpoint := "http://" + l.Addr().String()

	dir, err := os.MkdirTemp("", "credbroker-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sockDir := dir
	if len(filepath.Join(dir, "broker.sock")) > 100 { // a socket path has at most 104 bytes
		if sockDir, err = os.MkdirTemp("/tmp", "cbd-"); err != nil {
			return err
		}
		defer os.RemoveAll(sockDir)
	}
	userHome := os.Getenv("HOME")
	home := filepath.Join(dir, "home")
	awsConfig, awsCreds := filepath.Join(home, ".aws", "config"), filepath.Join(home, ".aws", "credentials")
	cbConfig := filepath.Join(home, ".config", "credbroker", "config")
	restore := demoEnv(map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"), "XDG_STATE_HOME": filepath.Join(home, ".local", "state"),
		"CREDBROKER_CONFIG": cbConfig, "CREDBROKER_KEYRING": "file", "CREDBROKER_FILE_DIR": filepath.Join(dir, "keyring"),
		"CREDBROKER_SOCKET": filepath.Join(sockDir, "broker.sock"), "CREDBROKER_NO_AUTOSTART": "1",
		"AWS_CONFIG_FILE": awsConfig, "AWS_SHARED_CREDENTIALS_FILE": awsCreds,
		"AWS_ENDPOINT_URL_STS": endpoint, "AWS_ENDPOINT_URL_IAM": endpoint, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "",
	})
	defer restore()
	exe, err := credbrokerPath()
	if err != nil {
		return err
	}
	files := map[string]string{
		cbConfig: "[profile base]\nregion = us-east-1\n\n[profile prod-admin]\nrole_arn = " + demoRole +
			"\nsource_profile = base\nmfa_serial = " + alice.MFASerial + "\nrole_session_name = credbroker-demo\n",
		awsConfig: "[profile prod-admin]\nregion = us-east-1\ncredential_process = " + exe + " credential-process --profile prod-admin\n",
		awsCreds:  "",
	}
	for path, text := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return err
		}
	}
	pass := make([]byte, 24)
	if _, err := rand.Read(pass); err != nil {
		return err
	}
	d := &app{stdout: a.stdout, stderr: a.stderr, getenv: os.Getenv, filePassphrase: base64.RawStdEncoding.EncodeToString(pass)}

	out := a.stdout
	fmt.Fprintf(out, "credbroker demo: a sandbox STS and IAM on %s (made-up keys; nothing leaves this machine)\n", endpoint)
	fmt.Fprintf(out, "  dev 111111111111: user alice, key %s, MFA device %s\n  prod 222222222222: role Admin (trusts dev with MFA only), role ReadOnly\n", alice.AccessKeyID, alice.MFASerial)
	fmt.Fprintf(out, "  home, config and file keyring in %s (removed at the end)\n", dir)
	step := func(cmd, why string) {
		if why != "" {
			cmd += "   # " + why
		}
		fmt.Fprintf(out, "\n$ %s\n", cmd)
	}
	step("credbroker add base", "alice's key, read from stdin, checked with GetCallerIdentity")
	d.stdin = strings.NewReader(alice.AccessKeyID + "\n" + alice.SecretAccessKey + "\n")
	if run([]string{"add", "base"}, d) != 0 {
		return errors.New("demo: credbroker add failed")
	}
	step("credbroker totp add base", "her virtual MFA device's seed, from stdin")
	d.stdin = strings.NewReader(alice.MFASeed + "\n")
	if run([]string{"totp", "add", "base"}, d) != 0 {
		return errors.New("demo: credbroker totp add failed")
	}
	for _, path := range []string{cbConfig, awsConfig} {
		step("cat "+path, "")
		text, _ := os.ReadFile(path)
		fmt.Fprint(out, string(text))
	}
	step("credbroker daemon &", "in the background; the keyring's passphrase goes over its socket, never into its environment")
	client, _ := d.client()
	if err := client.EnsureDaemon(ctx, d.startDaemon, d.daemonLog()); err != nil {
		return fmt.Errorf("demo: start the daemon: %w", err)
	}
	defer func() {
		if _, err := d.stopDaemon(context.Background()); err != nil {
			a.warn("demo: " + err.Error())
		}
	}()
	if err := client.Unlock(ctx, d.filePassphrase); err != nil {
		return fmt.Errorf("demo: unlock the daemon: %w", err)
	}
	if status, err := client.Status(ctx); err == nil {
		fmt.Fprintf(out, "daemon pid %d on %s\n", status.PID, status.Socket)
	}

	step("sts.GetCallerIdentity (AWS SDK for Go, profile prod-admin)", "credential_process: the daemon makes GetSessionToken with MFA, then AssumeRole")
	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile("prod-admin"),
		config.WithSharedConfigFiles([]string{awsConfig}), config.WithSharedCredentialsFiles([]string{awsCreds}))
	if err != nil {
		return fmt.Errorf("demo: load the AWS config: %w", err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("demo: GetCallerIdentity through the Go SDK: %w", err)
	}
	fmt.Fprintln(out, *id.Arn)
	want := "arn:aws:sts::" + sandbox.ProdAccount + ":assumed-role/Admin/"
	if !strings.HasPrefix(*id.Arn, want) {
		return fmt.Errorf("demo: the Go SDK got %s, not a session of %s", *id.Arn, demoRole)
	}
	if aws, err := exec.LookPath("aws"); err == nil {
		step("aws sts get-caller-identity --profile prod-admin --query Arn --output text", "the AWS CLI, through the same credential_process")
		cmd := exec.CommandContext(ctx, aws, "sts", "get-caller-identity", "--profile", "prod-admin", "--endpoint-url", endpoint, "--query", "Arn", "--output", "text")
		// The user's own HOME: a CLI installed under it (pyenv, pipx)
		// finds itself there; its config and credentials files are the
		// demo's (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE).
		cmd.Env = append(os.Environ(), "HOME="+userHome)
		cmd.Stderr = a.stderr
		got, err := cmd.Output()
		fmt.Fprint(out, string(got))
		if err != nil || !strings.HasPrefix(string(got), want) {
			return fmt.Errorf("demo: the AWS CLI did not get a session of %s: %v", demoRole, err)
		}
	} else {
		fmt.Fprintln(out, "\n(aws is not on PATH: the AWS CLI step is skipped)")
	}
	fmt.Fprintf(out, "\nThe prod Admin role, which needs MFA, was assumed through credential_process. Stopping the daemon and removing %s.\n", dir)
	return nil
}

// demoEnv sets the variables in vars for this process and unsets those
// that would point an SDK elsewhere (a profile, keys, another endpoint);
// the function it returns puts everything back.
func demoEnv(vars map[string]string) (restore func()) {
	old := map[string]*string{}
	keep := func(k string) {
		if _, done := old[k]; !done {
			if v, ok := os.LookupEnv(k); ok {
				old[k] = &v
			} else {
				old[k] = nil
			}
		}
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_CA_BUNDLE",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "XDG_RUNTIME_DIR", wire.PassphraseVar} {
		keep(k)
		os.Unsetenv(k)
	}
	for k, v := range vars {
		keep(k)
		os.Setenv(k, v)
	}
	return func() {
		for k, v := range old {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}
}

// credbrokerPath is the credbroker program next to this one (the small
// front SDKs run), else this program, which answers credential-process
// too; quoted for the shell that runs credential_process when it needs to.
func credbrokerPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	if front := filepath.Join(filepath.Dir(exe), "credbroker"+filepath.Ext(exe)); front != exe {
		if _, err := os.Stat(front); err == nil {
			exe = front
		}
	}
	if strings.ContainsAny(exe, " \t'\"\\$`") {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(exe, `\`, `\\`), `"`, `\"`) + `"`, nil
	}
	return exe, nil
}
