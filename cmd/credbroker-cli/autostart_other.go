//go:build !unix

package main

import (
	"fmt"
	"runtime"
)

// startDaemon: the daemon needs a Unix system.
func (a *app) startDaemon() (<-chan error, error) {
	return nil, fmt.Errorf("starting the daemon on demand is not supported on %s", runtime.GOOS)
}
