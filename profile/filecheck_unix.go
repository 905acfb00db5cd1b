//go:build unix

package profile

import (
	"fmt"
	"os"
	"syscall"
)

// CheckOwnership refuses a config file a daemon running as owner must not
// trust: one that is not a regular file, that belongs to another user than
// owner or root, or that group or others may write (its access rules
// would be theirs to write). strict (the system service) also refuses one
// that others may read, as 0640 allows at most. A missing file is fine:
// there is nothing to trust.
func CheckOwnership(path string, owner uint32, strict bool) error {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return &ConfigError{Path: path, Msg: fmt.Sprintf("not a regular file (%s): refusing to read it", fi.Mode().Type())}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && st.Uid != owner && st.Uid != 0 {
		return &ConfigError{Path: path, Msg: fmt.Sprintf("belongs to uid %d, not to the daemon's user (uid %d) or root: refusing to read it", st.Uid, owner),
			Fix: fmt.Sprintf("chown %d %s", owner, path)}
	}
	perm := fi.Mode().Perm()
	if perm&0o022 != 0 {
		return &ConfigError{Path: path, Msg: fmt.Sprintf("is writable by group or others (mode %04o): refusing to read it", perm),
			Fix: "chmod go-w " + path}
	}
	if strict && perm&0o007 != 0 {
		return &ConfigError{Path: path, Msg: fmt.Sprintf("is readable by others (mode %04o); the system service takes 0640 or stricter", perm),
			Fix: "chmod 0640 " + path}
	}
	return nil
}
