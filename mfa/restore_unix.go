//go:build unix

package mfa

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// restoreOnSignal puts the terminal back as it is now if the process is
// interrupted (^C, SIGTERM, SIGHUP) while echo is off, then lets the
// signal have its usual effect. Without it, ^C at a passphrase prompt
// leaves the user's shell without echo.
func restoreOnSignal(fd int) (stop func()) {
	state, err := term.GetState(fd)
	if err != nil {
		return func() {}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			_ = term.Restore(fd, state)
			signal.Reset(sig)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
