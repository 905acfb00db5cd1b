package main

import (
	"os"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/wire"
)

// startDaemon starts this program's `daemon` in the background (see
// wire.StartDaemon), with the session bus address as this process got it.
func (a *app) startDaemon() (<-chan error, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return wire.StartDaemon(exe, keystore.ChildEnv(), a.daemonLog())
}
