package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

func newClearCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "clear [PROFILE...]",
		Short: "Drop cached sessions (all, or those PROFILE uses), in the daemon and the sealed cache",
		Long: `Drop cached temporary credentials, so that the next request goes back to STS:
every cached session, or those each PROFILE uses (the session its chain starts
with, GetSessionToken with or without MFA, which every profile built on the
same key shares, and its role sessions). The running daemon drops them from
its memory and from the sealed cache in the keyring; with no daemon running,
they are dropped from the sealed cache directly.

Keys, TOTP seeds and the record of used MFA time steps stay. A chain with MFA
needs a new code after this.`,
		Args: func(c *cobra.Command, args []string) error {
			for _, n := range args {
				if err := profile.ValidProfileName(n); err != nil {
					return usageError{c, err.Error()}
				}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(c.Context(), time.Minute)
			defer cancel()
			dropped, where, err := a.clearSessions(ctx, args)
			if err != nil {
				return err
			}
			for _, name := range dropped {
				fmt.Fprintf(a.stdout, "Dropped %s (%s).\n", broker.DescribeSession(name), name)
			}
			if len(dropped) == 0 {
				fmt.Fprintf(a.stdout, "No cached session to drop in %s.\n", where)
				return nil
			}
			fmt.Fprintf(a.stdout, "Dropped %d cached session(s) from %s.\n", len(dropped), where)
			return nil
		},
	}
}

// clearSessions drops the cached sessions profiles use (all when none is
// named): through the running daemon, which drops them from its memory and
// the sealed cache, or, when none runs, from the sealed cache directly.
// where says which it was.
func (a *app) clearSessions(ctx context.Context, profiles []string) (dropped []string, where string, err error) {
	cl, _ := a.client()
	dropped, err = cl.Clear(ctx, profiles)
	if a.passphraseWanted(err) {
		if err = a.givePassphrase(ctx, cl, true); err == nil {
			dropped, err = cl.Clear(ctx, profiles)
		}
	}
	if !errors.Is(err, wire.ErrNoDaemon) {
		return dropped, "the daemon on " + cl.Socket + " and the sealed cache", err
	}
	// No daemon: nothing is in memory anywhere; the sealed cache is the
	// keyring's, which this process opens itself.
	a.debugf("clear: no daemon answers on %s; dropping from the sealed cache directly", cl.Socket)
	b, r, err := a.broker()
	if err != nil {
		return nil, "", err
	}
	where = "the sealed cache (no daemon runs)"
	if len(profiles) == 0 {
		dropped, err = b.ClearAll()
		return dropped, where, err
	}
	var names []string
	for _, n := range profiles {
		chain, err := r.Resolve(n) // all of them before anything is dropped
		if err != nil {
			return nil, "", err
		}
		names = append(names, broker.SessionEntries(chain)...)
	}
	dropped, err = b.Clear(names)
	return dropped, where, err
}
