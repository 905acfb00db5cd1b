package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/credbroker/credbroker/profile"
)

// watchConfig reloads the config file when it changes (checked every two
// seconds: a stat, no parse) and on SIGHUP (see the daemon command).
func (d *Daemon) watchConfig(ctx context.Context) {
	var last os.FileInfo
	if fi, err := os.Stat(d.opts.ConfigPath); err == nil {
		last = fi
	}
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(d.opts.ConfigPath)
		if err != nil && last == nil {
			continue
		}
		if err == nil && last != nil && fi.ModTime().Equal(last.ModTime()) && fi.Size() == last.Size() {
			continue
		}
		last = fi
		d.Reload()
	}
}

// Reload re-reads the config file and, when it is whole and valid (read
// at once, checked, then swapped: profiles, resolver and access rules
// together), serves from it. A broken, vanished or untrustworthy file
// (another owner, writable by others) is logged, and until a valid one is
// back the daemon serves its own user only, from the previous config: a
// typo must not take its user's credentials away, nor leave rules in force
// that the file no longer says (a deny rule being added). The [daemon]
// section's socket_group takes effect at the next start.
func (d *Daemon) Reload() {
	if d.opts.Reload == nil {
		return
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	snap, err := d.loadSnapshot()
	if err != nil {
		msg := err.Error()
		d.configErr.Store(&msg)
		d.log.Error("config not reloaded: serving the daemon's own user only until it is fixed", "err", err)
		return
	}
	d.snap.Store(snap)
	d.resetAll() // and what callers' settings resolved with the old one
	d.configErr.Store(nil)
	d.log.Info("config reloaded", "path", d.opts.ConfigPath, "profiles", len(snap.cfg.Profiles), "access_rules", len(snap.cfg.Access))
}

func (d *Daemon) loadSnapshot() (*snapshot, error) {
	if err := profile.CheckOwnership(d.opts.ConfigPath, d.opts.Owner, d.opts.System); err != nil {
		return nil, err
	}
	_, err := os.Stat(d.opts.ConfigPath)
	if errors.Is(err, os.ErrNotExist) && d.hadConfigFile.Load() {
		return nil, fmt.Errorf("%s is gone", d.opts.ConfigPath)
	}
	if err == nil {
		d.hadConfigFile.Store(true)
	}
	var cfg *profile.Config
	if cfg, err = d.opts.Reload(); err != nil {
		return nil, err
	}
	return d.newSnapshot(cfg)
}
