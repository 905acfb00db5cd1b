package keystore

import "github.com/credbroker/credbroker/keystore/internal/sessionbus"

// ChildEnv is the environment for a child process (the daemon started on
// demand): this process's, with DBUS_SESSION_BUS_ADDRESS as it was received,
// before this package kept keyring from autolaunching a session bus.
func ChildEnv() []string { return sessionbus.Environ() }
