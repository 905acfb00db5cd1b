// Package sessionbus keeps the D-Bus session bus from being autolaunched.
//
// github.com/99designs/keyring connects to the D-Bus session bus in its
// package initialisation, and when DBUS_SESSION_BUS_ADDRESS is unset,
// godbus falls back to `dbus-launch --autolaunch`, which starts a bus daemon
// that outlives the process (one per credbroker call on a server), and may
// activate a keyring daemon with no unlocked collection.
//
// This package's init runs before keyring's: Go initialises packages in
// import-path order among those whose imports are ready, and keyring waits
// for golang.org/x/term, which sorts after every github.com path. It sets
// the address the way godbus would discover it ($XDG_RUNTIME_DIR/bus, the
// systemd user bus), and otherwise to an address that fails at once, so no
// bus is ever launched. It imports only the standard library so that it is
// ready first.
package sessionbus

import (
	"os"
	"path/filepath"
	"strings"
)

// Disabled is the address set when there is no session bus: an unknown
// transport, which godbus refuses without side effects.
const Disabled = "disabled:"

// Original is DBUS_SESSION_BUS_ADDRESS as the process received it.
var Original, originalSet = os.LookupEnv("DBUS_SESSION_BUS_ADDRESS")

func init() {
	if Original != "" && Original != "autolaunch:" {
		return
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		bus := filepath.Join(dir, "bus")
		if fi, err := os.Stat(bus); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+bus)
			return
		}
	}
	_ = os.Setenv("DBUS_SESSION_BUS_ADDRESS", Disabled)
}

// Environ is os.Environ with DBUS_SESSION_BUS_ADDRESS as the process
// received it.
func Environ() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			continue
		}
		out = append(out, kv)
	}
	if originalSet {
		out = append(out, "DBUS_SESSION_BUS_ADDRESS="+Original)
	}
	return out
}
