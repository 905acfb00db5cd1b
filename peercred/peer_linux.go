package peercred

import (
	"errors"
	"math"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

func peerCredentialsFD(sysfd uintptr) (Peer, error) {
	fd := int(sysfd)
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return Peer{}, os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	// The kernel reports -1 for a socket that never had a peer (an
	// unconnected datagram socket): not an identity to authorise.
	if cred.Uid == math.MaxUint32 || cred.Gid == math.MaxUint32 {
		return Peer{}, errors.New("socket has no peer")
	}
	groups, err := peerGroups(fd)
	if err != nil {
		return Peer{}, err
	}
	return Peer{UID: cred.Uid, GID: cred.Gid, Groups: groups, PID: int(cred.Pid)}, nil
}

// peerGroups reads SO_PEERGROUPS, which x/sys/unix does not wrap: the
// option fills an array of gid_t and answers ERANGE with the size it needs.
// Kernels before 4.13 do not know it (ENOPROTOOPT); then the groups are
// unknown (nil) rather than read from /proc/PID/status, where the pid may
// already belong to another process.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for range 4 {
		size := uint32(len(buf) * 4) // socklen_t
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		switch errno {
		case 0:
			groups := make([]uint32, size/4) // empty, not nil: known to be none
			copy(groups, buf)
			return groups, nil
		case unix.ERANGE:
			if int(size/4) <= len(buf) {
				return nil, errors.New("getsockopt SO_PEERGROUPS: ERANGE without a larger size")
			}
			buf = make([]uint32, size/4)
		case unix.ENOPROTOOPT, unix.ENOSYS:
			return nil, nil
		default:
			return nil, os.NewSyscallError("getsockopt SO_PEERGROUPS", errno)
		}
	}
	// Only a group list growing between calls gets here; the peer's
	// credentials are fixed at connect time, so this does not happen.
	return nil, errors.New("getsockopt SO_PEERGROUPS: group list keeps growing")
}

func peerExecutable(pid int) string {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return ""
	}
	return exe
}
