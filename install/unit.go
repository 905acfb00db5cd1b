package install

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Scope says which service manager runs the daemon, and as whom.
type Scope int

const (
	// System is the machine's service: `credbroker daemon --system` run by
	// the system service manager as the dedicated account credbroker.
	System Scope = iota
	// User is the invoking user's own service: `credbroker daemon` run by
	// the user's service manager (systemd --user, a launchd agent).
	User
)

func (s Scope) String() string {
	if s == User {
		return "user service"
	}
	return "system service"
}

// Names and paths of the system service. The daemon reads them from the
// environment the unit sets (and systemd's own $STATE_DIRECTORY,
// $RUNTIME_DIRECTORY, $LOGS_DIRECTORY and $CREDENTIALS_DIRECTORY); they are
// exported so that the daemon and the documentation use the same values.
const (
	// ServiceName is the unit's name without ".service", the launchd label
	// and the Windows service name.
	ServiceName = "credbroker"
	// SystemAccount is the user and group the system service runs as.
	SystemAccount = "credbroker"

	SystemConfig     = "/etc/credbroker/config"
	SystemPassphrase = "/etc/credbroker/passphrase"
	SystemKeyringDir = "/var/lib/credbroker/keyring"
	SystemSocket     = "/run/credbroker/broker.sock"
	SystemAuditLog   = "/var/log/credbroker/audit.log"

	// PassphraseCredential is the name of the systemd credential that
	// carries the file keyring's passphrase (LoadCredential=).
	PassphraseCredential = "passphrase"
)

// Arguments returns the daemon's command line after the executable.
func Arguments(scope Scope) []string {
	if scope == User {
		return []string{"daemon"}
	}
	return []string{"daemon", "--system"}
}

// SystemdUnit renders the systemd unit that runs exe as the daemon for scope.
// The text is complete: Install hands it to github.com/kardianos/service as
// its SystemdScript, whose template engine copies text without "{{" as it
// is, so what SystemdUnit returns is byte for byte the file Install writes.
//
// exe must be an absolute path without control characters or "{{".
func SystemdUnit(scope Scope, exe string) (string, error) {
	execStart, err := execLine(exe, Arguments(scope))
	if err != nil {
		return "", err
	}
	var unit string
	if scope == User {
		unit = strings.Replace(userUnit, "@EXEC_START@", execStart, 1)
	} else {
		unit = strings.Replace(systemUnit, "@EXEC_START@", execStart, 1)
	}
	return unit, nil
}

// execLine quotes exe and args for ExecStart= (systemd.service(5),
// "Command lines"): a word with characters other than a safe set is
// double-quoted, and "%", which starts a specifier in every word, quoted or
// not, is doubled. systemd refuses an executable whose name holds a quote
// or a backslash, and may expand "$" in it, so such a path is refused here
// rather than written into a unit that would not start.
func execLine(exe string, args []string) (string, error) {
	if !filepath.IsAbs(exe) {
		return "", fmt.Errorf("executable %q: not an absolute path", exe)
	}
	if strings.Contains(exe, "{{") {
		// kardianos/service would read it as a template action.
		return "", fmt.Errorf("executable %q: a path with \"{{\" cannot go into a unit file", exe)
	}
	for _, r := range exe {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`"'\$`, r) {
			return "", fmt.Errorf("executable %q: systemd cannot run a path with quotes, backslashes, \"$\" or control characters; move the binary", exe)
		}
	}
	words := make([]string, 0, 1+len(args))
	for _, w := range append([]string{exe}, args...) {
		words = append(words, quoteExecWord(w))
	}
	return strings.Join(words, " "), nil
}

// quoteExecWord quotes one word of a command line. Words reaching it hold
// no quote, backslash or "$" (execLine refuses them; the daemon's arguments
// are constants).
func quoteExecWord(w string) string {
	w = strings.ReplaceAll(w, "%", "%%")
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,=@%", r)) {
			return `"` + w + `"`
		}
	}
	return w
}

