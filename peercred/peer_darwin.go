package peercred

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// xucredVersion is XUCRED_VERSION of <sys/ucred.h>, which x/sys/unix does
// not define: a struct of another version would be read wrong.
const xucredVersion = 0

func peerCredentialsFD(sysfd uintptr) (Peer, error) {
	fd := int(sysfd)
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return Peer{}, os.NewSyscallError("getsockopt LOCAL_PEERCRED", err)
	}
	if cred.Version != xucredVersion {
		return Peer{}, fmt.Errorf("getsockopt LOCAL_PEERCRED: xucred version %d, want %d", cred.Version, xucredVersion)
	}
	n := int(cred.Ngroups)
	if n < 1 || n > len(cred.Groups) {
		return Peer{}, fmt.Errorf("getsockopt LOCAL_PEERCRED: %d groups", n)
	}
	// As in every BSD credential, cr_groups[0] is the effective gid.
	p := Peer{UID: cred.Uid, GID: cred.Groups[0], Groups: append([]uint32(nil), cred.Groups[:n]...)}
	// LOCAL_PEERPID (macOS 10.8) only serves the audit log: when it
	// fails the pid is unknown, not a reason to refuse the peer.
	if pid, err := unix.GetsockoptInt(fd, unix.SOL_LOCAL, unix.LOCAL_PEERPID); err == nil && pid > 0 {
		p.PID = pid
	}
	return p, nil
}

// peerExecutable: macOS tells a pid's path only through libproc
// (proc_pidpath), which needs cgo; the audit log goes without.
func peerExecutable(int) string { return "" }
