// Package harden keeps a process's secrets in its own memory: no core
// dump, no ptrace or /proc/PID/mem by other processes of the same user,
// and (for the daemon) no swapping. Linux only; elsewhere it does nothing
// and says so. It imports only the standard library, for the small
// credbroker program too.
package harden

// Report is what a process could do of it.
type Report struct {
	// Dumpable: the process can still be dumped or traced by its user.
	Dumpable bool
	// Locked: its memory is locked (not swapped out); LockError says why
	// not.
	Locked    bool
	LockError string
}
