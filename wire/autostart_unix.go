//go:build unix

package wire

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// StartDaemon starts `cli daemon` in the background, in its own session,
// with the part of env it needs (DaemonEnv: its keyring's settings, never
// the passphrase), its output appended to logPath. The channel yields if
// the daemon exits, with the error it printed.
func StartDaemon(cli string, env []string, logPath string) (<-chan error, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return nil, err
	}
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(cli, "daemon")
	cmd.Env = DaemonEnv(env)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	closeInheritedFiles()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		exited <- daemonExitError(logPath, err)
	}()
	return exited, nil
}

// closeInheritedFiles marks every descriptor above stderr close-on-exec.
// Go does so for the files it opens, but not for those this process
// inherited (a terminal passed as an extra descriptor, a pipe of the
// caller's): a long-lived daemon must not hold them open, or whoever waits
// for them to close (a pty, a pipe) waits forever.
func closeInheritedFiles() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		for fd := 3; fd < 1024; fd++ {
			syscall.CloseOnExec(fd)
		}
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
