//go:build linux

package keystore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// stopAutolaunchedBus undoes a side effect of importing keyring. When a
// process starts without DBUS_SESSION_BUS_ADDRESS (and without
// /run/user/<uid>/bus), keyring's init asks godbus for the session bus, and
// godbus runs dbus-launch: that starts a session dbus-daemon which outlives
// the test binary. The returned func stops that daemon and only that one: the
// address must be absent from the environment the process started with, and
// the daemon answering at it must be a dbus-daemon started after this process.
func stopAutolaunchedBus() (stop func()) {
	noop := func() {}
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return noop
	}
	// /proc/self/environ is the environment at exec, before godbus's Setenv.
	initial, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		return noop
	}
	for _, kv := range bytes.Split(initial, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("DBUS_SESSION_BUS_ADDRESS=")); ok && len(v) > 0 && string(v) != "autolaunch:" {
			return noop
		}
	}
	pid, err := busDaemonPID(addr)
	if err != nil {
		return noop
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "dbus-daemon" {
		return noop
	}
	mine, err1 := startTime("self")
	theirs, err2 := startTime(strconv.Itoa(pid))
	if err1 != nil || err2 != nil || theirs < mine {
		return noop
	}
	return func() { _ = syscall.Kill(pid, syscall.SIGTERM) }
}

// busDaemonPID finds the process listening at a unix: bus address: the one
// holding the socket that /proc/net/unix lists under the address's path.
// (SO_PEERCRED would name the process that called listen, which dbus-daemon
// --fork does before it forks.)
func busDaemonPID(addr string) (int, error) {
	first, _, _ := strings.Cut(addr, ";")
	params, ok := strings.CutPrefix(first, "unix:")
	if !ok {
		return 0, errors.New("not a unix bus address")
	}
	var sock string
	for _, kv := range strings.Split(params, ",") {
		if v, ok := strings.CutPrefix(kv, "path="); ok {
			sock = v
		} else if v, ok := strings.CutPrefix(kv, "abstract="); ok {
			sock = "@" + v
		}
	}
	if sock == "" {
		return 0, errors.New("no socket in bus address")
	}
	table, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, line := range strings.Split(string(table), "\n") {
		// Num RefCount Protocol Flags Type St Inode Path
		f := strings.Fields(line)
		if len(f) == 8 && f[7] == sock {
			inodes["socket:["+f[6]+"]"] = true
		}
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && inodes[link] {
				return pid, nil
			}
		}
	}
	return 0, errors.New("no process holds the bus socket")
}

// startTime is field 22 of /proc/<pid>/stat: clock ticks after boot.
func startTime(pid string) (uint64, error) {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; it ends at the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	fields := strings.Fields(string(stat[i+1:]))
	const starttime = 22 - 3 // fields after the name start at field 3
	if len(fields) <= starttime {
		return 0, errors.New("malformed stat")
	}
	return strconv.ParseUint(fields[starttime], 10, 64)
}
