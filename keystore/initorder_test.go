package keystore

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSessionBusInitRunsBeforeKeyring pins the package initialisation order
// that keeps keyring from launching a D-Bus session bus: keyring connects
// to the bus in its init, and sessionbus must have set
// DBUS_SESSION_BUS_ADDRESS before (see package sessionbus). Go orders
// inits by import path among ready packages; a new import, a renamed
// package or another Go version could change that order silently. The
// runtime reports the order it used (GODEBUG=inittrace=1): this test binary
// links both, as every credbroker-cli does.
func TestSessionBusInitRunsBeforeKeyring(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run with inittrace: %v\n%s", err, out)
	}
	order := map[string]int{}
	for i, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "init" {
			order[fields[1]] = i + 1
		}
	}
	bus := order["github.com/credbroker/credbroker/keystore/internal/sessionbus"]
	for _, later := range []string{"github.com/godbus/dbus", "github.com/99designs/keyring"} {
		at, ok := order[later]
		switch {
		case bus == 0:
			t.Fatalf("sessionbus did not initialise (or has no init work any more):\n%s", out)
		case !ok:
			t.Errorf("%s has no init in the trace: check that it still connects to the bus at init, and update this test", later)
		case at < bus:
			t.Errorf("%s initialises before sessionbus (line %d < %d): it may autolaunch a session bus", later, at, bus)
		}
	}
}
