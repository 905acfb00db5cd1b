package install

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kardianos/service"
)

// fakeController records what the Manager asked the service manager to do.
type fakeController struct {
	calls  []string
	status service.Status
	err    error // returned by every call
	cfg    *service.Config
}

func (f *fakeController) Install() error   { f.calls = append(f.calls, "install"); return f.err }
func (f *fakeController) Uninstall() error { f.calls = append(f.calls, "uninstall"); return f.err }
func (f *fakeController) Start() error     { f.calls = append(f.calls, "start"); return f.err }
func (f *fakeController) Stop() error      { f.calls = append(f.calls, "stop"); return f.err }
func (f *fakeController) Status() (service.Status, error) {
	f.calls = append(f.calls, "status")
	return f.status, f.err
}

type fakeEnv struct {
	goos, platform string
	euid           int
	unitExists     bool
	ctl            fakeController
	accountCalls   int
	exeChecked     int
	notes          []string
}

// newTestManager returns a Manager whose every contact with the system is
// a fake: no test may reach the real service manager or useradd.
func newTestManager(t *testing.T, scope Scope, env *fakeEnv) *Manager {
	t.Helper()
	m, err := NewManager(Options{
		Scope:      scope,
		Executable: "/usr/local/bin/credbroker",
		Geteuid:    func() int { return env.euid },
		Notify:     func(msg string) { env.notes = append(env.notes, msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m.goos = env.goos
	m.platform = func() string { return env.platform }
	m.systemUnitDir = filepath.Join(dir, "system")
	m.home = func() (string, error) { return filepath.Join(dir, "home"), nil }
	m.newService = func(c *service.Config) (controller, error) {
		env.ctl.cfg = c
		return &env.ctl, nil
	}
	m.checkExecutable = func(string) error { env.exeChecked++; return nil }
	m.files = files{etcDir: filepath.Join(dir, "etc"), ownerUID: os.Getuid(), groupID: func() (int, error) { return os.Getgid(), nil }}
	m.account = testAccount(&env.accountCalls)
	if env.unitExists {
		path, err := m.UnitPath()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("[Unit]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestManagerRefusals(t *testing.T) {
	t.Parallel()
	type op struct {
		name  string
		doing string
		do    func(*Manager) error
	}
	ops := []op{
		{"install", "installing", (*Manager).Install},
		{"uninstall", "uninstalling", (*Manager).Uninstall},
		{"start", "starting", (*Manager).Start},
		{"stop", "stopping", (*Manager).Stop},
	}
	for _, o := range ops {
		for _, tc := range []struct {
			name    string
			scope   Scope
			env     fakeEnv
			wantErr error
			wantMsg string // "" to skip the check
		}{
			{"system without root", System, fakeEnv{goos: "linux", platform: "linux-systemd", euid: 1000, unitExists: true}, ErrNeedRoot, o.doing + " the system service needs root"},
			{"system without root on macOS", System, fakeEnv{goos: "darwin", platform: "darwin-launchd", euid: 501}, ErrNeedRoot, o.doing + " the system service needs root"},
			{"linux without systemd", User, fakeEnv{goos: "linux", platform: "unix-systemv", euid: 1000, unitExists: true}, ErrUnsupported, ""},
			{"user service on windows", User, fakeEnv{goos: "windows", platform: "windows-service", euid: -1}, ErrUnsupported, ""},
		} {
			t.Run(o.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				env := tc.env
				m := newTestManager(t, tc.scope, &env)
				err := o.do(m)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
				if tc.wantMsg != "" && err.Error() != tc.wantMsg {
					t.Errorf("error = %q, want %q", err, tc.wantMsg)
				}
				if len(env.ctl.calls) > 0 || env.accountCalls > 0 || env.exeChecked > 0 {
					t.Errorf("refused, yet touched the system: service calls %v, account %d, executable checks %d", env.ctl.calls, env.accountCalls, env.exeChecked)
				}
			})
		}
	}
}

func TestManagerInstall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		scope       Scope
		env         fakeEnv
		wantErr     error
		wantCalls   []string
		wantAccount int
		wantArgs    []string
		wantUnit    bool // SystemdScript set to the rendered unit
	}{
		{
			name: "linux system", scope: System,
			env:       fakeEnv{goos: "linux", platform: "linux-systemd", euid: 0},
			wantCalls: []string{"install"}, wantAccount: 1,
			wantArgs: []string{"daemon", "--system"}, wantUnit: true,
		},
		{
			name: "linux user needs no root and no account", scope: User,
			env:       fakeEnv{goos: "linux", platform: "linux-systemd", euid: 1000},
			wantCalls: []string{"install"}, wantAccount: 0,
			wantArgs: []string{"daemon"}, wantUnit: true,
		},
		{
			name: "already installed", scope: System,
			env:     fakeEnv{goos: "linux", platform: "linux-systemd", euid: 0, unitExists: true},
			wantErr: ErrAlreadyInstalled,
		},
		{
			name: "macOS system: kardianos defaults, no account", scope: System,
			env:       fakeEnv{goos: "darwin", platform: "darwin-launchd", euid: 0},
			wantCalls: []string{"install"}, wantAccount: 0,
			wantArgs: []string{"daemon", "--system"},
		},
		{
			name: "windows system: no euid to check", scope: System,
			env:       fakeEnv{goos: "windows", platform: "windows-service", euid: -1},
			wantCalls: []string{"install"},
			wantArgs:  []string{"daemon", "--system"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := tc.env
			m := newTestManager(t, tc.scope, &env)
			err := m.Install()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
				if len(env.ctl.calls) > 0 || env.accountCalls > 0 {
					t.Errorf("failed, yet touched the system: %v, account %d", env.ctl.calls, env.accountCalls)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(env.ctl.calls, tc.wantCalls) {
				t.Errorf("service calls = %v, want %v", env.ctl.calls, tc.wantCalls)
			}
			if env.accountCalls != tc.wantAccount {
				t.Errorf("account created %d times, want %d", env.accountCalls, tc.wantAccount)
			}
			// A system install also says it created the config file.
			if wantNotes := 2 * tc.wantAccount; len(env.notes) != wantNotes {
				t.Errorf("notices %q, want %d", env.notes, wantNotes)
			} else if wantNotes > 0 && env.notes[0] != "created the system user credbroker (fake useradd)" {
				t.Errorf("notice %q", env.notes[0])
			}
			cfg := env.ctl.cfg
			if cfg.Name != ServiceName || cfg.Executable != "/usr/local/bin/credbroker" || !reflect.DeepEqual(cfg.Arguments, tc.wantArgs) {
				t.Errorf("config: name %q, executable %q, arguments %q", cfg.Name, cfg.Executable, cfg.Arguments)
			}
			if cfg.Option["UserService"] != (tc.scope == User) {
				t.Errorf("UserService = %v for the %s", cfg.Option["UserService"], tc.scope)
			}
			script, _ := cfg.Option["SystemdScript"].(string)
			want, _ := m.Unit()
			if tc.wantUnit && script != want {
				t.Errorf("SystemdScript is not the rendered unit:\n%s", script)
			}
			if !tc.wantUnit && script != "" {
				t.Errorf("SystemdScript set on %s", tc.env.goos)
			}
		})
	}
}

func TestManagerControl(t *testing.T) {
	t.Parallel()
	failed := errors.New("exit status 1")
	for _, tc := range []struct {
		name      string
		do        func(*Manager) error
		env       fakeEnv
		wantErr   error
		wantCalls []string
		wantInMsg string
	}{
		{"start", (*Manager).Start, fakeEnv{unitExists: true}, nil, []string{"start"}, ""},
		{"start not installed", (*Manager).Start, fakeEnv{}, ErrNotInstalled, nil, "credbroker.service"},
		{"start fails: where to look", (*Manager).Start, fakeEnv{unitExists: true, ctl: fakeController{err: failed}}, failed, []string{"start"}, "journalctl -u credbroker"},
		{"stop", (*Manager).Stop, fakeEnv{unitExists: true}, nil, []string{"stop"}, ""},
		{"uninstall stops a running service first", (*Manager).Uninstall, fakeEnv{unitExists: true, ctl: fakeController{status: service.StatusRunning}}, nil, []string{"status", "stop", "uninstall"}, ""},
		{"uninstall a stopped service", (*Manager).Uninstall, fakeEnv{unitExists: true, ctl: fakeController{status: service.StatusStopped}}, nil, []string{"status", "uninstall"}, ""},
		{"uninstall not installed", (*Manager).Uninstall, fakeEnv{}, ErrNotInstalled, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := tc.env
			env.goos, env.platform, env.euid = "linux", "linux-systemd", 0
			m := newTestManager(t, System, &env)
			err := tc.do(m)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantInMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantInMsg)
			}
			if !reflect.DeepEqual(env.ctl.calls, tc.wantCalls) {
				t.Errorf("service calls = %v, want %v", env.ctl.calls, tc.wantCalls)
			}
		})
	}
}

func TestManagerStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		ctl     fakeController
		want    State
		wantErr bool
	}{
		{"running", fakeController{status: service.StatusRunning}, Running, false},
		{"stopped", fakeController{status: service.StatusStopped}, Stopped, false},
		{"not installed", fakeController{err: service.ErrNotInstalled}, NotInstalled, false},
		{"failed", fakeController{err: errors.New("service in failed state")}, Unknown, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Anyone may ask: a non-root euid must not matter.
			env := fakeEnv{goos: "linux", platform: "linux-systemd", euid: 1000, ctl: tc.ctl}
			m := newTestManager(t, System, &env)
			got, err := m.Status()
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("state = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestManagerUnitPath(t *testing.T) {
	t.Parallel()
	m, err := NewManager(Options{Scope: System, Executable: "/usr/bin/credbroker"})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := m.UnitPath(); p != "/etc/systemd/system/credbroker.service" {
		t.Errorf("system unit path = %q", p)
	}
	u, err := NewManager(Options{Scope: User, Executable: "/usr/bin/credbroker"})
	if err != nil {
		t.Fatal(err)
	}
	u.home = func() (string, error) { return "/home/alice", nil }
	if p, _ := u.UnitPath(); p != "/home/alice/.config/systemd/user/credbroker.service" {
		t.Errorf("user unit path = %q", p)
	}
}

// countingAccount stands for the system account: it counts creations.
type countingAccount struct{ n *int }

func (a countingAccount) ensure() (bool, error) { *a.n++; return true, nil }
func (a countingAccount) describe() string      { return "fake useradd" }

func testAccount(n *int) countingAccount { return countingAccount{n} }
