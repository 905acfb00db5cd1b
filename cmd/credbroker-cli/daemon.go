package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/daemon"
	"github.com/credbroker/credbroker/install"
	"github.com/credbroker/credbroker/internal/harden"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

func newDaemonCmd(a *app) *cobra.Command {
	var system bool
	c := &cobra.Command{
		Use:   "daemon [--system]",
		Short: "Run the broker in the foreground, serving credentials over a Unix socket",
		Long: `Run the credbroker daemon in the foreground. It answers credential-process
from memory over a Unix socket ($CREDBROKER_SOCKET, default
$XDG_RUNTIME_DIR/credbroker/broker.sock; /run/credbroker/broker.sock with
--system), refreshes credentials ahead of expiry, and keeps serving still-valid
ones while STS is in trouble. Its config file is $CREDBROKER_CONFIG, default
~/.config/credbroker/config (/etc/credbroker/config with --system). credential-process starts it on demand, so you
rarely run it yourself; credbroker service install runs it as a service.

Who may fetch which profile is set by [access NAME] sections in the config
file; the daemon's own user may fetch everything no rule denies. Every grant
and refusal is appended to the audit log ([daemon] audit_log, default
~/.local/state/credbroker/audit.log, /var/log/credbroker/audit.log with
--system). The config file is re-read when it changes and on SIGHUP.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.runDaemon(c.Context(), system)
		},
	}
	c.Flags().BoolVar(&system, "system", false, "run as the system service (socket 0660 for [daemon] socket_group)")
	c.AddCommand(newDaemonStopCmd(a), newDaemonRestartCmd(a))
	return c
}

// systemGetenv is getenv for the system service: its config file is
// /etc/credbroker/config unless CREDBROKER_CONFIG names another.
func systemGetenv(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" || k != "CREDBROKER_CONFIG" {
			return v
		}
		return install.SystemConfig
	}
}

func (a *app) runDaemon(ctx context.Context, system bool) error {
	if system {
		a.getenv, a.cfg = systemGetenv(a.getenv), nil
	}
	if err := a.takePassphraseHandoff(); err != nil {
		return err
	}
	if a.filePassphrase != "" && environHas(wire.PassphraseVar) {
		// Started with the passphrase in its environment: start again
		// without it, handing it over on a pipe, so that it is not in
		// this long-lived process's /proc/PID/environ.
		return reexecWithPassphrase(a.filePassphrase)
	}
	a.daemonKeys = true
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Keys and sessions live in this process's memory for its whole life:
	// not swapped out where the memlock limit allows (said in status
	// otherwise); main made it not dumpable.
	hardening := harden.Report{Dumpable: harden.Dumpable(), Locked: true}
	if err := harden.LockMemory(); err != nil {
		hardening.Locked, hardening.LockError = false, err.Error()
	}
	socket := wire.UserSocket(a.getenv)
	if system && a.getenv("CREDBROKER_SOCKET") == "" {
		socket = wire.SystemSocket
	}
	// Its access rules are the config file's: nobody else may have
	// written them.
	if err := profile.CheckOwnership(a.configPath(), uint32(os.Getuid()), system); err != nil {
		return err
	}
	cfg, err := a.ownConfig()
	if err != nil {
		return err
	}
	keys, err := a.keystore()
	if err != nil {
		return err
	}
	if err := a.unlockAtStart(keys); err != nil {
		return err
	}
	b, err := broker.New(broker.Options{
		Keys:     keys,
		StateDir: a.stateDir(),
		Warn:     func(msg string) { log.Warn(msg) },
		// No Prompter: the daemon has no terminal; clients ask for codes.
	})
	if err != nil {
		return err
	}
	auditPath := cfg.Daemon.AuditLog
	if auditPath == "" {
		auditPath = filepath.Join(a.stateDir(), "audit.log")
		if system {
			auditPath = install.SystemAuditLog
		}
	}
	audit, err := daemon.OpenAuditLog(auditPath)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer audit.Close()
	d, err := daemon.New(daemon.Options{
		Broker:     b,
		Keys:       keys,
		KeyringID:  wire.KeyringID(a.getenv),
		Hardening:  hardening,
		Config:     cfg,
		Getenv:     a.getenv,
		Reload:     func() (*profile.Config, error) { return profile.LoadConfig(a.configPath()) },
		ConfigPath: a.configPath(),
		Socket:     socket,
		System:     system,
		Audit:      audit,
		Logger:     log,
		Owner:      uint32(os.Getuid()),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				d.Reload()
			case <-ctx.Done():
				return
			}
		}
	}()
	log.Info("starting", "config", a.configPath(), "keyring", keys.Backend(), "locked", keys.NeedsPassphrase(), "audit_log", auditPath)
	return d.Serve(ctx)
}

// unlockAtStart asks for the file keyring's passphrase on the terminal
// the daemon was started from, when there is one and no passphrase was
// given; a daemon started on demand has none, and waits locked until a
// client gives it one (credbroker unlock, or the next credential_process).
func (a *app) unlockAtStart(keys *keystore.Store) error {
	if !keys.NeedsPassphrase() || !isTerminal(a.stdin) {
		return nil
	}
	pass, err := mfa.ReadSecretFromTTY("", "Passphrase of the file keyring: ")
	if err != nil {
		return err
	}
	return keys.Unlock(pass)
}

func newUnlockCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "unlock [PROFILE]",
		Short: "Give the daemon the keyring's passphrase, or an MFA code for PROFILE (asked on the terminal)",
		Long: `Without PROFILE: give the daemon the file keyring's passphrase, asked on the
terminal without echo. A daemon started on demand gets the passphrase only
this way (or from CREDBROKER_FILE_PASSPHRASE of the credential_process call
that started it), never through its environment or command line.

With PROFILE: the same if the keyring is locked, then ask for an MFA code (or
take --mfa-code, or run the profile's mfa_process) and give it to the daemon,
which opens an MFA session with it (GetSessionToken) and serves PROFILE, and
every profile that shares the session, until the session runs out (a role
profile with mfa_serial and duration_seconds over 3600 spends the code on its
own AssumeRole instead). Needed only when no TOTP seed is stored and
credential-process runs without a terminal (an IDE, a background job).`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				if a.givenMFACode != "" {
					return usageError{c, "--mfa-code needs the PROFILE whose MFA device it is for"}
				}
				return nil
			}
			return exactProfile(c, args)
		},
		RunE: func(c *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(c.Context(), credentialProcessTimeout)
			defer cancel()
			if len(args) == 0 {
				return a.unlockKeyring(ctx)
			}
			name := args[0]
			cl, _, err := a.ask(ctx, name)
			if a.passphraseWanted(err) {
				if err = a.givePassphrase(ctx, cl, true); err == nil {
					_, err = cl.Credentials(ctx, name)
				}
			}
			if err == nil {
				fmt.Fprintf(a.stdout, "Profile %s is already unlocked.\n", name)
				return nil
			}
			// unlock prompts for mfa_required or mfa_refused (a wrong
			// code: ask for the next); any other answer (mfa_wait among
			// them) it returns as is.
			if _, err := a.unlock(ctx, cl, name, err); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Unlocked profile %s.\n", name)
			return nil
		},
	}
	addMFACodeFlag(c, a)
	return c
}

// unlockKeyring gives a running (or newly started) daemon the file
// keyring's passphrase, when it waits for one.
func (a *app) unlockKeyring(ctx context.Context) error {
	cl, autostart := a.client()
	if err := cl.Health(ctx); errors.Is(err, wire.ErrNoDaemon) && autostart {
		if err := cl.EnsureDaemon(ctx, a.startDaemon, a.daemonLog()); err != nil {
			return err
		}
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	if !st.Locked {
		fmt.Fprintf(a.stdout, "The daemon's %s keyring is already unlocked.\n", st.Keyring)
		return nil
	}
	if err := a.givePassphrase(ctx, cl, true); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Unlocked the daemon's %s keyring.\n", st.Keyring)
	return nil
}

// newDaemonStopCmd and newDaemonRestartCmd manage the user's own daemon.
func newDaemonStopCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the running daemon (it forgets what it held in memory; the sealed cache stays)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			stopped, err := a.stopDaemon(c.Context())
			if err != nil {
				return err
			}
			cl, _ := a.client()
			if !stopped {
				fmt.Fprintf(a.stdout, "No daemon answers on %s.\n", cl.Socket)
				return nil
			}
			fmt.Fprintf(a.stdout, "Stopped the daemon on %s.\n", cl.Socket)
			return nil
		},
	}
}

func newDaemonRestartCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "restart",
		Short: "Stop the running daemon and start a new one with this shell's settings",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if _, err := a.stopDaemon(c.Context()); err != nil {
				return err
			}
			cl, _ := a.client()
			ctx, cancel := context.WithTimeout(c.Context(), 30*time.Second)
			defer cancel()
			if err := cl.EnsureDaemon(ctx, a.startDaemon, a.daemonLog()); err != nil {
				return err
			}
			st, err := cl.Status(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Started a new daemon (pid %d) on %s.\n", st.PID, cl.Socket)
			if st.Locked && a.filePassphrase != "" {
				return cl.Unlock(ctx, a.filePassphrase)
			}
			return nil
		},
	}
}

// stopDaemon asks the daemon to stop and waits until its socket no longer
// answers (10 s at most, saying what it waits for after a second). It
// reports whether one was running.
func (a *app) stopDaemon(ctx context.Context) (bool, error) {
	cl, _ := a.client()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Stop(ctx); errors.Is(err, wire.ErrNoDaemon) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	said := false
	start := time.Now()
	for {
		if err := cl.Health(ctx); errors.Is(err, wire.ErrNoDaemon) {
			return true, nil
		}
		if !said && time.Since(start) > time.Second {
			fmt.Fprintf(a.stderr, "credbroker: waiting for the daemon on %s to finish what it is doing...\n", cl.Socket)
			said = true
		}
		select {
		case <-ctx.Done():
			return true, fmt.Errorf("the daemon on %s was asked to stop but still answers after 10 s", cl.Socket)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func newStatusCmd(a *app) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show what the daemon serves (never a secret)",
		Long: `Show what the daemon serves: its process, socket and keyring, and for each
profile its state, when its credentials expire, the STS endpoint and role they
come from and the last error. --output json prints the daemon's answer as it
is (GET /v1/status).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkOutput(c, output); err != nil {
				return err
			}
			cl, _ := a.client()
			ctx, cancel := context.WithTimeout(c.Context(), 10*time.Second)
			defer cancel()
			st, err := cl.Status(ctx)
			if err != nil {
				return err
			}
			if output == "json" {
				if st.Profiles == nil {
					st.Profiles = []wire.ProfileStatus{}
				}
				return printJSON(a.stdout, st)
			}
			fmt.Fprintf(a.stdout, "daemon pid %d on %s, up since %s, %d requests\n", st.PID, cl.Socket, st.Started.Format(time.RFC3339), st.Requests)
			if st.Locked {
				fmt.Fprintf(a.stdout, "the %s keyring is locked: run credbroker unlock\n", st.Keyring)
			}
			memory := "not dumpable"
			if st.Dumpable {
				memory = "dumpable (this system offers no protection)"
			}
			if st.MemoryLocked {
				memory += ", memory locked"
			} else if st.MemoryLockError != "" {
				memory += ", memory not locked (" + st.MemoryLockError + ": raise the memlock limit, e.g. LimitMEMLOCK=)"
			}
			fmt.Fprintf(a.stdout, "memory: %s\n", memory)
			if st.ConfigError != "" {
				fmt.Fprintf(a.stdout, "config not reloaded, still using the previous one: %s\n", st.ConfigError)
			}
			if sk := st.ClockSkew; sk != nil {
				fmt.Fprintln(a.stdout, clockLine(sk))
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tSTATE\tEXPIRES\tENDPOINT\tROLE\tLAST ERROR")
			for _, p := range st.Profiles {
				exp := "-"
				if p.Expiration != nil {
					exp = p.Expiration.Local().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Profile, p.State, exp, dash(p.Endpoint), dash(p.RoleARN), dash(p.LastError))
			}
			return w.Flush()
		},
	}
	outputFlag(c, &output)
	return c
}

// clockLine says how far this machine's clock is from STS's, and what to
// do about it.
func clockLine(sk *wire.ClockSkew) string {
	off := time.Duration(sk.Seconds * float64(time.Second)).Round(time.Second)
	dir := "behind"
	if off < 0 {
		off, dir = -off, "ahead of"
	}
	return fmt.Sprintf("clock: this machine's clock is %s %s STS's (the Date header of %s at %s): STS refuses requests signed more than 5 minutes off; set it right (timedatectl set-ntp true, chrony or ntpd)",
		off, dir, sk.Endpoint, sk.Measured.Local().Format(time.RFC3339))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
