//go:build !unix

package wire

import (
	"fmt"
	"runtime"
)

// StartDaemon: the daemon needs a Unix system.
func StartDaemon(string, []string, string) (<-chan error, error) {
	return nil, fmt.Errorf("starting the daemon on demand is not supported on %s", runtime.GOOS)
}
