//go:build unix

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// handoffVar names the descriptor a daemon started again without its
// passphrase in the environment reads it from.
const handoffVar = "CREDBROKER_PASSPHRASE_FD"

// environHas reports whether the environment this process was started
// with (what /proc/self/environ shows, whatever Unsetenv did since) holds
// name.
func environHas(name string) bool {
	data, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if bytes.HasPrefix(kv, []byte(name+"=")) {
			return true
		}
	}
	return false
}

// reexecWithPassphrase runs this program again in this process, with the
// same arguments and without the passphrase in its environment, and hands
// it the passphrase on a pipe (descriptor 3).
func reexecWithPassphrase(pass string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, pass); err != nil { // far below a pipe's buffer
		return err
	}
	w.Close()
	if err := unix.Dup2(int(r.Fd()), 3); err != nil { // dup2 clears close-on-exec
		return fmt.Errorf("hand the passphrase over: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := append(os.Environ(), handoffVar+"=3")
	return syscall.Exec(exe, os.Args, env)
}

// takePassphraseHandoff reads a passphrase handed over by
// reexecWithPassphrase.
func (a *app) takePassphraseHandoff() error {
	fdText := a.getenv(handoffVar)
	if fdText == "" {
		return nil
	}
	_ = os.Unsetenv(handoffVar)
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd < 3 {
		return fmt.Errorf("%s=%q is not a descriptor", handoffVar, fdText)
	}
	f := os.NewFile(uintptr(fd), "passphrase")
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return fmt.Errorf("read the passphrase handed over: %w", err)
	}
	a.filePassphrase = string(data)
	return nil
}
