package install

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/kardianos/service"
)

var (
	// ErrNeedRoot: the operation changes or controls the system service and
	// the process is not root.
	ErrNeedRoot = errors.New("needs root")
	// ErrNotInstalled: there is no credbroker service of that scope.
	ErrNotInstalled = errors.New("the service is not installed")
	// ErrAlreadyInstalled: Install found a unit file in the way.
	ErrAlreadyInstalled = errors.New("the service is already installed")
	// ErrUnsupported: the platform's service manager cannot run the service
	// as asked (Linux without systemd, a user service on Windows).
	ErrUnsupported = errors.New("not supported here")
)

// RootRequiredError is returned when a change to the system service is
// attempted without root. It matches ErrNeedRoot.
type RootRequiredError struct {
	// Doing is what was attempted: "installing", "uninstalling", ...
	Doing string
}

func (e *RootRequiredError) Error() string {
	return e.Doing + " the system service needs root"
}

func (e *RootRequiredError) Is(target error) bool { return target == ErrNeedRoot }

// State is what the service manager says about the service.
type State int

const (
	Unknown State = iota
	Running
	Stopped
	NotInstalled
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Stopped:
		return "stopped"
	case NotInstalled:
		return "not installed"
	}
	return "unknown"
}

// Options configure a Manager.
type Options struct {
	Scope Scope
	// Executable is the credbroker binary the service runs; "" means the
	// running one (os.Executable).
	Executable string
	// Geteuid reports the effective user id; nil means os.Geteuid. Tests
	// set it to check the refusals without being root.
	Geteuid func() int
	// Notify receives one line for each change Install makes besides the
	// service definition itself (creating the system account); nil
	// discards them.
	Notify func(msg string)
}

// controller is the part of a kardianos service the Manager drives.
type controller interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Status() (service.Status, error)
}

// Manager installs, removes and controls the credbroker service of one
// scope through the platform's service manager.
type Manager struct {
	scope   Scope
	exe     string
	goos    string
	geteuid func() int
	notify  func(string)

	// platform names the service manager github.com/kardianos/service
	// detected ("linux-systemd", "darwin-launchd", "windows-service", ...).
	platform   func() string
	newService func(*service.Config) (controller, error)
	home       func() (string, error)
	// systemUnitDir is where kardianos/service writes system units.
	systemUnitDir string
	// account and checkExecutable are the Linux system service's own
	// steps (account_linux.go); elsewhere they do nothing.
	account interface {
		// ensure creates the account if missing and says whether it did.
		ensure() (created bool, err error)
		// describe is how it was created, for the notice.
		describe() string
	}
	checkExecutable func(path string) error
	// files is where install prepares the daemon's folders and files.
	files files
}

// NewManager returns a Manager for opts. It does not touch the system.
func NewManager(opts Options) (*Manager, error) {
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the credbroker executable: %w", err)
		}
	}
	m := &Manager{
		scope:    opts.Scope,
		exe:      exe,
		goos:     runtime.GOOS,
		geteuid:  opts.Geteuid,
		notify:   opts.Notify,
		platform: service.Platform,
		newService: func(c *service.Config) (controller, error) {
			return service.New(noopProgram{}, c)
		},
		home:            os.UserHomeDir,
		systemUnitDir:   "/etc/systemd/system",
		account:         newSystemAccount(),
		checkExecutable: checkSystemExecutable,
		files:           defaultFiles(),
	}
	if m.geteuid == nil {
		m.geteuid = os.Geteuid
	}
	if m.notify == nil {
		m.notify = func(string) {}
	}
	return m, nil
}

// noopProgram satisfies service.Interface, which kardianos asks for even to
// install or control a service. The daemon is started by the service
// manager through its command line (`credbroker daemon ...`), never
// through kardianos's Run, so Start and Stop have nothing to do.
type noopProgram struct{}

func (noopProgram) Start(service.Service) error { return nil }
func (noopProgram) Stop(service.Service) error  { return nil }

