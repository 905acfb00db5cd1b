//go:build !linux

package harden

import (
	"errors"
	"runtime"
)

var errUnsupported = errors.New("not supported on " + runtime.GOOS)

// Process does nothing outside Linux.
func Process() error { return errUnsupported }

// Dumpable is true outside Linux: nothing was done.
func Dumpable() bool { return true }

// LockMemory does nothing outside Linux.
func LockMemory() error { return errUnsupported }
