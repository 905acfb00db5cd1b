package keystore

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecretServiceStopped makes a keyring hang for real: the
// gnome-keyring-daemon of a private session bus is stopped (SIGSTOP), so
// D-Bus takes the call and nobody replies; keyring waits without a
// deadline. The Store's callers must still be answered within the call
// timeout.
func TestSecretServiceStopped(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "dbus-send"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install Debian packages dbus gnome-keyring", tool)
		}
	}
	const script = `printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"`
	runHelper(t, "TestSecretServiceStoppedInner", []string{"dbus-run-session", "--", "sh", "-c", script, "sh"}, helperEnv+"=secret-service-stopped")
}

func TestSecretServiceStoppedInner(t *testing.T) {
	if os.Getenv(helperEnv) != "secret-service-stopped" {
		t.Skip("run by TestSecretServiceStopped under dbus-run-session with gnome-keyring")
	}
	s := waitForCollection(t, Config{Backend: "secret-service", Collection: "login"})
	if err := s.Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}
	pid := secretServicePID(t)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})

	// The daemon's deadline (s.timeout is DefaultCallTimeout).
	start := time.Now()
	_, err := s.Get(KindSession, "prod")
	waited := time.Since(start)
	var h interface{ Hint() string }
	if !errors.Is(err, ErrNotAnswering) || !errors.As(err, &h) || !strings.Contains(h.Hint(), "unlock the login keyring") {
		t.Fatalf("Get from a stopped Secret Service: %v", err)
	}
	t.Logf("answered after %s: %v (hint: %s)", waited, err, h.Hint())
	if waited < s.timeout || waited > s.timeout+2*time.Second {
		t.Fatalf("answered after %s, want about %s", waited, s.timeout)
	}
	// The next caller is not held: the call in the backend still hangs.
	start = time.Now()
	if _, err := s.List(); !errors.Is(err, ErrNotAnswering) {
		t.Fatalf("List during the hang: %v", err)
	}
	waited = time.Since(start)
	t.Logf("the next caller answered after %s", waited)
	if waited >= s.timeout {
		t.Fatalf("a caller during the hang waited %s", waited)
	}

	// The keyring comes back: the hung call returns, and calls work again.
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	s.gate.mu.Lock()
	hung := s.gate.hung
	s.gate.mu.Unlock()
	select {
	case <-hung:
	case <-time.After(time.Minute):
		t.Fatal("the hung call never returned after SIGCONT")
	}
	if got, err := s.Get(KindSession, "prod"); err != nil || string(got) != "x" {
		t.Fatalf("after the keyring came back: %q, %v", got, err)
	}
}

// secretServicePID asks the bus which process owns org.freedesktop.secrets.
func secretServicePID(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus.GetConnectionUnixProcessID", "string:org.freedesktop.secrets").Output()
	if err != nil {
		t.Fatalf("dbus-send: %v", err)
	}
	fields := strings.Fields(string(out))
	pid, err := strconv.Atoi(fields[len(fields)-1])
	if err != nil || pid <= 1 {
		t.Fatalf("owner of org.freedesktop.secrets: %q", out)
	}
	return pid
}
