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
	"github.com/credbroker/credbroker/keystore"
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
ones while STS is in trouble. credential-process starts it on demand, so you
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
	return c
}

func (a *app) runDaemon(ctx context.Context, system bool) error {
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	socket := wire.UserSocket(a.getenv)
	if system && a.getenv("CREDBROKER_SOCKET") == "" {
		socket = wire.SystemSocket
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	keys, err := a.keystore()
	if err != nil {
		return err
	}
	if err := unlockKeystore(keys); err != nil {
		return err
	}
	b, err := broker.New(broker.Options{
		Keys: keys,
		Warn: func(msg string) { log.Warn(msg) },
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
	log.Info("starting", "config", a.configPath(), "keyring", keys.Backend(), "audit_log", auditPath)
	return d.Serve(ctx)
}

// unlockKeystore reads one stored item so that a file keyring asks for its
// passphrase now, at start, on the terminal the daemon was started from,
// rather than at the first request, when nobody may be there to answer.
func unlockKeystore(keys *keystore.Store) error {
	items, err := keys.List()
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	if _, err := keys.Get(items[0].Kind, items[0].Name); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		return err
	}
	return nil
}

func newUnlockCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "unlock PROFILE",
		Short: "Give the daemon an MFA code for PROFILE (asked on the terminal)",
		Long: `Ask for an MFA code on the terminal and give it to the daemon, which opens an
MFA session with it (GetSessionToken) and serves PROFILE, and every profile
that shares the session, until the session runs out. Needed only when no TOTP
seed is stored and credential-process runs without a terminal (an IDE, a
background job).`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			ctx, cancel := context.WithTimeout(c.Context(), credentialProcessTimeout)
			defer cancel()
			cl, _, err := a.ask(ctx, name)
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
}

func newStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what the daemon serves (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, _ := a.client()
			ctx, cancel := context.WithTimeout(c.Context(), 10*time.Second)
			defer cancel()
			st, err := cl.Status(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "daemon pid %d on %s, up since %s, %d requests\n", st.PID, cl.Socket, st.Started.Format(time.RFC3339), st.Requests)
			if st.ConfigError != "" {
				fmt.Fprintf(a.stdout, "config not reloaded, still using the previous one: %s\n", st.ConfigError)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tSTATE\tEXPIRES\tROLE\tLAST ERROR")
			for _, p := range st.Profiles {
				exp := "-"
				if p.Expiration != nil {
					exp = p.Expiration.Local().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Profile, p.State, exp, dash(p.RoleARN), dash(p.LastError))
			}
			return w.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
