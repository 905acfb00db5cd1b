//go:build linux

package harden

import (
	"fmt"
	"syscall"
)

const (
	prSetDumpable = 4 // PR_SET_DUMPABLE, <linux/prctl.h>
	prGetDumpable = 3 // PR_GET_DUMPABLE
	mclOnFault    = 4 // MCL_ONFAULT (Linux 4.4): lock pages as they are touched
)

// Process makes this process not dumpable (no core file, no ptrace attach
// and no /proc/PID/mem, environ or maps for other processes of its user:
// those files become root's) and sets its core size limit to 0. A same-uid
// `gcore` recovered a daemon's long-lived key before.
func Process() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0); errno != 0 {
		return errno
	}
	return syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0})
}

// Dumpable reports PR_GET_DUMPABLE.
func Dumpable() bool {
	r, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetDumpable, 0, 0)
	return errno == 0 && r != 0
}

// LockMemory locks the process's pages in memory as they are touched
// (mlockall with MCL_ONFAULT, so reserved but unused address space costs
// nothing), so that no secret is written to swap. Only where the memlock
// limit is at least minMemlock: with MCL_FUTURE every later mapping counts
// against the limit, and a Go heap that grows past a small one would make
// the runtime abort. Otherwise it locks nothing and says why: the caller
// goes on.
func LockMemory() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(memlockLimit, &lim); err != nil {
		return err
	}
	if lim.Cur != rlimInfinity && lim.Cur < minMemlock {
		return fmt.Errorf("the memlock limit is %d KiB, too low to lock a Go program's memory safely (raise it to unlimited: LimitMEMLOCK=infinity)", lim.Cur>>10)
	}
	return syscall.Mlockall(syscall.MCL_CURRENT | syscall.MCL_FUTURE | mclOnFault)
}

const (
	memlockLimit = 8               // RLIMIT_MEMLOCK
	rlimInfinity = ^uint64(0)      // RLIM_INFINITY
	minMemlock   = uint64(4) << 30 // 4 GiB
)
