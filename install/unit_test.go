package install

import (
	"strings"
	"testing"
)

const testExe = "/usr/local/bin/credbroker"

// directives returns the unit's non-comment lines.
func directives(unit string) map[string]bool {
	set := map[string]bool{}
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			set[line] = true
		}
	}
	return set
}

func TestSystemdUnitSystem(t *testing.T) {
	t.Parallel()
	unit, err := SystemdUnit(System, testExe)
	if err != nil {
		t.Fatal(err)
	}
	have := directives(unit)
	for _, want := range []string{
		"ExecStart=/usr/local/bin/credbroker daemon --system",
		"User=credbroker",
		"Group=credbroker",
		"Environment=CREDBROKER_CONFIG=/etc/credbroker/config",
		"Environment=CREDBROKER_KEYRING=file",
		"Environment=CREDBROKER_FILE_DIR=/var/lib/credbroker/keyring",
		"Environment=CREDBROKER_SOCKET=/run/credbroker/broker.sock",
		"LoadCredential=passphrase:/etc/credbroker/passphrase",
		"StateDirectory=credbroker credbroker/keyring",
		"RuntimeDirectory=credbroker",
		"RuntimeDirectoryMode=0750",
		"LogsDirectory=credbroker",
		"UMask=0077",
		"NoNewPrivileges=yes",
		"ProtectSystem=strict",
		"ProtectHome=yes",
		"PrivateTmp=yes",
		"PrivateDevices=yes",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
		"CapabilityBoundingSet=",
		"AmbientCapabilities=",
		"SystemCallFilter=@system-service",
		"SystemCallFilter=~@privileged @resources",
		"SystemCallArchitectures=native",
		"ProtectKernelTunables=yes",
		"ProtectKernelModules=yes",
		"ProtectKernelLogs=yes",
		"ProtectControlGroups=yes",
		"ProtectClock=yes",
		"ProtectHostname=yes",
		"ProtectProc=invisible",
		"ProcSubset=pid",
		"RestrictNamespaces=yes",
		"RestrictRealtime=yes",
		"RestrictSUIDSGID=yes",
		"LockPersonality=yes",
		"MemoryDenyWriteExecute=yes",
		"RemoveIPC=yes",
		"KeyringMode=private",
		"DevicePolicy=closed",
		"WantedBy=multi-user.target",
	} {
		t.Run(want, func(t *testing.T) {
			if !have[want] {
				t.Errorf("system unit lacks the line %q", want)
			}
		})
	}
	for _, banned := range []string{
		// A secret never goes into the unit; the passphrase comes as a
		// credential.
		"CREDBROKER_FILE_PASSPHRASE",
		"Environment=CREDENTIALS_DIRECTORY",
		// Breaks SO_PEERCRED (see the unit's comment) and User= keeps state.
		"PrivateUsers=",
		"DynamicUser=",
		// STS addresses are public and change.
		"IPAddressDeny=",
		// kardianos/service would treat it as a template action.
		"{{",
	} {
		t.Run("no "+banned, func(t *testing.T) {
			for line := range have {
				if strings.Contains(line, banned) {
					t.Errorf("system unit has %q", line)
				}
			}
		})
	}
}

func TestSystemdUnitUser(t *testing.T) {
	t.Parallel()
	unit, err := SystemdUnit(User, testExe)
	if err != nil {
		t.Fatal(err)
	}
	have := directives(unit)
	for _, want := range []string{
		"ExecStart=/usr/local/bin/credbroker daemon",
		"NoNewPrivileges=yes",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
		"SystemCallFilter=@system-service",
		"SystemCallArchitectures=native",
		"LockPersonality=yes",
		"MemoryDenyWriteExecute=yes",
		"RestrictRealtime=yes",
		"UMask=0077",
		"WantedBy=default.target",
	} {
		t.Run(want, func(t *testing.T) {
			if !have[want] {
				t.Errorf("user unit lacks the line %q", want)
			}
		})
	}
	// The mount-namespace sandbox, which a user manager sets up in a user
	// namespace of the service's own, or leaves out where it cannot
	// ("assuming containerized execution"): the daemon starts either way.
	for _, want := range []string{"ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes", "PrivateDevices=yes",
		"ProtectKernelTunables=yes", "ProtectClock=yes", "ProtectProc=invisible", "RuntimeDirectory=credbroker", "RuntimeDirectoryMode=0700",
		"ReadWritePaths=-%h/.local/state/credbroker -%h/.local/share/credbroker -%h/.password-store -%h/.gnupg"} {
		if !have[want] {
			t.Errorf("user unit lacks the line %q", want)
		}
	}
	// Options that a user manager cannot apply without privileges (or
	// that name the system account) would stop the daemon from starting:
	// dropping capabilities, an explicit PrivateUsers= where user
	// namespaces are off, a credential it has no file for. KeyringMode=
	// private would hide the keyctl backend's keys.
	for _, banned := range []string{"User=", "Group=", "LoadCredential=", "PrivateUsers=", "KeyringMode=", "CapabilityBoundingSet=", "--system", "{{"} {
		t.Run("no "+banned, func(t *testing.T) {
			for line := range have {
				if strings.HasPrefix(line, banned) || strings.Contains(line, " "+banned) {
					t.Errorf("user unit has %q", line)
				}
			}
		})
	}
}

func TestSystemdUnitExecStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, exe string
		scope     Scope
		want      string // the ExecStart= line; "" when an error is expected
	}{
		{"plain system", "/usr/bin/credbroker", System, `ExecStart=/usr/bin/credbroker daemon --system`},
		{"plain user", "/usr/bin/credbroker", User, `ExecStart=/usr/bin/credbroker daemon`},
		{"space is quoted", "/opt/cred broker/credbroker", System, `ExecStart="/opt/cred broker/credbroker" daemon --system`},
		{"percent is not a specifier", "/opt/100%/credbroker", System, `ExecStart=/opt/100%%/credbroker daemon --system`},
		{"semicolon is quoted", "/opt/a;b/credbroker", User, `ExecStart="/opt/a;b/credbroker" daemon`},
		{"non-ASCII is quoted", "/opt/crédits/credbroker", User, `ExecStart="/opt/crédits/credbroker" daemon`},
		{"dollar", "/opt/$HOME/credbroker", System, ""},
		{"double quote", `/opt/a"b/credbroker`, System, ""},
		{"single quote", `/opt/a'b/credbroker`, System, ""},
		{"backslash", `/opt/a\b/credbroker`, System, ""},
		{"relative path", "credbroker", System, ""},
		{"newline", "/opt/x\nExecStartPre=/bin/sh/credbroker", System, ""},
		{"template action", "/opt/{{Path}}/credbroker", System, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			unit, err := SystemdUnit(tc.scope, tc.exe)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("SystemdUnit(%q) = nil error, want one", tc.exe)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !directives(unit)[tc.want] {
				t.Errorf("unit lacks %q; ExecStart lines: %q", tc.want, execStartLines(unit))
			}
		})
	}
}

func execStartLines(unit string) []string {
	var lines []string
	for _, l := range strings.Split(unit, "\n") {
		if strings.HasPrefix(l, "ExecStart=") {
			lines = append(lines, l)
		}
	}
	return lines
}