func (m *Manager) String() string { return "the credbroker " + m.scope.String() }

// Executable is the binary the service runs.
func (m *Manager) Executable() string { return m.exe }

// Unit renders the systemd unit Install writes on Linux (see SystemdUnit).
func (m *Manager) Unit() (string, error) { return SystemdUnit(m.scope, m.exe) }

// UnitPath is where Install writes the systemd unit on Linux: the system
// manager's /etc/systemd/system, or the user manager's
// ~/.config/systemd/user (where kardianos/service puts it).
func (m *Manager) UnitPath() (string, error) {
	if m.scope == System {
		return filepath.Join(m.systemUnitDir, ServiceName+".service"), nil
	}
	home, err := m.home()
	if err != nil {
		return "", fmt.Errorf("find the user's systemd unit folder: %w", err)
	}
	return filepath.Join(home, ".config", "systemd", "user", ServiceName+".service"), nil
}

// LogsCommand is the command that shows the service's output, for hints.
func (m *Manager) LogsCommand() string {
	switch m.goos {
	case "linux":
		if m.scope == User {
			return "journalctl --user -u " + ServiceName
		}
		return "journalctl -u " + ServiceName
	case "darwin":
		return "log show --predicate 'process == \"credbroker\"' --last 1h"
	}
	return ""
}

// Install defines the service with the platform's service manager and
// enables it to start at boot (system) or login (user); it does not start
// it. On Linux it writes the unit SystemdUnit renders and, for the system
// service, first creates the system account credbroker when it is missing.
// On macOS and Windows the definitions are kardianos/service's defaults,
// running the daemon as the service manager's default account.
func (m *Manager) Install() error {
	if err := m.preflight("installing"); err != nil {
		return err
	}
	cfg, err := m.config()
	if err != nil {
		return fmt.Errorf("install %s: %w", m, err)
	}
	if m.goos == "linux" {
		path, err := m.UnitPath()
		if err != nil {
			return fmt.Errorf("install %s: %w", m, err)
		}
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("install %s: %w: %s exists", m, ErrAlreadyInstalled, path)
		}
		if m.scope == System {
			if err := m.checkExecutable(m.exe); err != nil {
				return fmt.Errorf("install %s: %w", m, err)
			}
			created, err := m.account.ensure()
			if err != nil {
				return fmt.Errorf("install %s: %w", m, err)
			}
			if created {
				m.notify("created the system user " + SystemAccount + " (" + m.account.describe() + ")")
			}
		}
		if err := m.prepareFiles(); err != nil {
			return fmt.Errorf("install %s: %w", m, err)
		}
	}
	ctl, err := m.newService(cfg)
	if err != nil {
		return fmt.Errorf("install %s: %w", m, err)
	}
	if err := ctl.Install(); err != nil {
		return fmt.Errorf("install %s: %w", m, err)
	}
	return nil
}

// Uninstall stops the service if it runs and removes its definition. It
// keeps the system account, its state (/var/lib/credbroker holds the
// keyring) and /etc/credbroker: removing them would destroy stored keys.
func (m *Manager) Uninstall() error {
	if err := m.preflight("uninstalling"); err != nil {
		return err
	}
	ctl, err := m.installed()
	if err != nil {
		return fmt.Errorf("uninstall %s: %w", m, err)
	}
	if st, err := ctl.Status(); err == nil && st == service.StatusRunning {
		if err := ctl.Stop(); err != nil {
			return fmt.Errorf("uninstall %s: stop it: %w", m, m.withLogs(err))
		}
	}
	if err := ctl.Uninstall(); err != nil {
		return fmt.Errorf("uninstall %s: %w", m, err)
	}
	return nil
}

// Start asks the service manager to start the installed service.
func (m *Manager) Start() error {
	if err := m.preflight("starting"); err != nil {
		return err
	}
	ctl, err := m.installed()
	if err != nil {
		return fmt.Errorf("start %s: %w", m, err)
	}
	if err := ctl.Start(); err != nil {
		return fmt.Errorf("start %s: %w", m, m.withLogs(err))
	}
	return nil
}

