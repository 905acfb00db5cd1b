package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/install"
	"github.com/credbroker/credbroker/wire"
)

func TestServiceUnit(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		args      []string
		scope     install.Scope
		execStart string
	}{
		{"system", []string{"service", "unit"}, install.System, " daemon --system\n"},
		{"user", []string{"service", "unit", "--user"}, install.User, " daemon\n"},
		{"user flag before the command", []string{"service", "--user", "unit"}, install.User, " daemon\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &app{
				stdin:  strings.NewReader(""),
				stdout: &stdout,
				stderr: &stderr,
				getenv: func(string) string { return "" },
			})
			if code != 0 {
				t.Fatalf("exit %d, stderr: %s", code, stderr.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
			want, err := install.SystemdUnit(tc.scope, exe)
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != want {
				t.Errorf("stdout is not the %s unit:\n%s", tc.scope, stdout.String())
			}
			// The real executable, not a placeholder.
			if !strings.Contains(stdout.String(), "\nExecStart="+exe+tc.execStart) {
				t.Errorf("no ExecStart=%s%s in:\n%s", exe, tc.execStart, stdout.String())
			}
		})
	}
}

// TestServiceNeedsRoot runs the changing commands as a non-root user (a
// fake effective uid) and checks the one line the CLI prints. The
// executable is in a temporary folder, which the system unit's sandbox
// hides: were the root check ever skipped, Install would still stop before
// touching the system.
func TestServiceNeedsRoot(t *testing.T) {
	t.Parallel()
	exe := filepath.Join(t.TempDir(), "credbroker")
	for _, tc := range []struct{ cmd, doing string }{
		{"install", "installing"},
		{"uninstall", "uninstalling"},
		{"start", "starting"},
		{"stop", "stopping"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
			root := &cobra.Command{Use: "credbroker", SilenceUsage: true, SilenceErrors: true}
			root.AddCommand(newServiceCmdWith(a, func(o *install.Options) {
				o.Geteuid = func() int { return 1000 }
				o.Executable = exe
			}))
			root.SetArgs([]string{"service", tc.cmd})
			root.SetOut(&stdout)
			root.SetErr(&stderr)
			err := root.Execute()
			if !errors.Is(err, install.ErrNeedRoot) {
				t.Fatalf("error = %v, want ErrNeedRoot", err)
			}
			msg, hint := describe(err)
			want := tc.doing + " the system service needs root: run with sudo, or use --user"
			if msg != want || hint != "" {
				t.Errorf("describe = %q, hint %q; want %q and no hint", msg, hint, want)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %s", stdout.String())
			}
		})
	}
}

func TestServiceUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"service", "bogus"}, `unknown command "bogus" for credbroker service`},
		{[]string{"service", "unit", "extra"}, "credbroker service unit takes no arguments"},
		{[]string{"service", "unit", "--system"}, "unknown flag: --system"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }})
			if code == 0 {
				t.Fatalf("exit 0, stdout: %s", stdout.String())
			}
			want := "credbroker: error: " + tc.wantErr + "\n"
			if !strings.HasPrefix(stderr.String(), want) || !strings.Contains(stderr.String(), "credbroker: hint: run: credbroker service") {
				t.Errorf("stderr = %q, want %q and a --help hint", stderr.String(), want)
			}
		})
	}
}

// TestUnitMatchesDaemon: the unit's socket is where the daemon listens
// and clients look for the system daemon.
func TestUnitMatchesDaemon(t *testing.T) {
	if install.SystemSocket != wire.SystemSocket {
		t.Errorf("unit socket %s, daemon socket %s", install.SystemSocket, wire.SystemSocket)
	}
}

// TestSystemDaemonConfig: the system daemon reads /etc/credbroker/config
// unless CREDBROKER_CONFIG names another file, as the contract says.
func TestSystemDaemonConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOME": "/home/alice"}
	a := &app{getenv: systemGetenv(func(k string) string { return env[k] })}
	if got := a.configPath(); got != install.SystemConfig {
		t.Errorf("system daemon's config = %s, want %s", got, install.SystemConfig)
	}
	env["CREDBROKER_CONFIG"] = "/srv/credbroker.conf"
	if got := a.configPath(); got != "/srv/credbroker.conf" {
		t.Errorf("with CREDBROKER_CONFIG: %s", got)
	}
	user := &app{getenv: func(k string) string { return map[string]string{"HOME": "/home/alice"}[k] }}
	if got := user.configPath(); got != "/home/alice/.config/credbroker/config" {
		t.Errorf("user daemon's config = %s", got)
	}
	// Neither HOME nor CREDBROKER_CONFIG: no config file, never one
	// looked for in the working directory.
	homeless := &app{getenv: func(string) string { return "" }}
	if got := homeless.configPath(); got != "" {
		t.Errorf("without HOME: config %q, want none", got)
	}
	cfg, err := homeless.config()
	if err != nil || len(cfg.Names()) != 0 {
		t.Errorf("without HOME: %v profiles, %v", cfg, err)
	}
}
