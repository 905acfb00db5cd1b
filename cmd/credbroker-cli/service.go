package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/install"
)

func newServiceCmd(a *app) *cobra.Command { return newServiceCmdWith(a, nil) }

// newServiceCmdWith lets tests adjust the install options (the effective
// uid, the executable) so that no test can reach the real service manager.
func newServiceCmdWith(a *app, adjust func(*install.Options)) *cobra.Command {
	var user bool
	manager := func() (*install.Manager, error) {
		opts := install.Options{
			Scope:  install.System,
			Notify: func(msg string) { fmt.Fprintln(a.stdout, msg) },
		}
		if user {
			opts.Scope = install.User
		}
		if adjust != nil {
			adjust(&opts)
		}
		return install.NewManager(opts)
	}
	// explain adds to an error what the user can do about it.
	explain := func(err error) error {
		flag := ""
		if user {
			flag = " --user"
		}
		switch {
		case errors.Is(err, install.ErrNeedRoot):
			return fmt.Errorf("%w: run with sudo, or use --user", err)
		case errors.Is(err, install.ErrNotInstalled):
			return fmt.Errorf("%w; run: credbroker service install%s", err, flag)
		case errors.Is(err, install.ErrAlreadyInstalled):
			return fmt.Errorf("%w; to replace it, run: credbroker service uninstall%s", err, flag)
		}
		return err
	}

	svc := &cobra.Command{
		Use:   "service",
		Short: "Install and control credbroker's daemon as a system (or user) service",
		Long: `service installs, removes, starts, stops and queries the credbroker daemon as
a service of the operating system (systemd on Linux, launchd on macOS, the
service control manager on Windows).

The system service runs "credbroker daemon --system". On Linux it runs as the
system user credbroker (install creates it with useradd when missing), in a
hardened systemd unit ("credbroker service unit" prints it), with:

` + fmt.Sprintf("  %-31s %s\n", install.SystemConfig, "profiles") +
			fmt.Sprintf("  %-31s %s\n", install.SystemPassphrase, "the file keyring's passphrase (root only;") +
			fmt.Sprintf("  %-31s %s\n", "", "the daemon gets it as a systemd credential)") +
			fmt.Sprintf("  %-31s %s\n", install.SystemKeyringDir, "the encrypted keyring") +
			fmt.Sprintf("  %-31s %s\n", install.SystemSocket, "the socket, for the group credbroker") +
			fmt.Sprintf("  %-31s %s\n", install.SystemAuditLog, "who got which credentials") + `
With --user, the service is "credbroker daemon" run by your own service
manager (systemd --user, a launchd agent) and needs no root. Windows has no
user services.`,
		Args: serviceNoArgs,
		RunE: func(c *cobra.Command, args []string) error { return c.Help() },
	}
	svc.PersistentFlags().BoolVar(&user, "user", false, "your own user service instead of the system service")

	svc.AddCommand(&cobra.Command{
		Use:   "install",
		Short: "Define the service and enable it at boot (or login with --user); does not start it",
		Args:  serviceNoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			m, err := manager()
			if err != nil {
				return err
			}
			if err := m.Install(); err != nil {
				return explain(err)
			}
			where := ""
			if runtime.GOOS == "linux" {
				if p, err := m.UnitPath(); err == nil {
					where = " (" + p + ")"
				}
			}
			fmt.Fprintf(a.stdout, "installed %s%s\n", m, where)
			switch {
			case user:
				fmt.Fprintln(a.stdout, "next, run: credbroker service start --user")
				fmt.Fprintln(a.stdout, "with the file keyring, the daemon waits for its passphrase: run credbroker unlock after each login")
			case runtime.GOOS == "linux":
				fmt.Fprintf(a.stdout, "next: write the profiles to %s (owner root, group %s, mode 0640: the daemon refuses a file others may write or read)\n", install.SystemConfig, install.SystemAccount)
				fmt.Fprintf(a.stdout, "and the keyring passphrase to %s (owner root, mode 0600), then run: sudo credbroker service start\n", install.SystemPassphrase)
				fmt.Fprintf(a.stdout, "clients must be in the group %s to use %s\n", install.SystemAccount, install.SystemSocket)
			default:
				fmt.Fprintln(a.stdout, "next, run: credbroker service start")
			}
			return nil
		},
	})
	svc.AddCommand(&cobra.Command{
		Use:   "uninstall",
		Short: "Stop the service and remove its definition (keeps the keyring, config and system user)",
		Args:  serviceNoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			m, err := manager()
			if err != nil {
				return err
			}
			if err := m.Uninstall(); err != nil {
				return explain(err)
			}
			fmt.Fprintf(a.stdout, "uninstalled %s\n", m)
			if !user && runtime.GOOS == "linux" {
				fmt.Fprintf(a.stdout, "kept %s (the keyring), /etc/credbroker and the user %s\n", "/var/lib/credbroker", install.SystemAccount)
			}
			return nil
		},
	})
	for _, ctl := range []struct {
		use, short, done string
		do               func(*install.Manager) error
	}{
		{"start", "Start the installed service", "started", (*install.Manager).Start},
		{"stop", "Stop the service", "stopped", (*install.Manager).Stop},
	} {
		svc.AddCommand(&cobra.Command{
			Use:   ctl.use,
			Short: ctl.short,
			Args:  serviceNoArgs,
			RunE: func(c *cobra.Command, args []string) error {
				m, err := manager()
				if err != nil {
					return err
				}
				if err := ctl.do(m); err != nil {
					return explain(err)
				}
				fmt.Fprintf(a.stdout, "%s %s\n", ctl.done, m)
				return nil
			},
		})
	}
	svc.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Print whether the service is running, stopped or not installed",
		Args:  serviceNoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			m, err := manager()
			if err != nil {
				return err
			}
			st, err := m.Status()
			if err != nil {
				return explain(err)
			}
			fmt.Fprintf(a.stdout, "%s: %s\n", m, st)
			return nil
		},
	})
	svc.AddCommand(&cobra.Command{
		Use:   "unit",
		Short: "Print the systemd unit that install writes on Linux",
		Long: `unit prints the systemd unit that "credbroker service install" writes on
Linux, with this executable's path, so that you can review it or check it
with: systemd-analyze security --offline=true FILE`,
		Args: serviceNoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			m, err := manager()
			if err != nil {
				return err
			}
			unit, err := m.Unit()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(a.stdout, unit)
			return err
		},
	})
	return svc
}

// serviceNoArgs makes a stray argument a usage error (with its --help hint),
// like the other commands' argument checks.
func serviceNoArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		if c.HasSubCommands() {
			return usageError{c, fmt.Sprintf("unknown command %q for %s", args[0], c.CommandPath())}
		}
		return usageError{c, c.CommandPath() + " takes no arguments"}
	}
	return nil
}