// Stop asks the service manager to stop the service.
func (m *Manager) Stop() error {
	if err := m.preflight("stopping"); err != nil {
		return err
	}
	ctl, err := m.installed()
	if err != nil {
		return fmt.Errorf("stop %s: %w", m, err)
	}
	if err := ctl.Stop(); err != nil {
		return fmt.Errorf("stop %s: %w", m, m.withLogs(err))
	}
	return nil
}

// Status reports the service's state. Anyone may ask, root or not.
func (m *Manager) Status() (State, error) {
	if err := m.supported(); err != nil {
		return Unknown, fmt.Errorf("status of %s: %w", m, err)
	}
	cfg, err := m.config()
	if err != nil {
		return Unknown, fmt.Errorf("status of %s: %w", m, err)
	}
	ctl, err := m.newService(cfg)
	if err != nil {
		return Unknown, fmt.Errorf("status of %s: %w", m, err)
	}
	st, err := ctl.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return NotInstalled, nil
	case err != nil:
		return Unknown, fmt.Errorf("status of %s: %w", m, m.withLogs(err))
	case st == service.StatusRunning:
		return Running, nil
	case st == service.StatusStopped:
		return Stopped, nil
	}
	return Unknown, nil
}

// preflight refuses what cannot work before anything is changed: a
// system service change without root (Windows has no euid; its service
// control manager refuses non-administrators itself), or a platform the
// service cannot run on.
func (m *Manager) preflight(doing string) error {
	if m.scope == System && m.goos != "windows" && m.geteuid() != 0 {
		return &RootRequiredError{Doing: doing}
	}
	if err := m.supported(); err != nil {
		return fmt.Errorf("%s %s: %w", doing, m, err)
	}
	return nil
}

func (m *Manager) supported() error {
	if m.goos == "windows" && m.scope == User {
		// kardianos/service ignores UserService on Windows and would
		// install a machine-wide service instead.
		return fmt.Errorf("%w: Windows has no per-user services; install the system service", ErrUnsupported)
	}
	if p := m.platform(); m.goos == "linux" && p != "linux-systemd" {
		// Only the systemd unit carries the sandbox and passes the
		// passphrase as a credential; a SysV script or the like would do
		// neither.
		if p == "" {
			p = "no service manager"
		}
		return fmt.Errorf("%w: credbroker's service needs systemd, this system has %s", ErrUnsupported, p)
	}
	return nil
}

// installed returns the controller of an installed service. On Linux the
// unit file tells: systemctl would fail with a bare exit status.
func (m *Manager) installed() (controller, error) {
	if m.goos == "linux" {
		path, err := m.UnitPath()
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (no %s)", ErrNotInstalled, path)
		}
	}
	cfg, err := m.config()
	if err != nil {
		return nil, err
	}
	return m.newService(cfg)
}

// withLogs adds where to look: kardianos/service reports a failed
// systemctl or launchctl only by its exit status.
func (m *Manager) withLogs(err error) error {
	if logs := m.LogsCommand(); logs != "" {
		return fmt.Errorf("%w (see: %s)", err, logs)
	}
	return err
}

func (m *Manager) config() (*service.Config, error) {
	cfg := &service.Config{
		Name:        ServiceName,
		DisplayName: "credbroker",
		Description: "Temporary AWS credentials for credential_process, from keys kept in the OS keyring",
		Executable:  m.exe,
		Arguments:   Arguments(m.scope),
		Option: service.KeyValue{
			"UserService": m.scope == User,
			// launchd: start at boot or login, not only on demand.
			"RunAtLoad": true,
		},
	}
	if m.goos == "linux" {
		unit, err := m.Unit()
		if err != nil {
			return nil, err
		}
		cfg.Option["SystemdScript"] = unit
	}
	return cfg, nil
}
