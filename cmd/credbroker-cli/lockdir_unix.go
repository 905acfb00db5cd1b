//go:build unix

package main

import (
	"os"
	"syscall"
)

// othersFolder reports whether dir belongs to another user than the
// caller (root's included): a daemon of another user, whose folder the
// caller may not write its prompt lock in.
func othersFolder(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid != uint32(os.Getuid())
}