// systemUnit is the hardened unit of the system service. It must stay at
// "OK" (2.0) or better in `systemd-analyze security`; the tests check it.
const systemUnit = `# credbroker system service, written by "credbroker service install".
# "credbroker service unit" prints it; edit with "systemctl edit credbroker"
# (a drop-in) rather than here, so that a reinstall keeps your changes.
[Unit]
Description=credbroker: temporary AWS credentials for credential_process
# The daemon calls STS over HTTPS: start once the network is configured.
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
ExecStart=@EXEC_START@
Restart=on-failure
RestartSec=5s

# A dedicated static account, not DynamicUser=: the encrypted keyring in
# /var/lib/credbroker/keyring must keep its owner across restarts and
# reinstalls. "credbroker service install" creates the account.
User=credbroker
Group=credbroker

Environment=CREDBROKER_CONFIG=/etc/credbroker/config
Environment=CREDBROKER_KEYRING=file
Environment=CREDBROKER_FILE_DIR=/var/lib/credbroker/keyring
Environment=CREDBROKER_SOCKET=/run/credbroker/broker.sock
# The keyring passphrase never sits in this file or in the environment
# (where /proc/PID/environ and "systemctl show" would reveal it): systemd
# copies the root-only file /etc/credbroker/passphrase to
# $CREDENTIALS_DIRECTORY/passphrase, readable by this service alone, and the
# daemon reads it from there. The service does not start without it.
LoadCredential=passphrase:/etc/credbroker/passphrase

# Directories systemd creates and hands to the account; with
# ProtectSystem=strict they are the only places the daemon can write.
# keyring: the encrypted file keyring, 0700 like the keyring's own files.
StateDirectory=credbroker credbroker/keyring
StateDirectoryMode=0700
# The socket's directory: the group credbroker may traverse it to reach the
# socket (members of that group are the clients); others may not.
RuntimeDirectory=credbroker
RuntimeDirectoryMode=0750
# audit.log says who got which profile's credentials (never a secret): for
# root and the service only, not for the clients in the group.
LogsDirectory=credbroker
LogsDirectoryMode=0700
# Files the daemon creates are its own unless it says otherwise; it sets the
# socket's mode itself, and the socket's group comes from Group=. Leave
# [daemon] socket_group unset: the daemon could not chown the socket to
# another group (no CAP_CHOWN; SystemCallFilter below forbids chown).
UMask=0077

# No privilege at all: the daemon only reads files, writes its directories
# and opens sockets.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictSUIDSGID=yes

# The file system: read-only OS, no home directories (the system service
# reads its profiles from /etc/credbroker), its own /tmp, no devices.
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
DevicePolicy=closed

# The kernel and the rest of the system are not the daemon's to change.
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
# Go binaries never need memory both writable and executable.
MemoryDenyWriteExecute=yes
RemoveIPC=yes
KeyringMode=private

# Other users' processes are invisible. The daemon reads /proc/PID/exe of
# its callers for the audit log; for a caller running as another user that
# read fails and the audit record omits exe (it keeps uid and pid, which the
# daemon takes from the socket, SO_PEERCRED). That is the accepted price,
# and small: without CAP_SYS_PTRACE the kernel refuses that read anyway.
ProtectProc=invisible
ProcSubset=pid

# AF_INET and AF_INET6 to reach STS over HTTPS, AF_UNIX to serve the socket.
# No IPAddressDeny=any/IPAddressAllow=: STS endpoints are public AWS
# addresses that change without notice, so no allow list could stay right.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6

# System calls: what ordinary services use, minus privileged and resource
# control calls. A filtered call fails with EPERM instead of killing the
# daemon with SIGSYS: the Go runtime or a library that merely tries one
# (setrlimit, sched_setaffinity, chown) gets an error it can handle.
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
SystemCallArchitectures=native

# Not set: PrivateUsers=. In a private user namespace only root and
# credbroker are mapped, so the kernel reports every other caller's uid and
# gid on the socket (SO_PEERCRED) as 65534, and the daemon could no longer
# tell its callers apart to apply its per-uid access rules.

[Install]
WantedBy=multi-user.target
`

// userUnit is the unit of a user's own service. The user's service manager
// holds no privileges: capabilities cannot be dropped (it has none to give
// the daemon anyway), and the sandboxing that needs a mount namespace
// (ProtectSystem=, ProtectHome=, PrivateTmp=, ProtectKernel*=, ...) is set
// up inside a user namespace of the service's own, which systemd 253 and
// later imply for it. Where unprivileged user namespaces are off, systemd
// leaves that part out and the daemon runs as without it; PrivateUsers= is
// not set explicitly, as a unit that sets it does not start there. The
// file keyring's passphrase comes from "credbroker unlock" after login
// (the daemon waits locked until then), never from a file.
const userUnit = `# credbroker user service, written by "credbroker service install --user".
# "credbroker service unit --user" prints it; edit with
# "systemctl --user edit credbroker" (a drop-in) rather than here.
[Unit]
Description=credbroker: temporary AWS credentials for credential_process (user daemon)

[Service]
Type=exec
ExecStart=@EXEC_START@
Restart=on-failure
RestartSec=5s

# Files the daemon creates are the user's alone.
UMask=0077

# Only what works without privileges in a user manager (seccomp and prctl);
# mount-namespace sandboxing would need unprivileged user namespaces.
NoNewPrivileges=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
# Go binaries never need memory both writable and executable.
MemoryDenyWriteExecute=yes

# The file system, kernel and clock, as for the system service, where the
# user manager can set them up (see above). Only the daemon's own folders
# are writable: its state (audit log, locks; "credbroker service install
# --user" makes it, 0700), the file keyring, pass's store and gnupg's home.
# Moved them (XDG_STATE_HOME, XDG_DATA_HOME, CREDBROKER_FILE_DIR,
# PASSWORD_STORE_DIR)? Add them with a drop-in: ReadWritePaths=...
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=-%h/.local/state/credbroker -%h/.local/share/credbroker -%h/.password-store -%h/.gnupg
# The socket's folder, $XDG_RUNTIME_DIR/credbroker, the user's alone.
RuntimeDirectory=credbroker
RuntimeDirectoryMode=0700
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
# Other users' processes are hidden; the daemon's callers are its own
# user's, whose /proc/PID/exe it still reads for the audit log.
ProtectProc=invisible
ProcSubset=pid
# Not set: KeyringMode=private. The keyctl backend keeps its keys in the
# user's kernel keyring, reached through the session keyring the service
# inherits.

# AF_INET and AF_INET6 to reach STS over HTTPS, AF_UNIX for the daemon's
# socket and for D-Bus (Secret Service, KWallet keyrings).
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6

# What ordinary services use, minus privileged and resource control calls;
# a filtered call fails with EPERM instead of killing the daemon.
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
SystemCallArchitectures=native

[Install]
WantedBy=default.target
`
