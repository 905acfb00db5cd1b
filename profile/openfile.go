package profile

import (
	"fmt"
	"os"
)

// OpenRegular opens path for reading only when it is a regular file: a
// FIFO or a device named as a config file, a session policy or a CA bundle
// would block the read (or never end) in the CLI or the daemon. The error
// of another kind of file is a *ConfigError naming it; others are os's
// (os.ErrNotExist stays testable with errors.Is).
func OpenRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &ConfigError{Path: path, Msg: fmt.Sprintf("not a regular file (%s): refusing to read it", fi.Mode().Type())}
	}
	return os.Open(path)
}
