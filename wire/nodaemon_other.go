//go:build !unix

package wire

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
)

func isNoDaemon(err error) bool { return errors.Is(err, os.ErrNotExist) }

// CheckSocketDir: no daemon runs outside Unix systems.
func CheckSocketDir(string) error {
	return fmt.Errorf("the credbroker daemon needs a Unix system (peer credentials), not %s", runtime.GOOS)
}

// LockFile: not implemented outside Unix systems.
func LockFile(context.Context, string) (func(), error) {
	return nil, fmt.Errorf("file locks are not implemented on %s", runtime.GOOS)
}
