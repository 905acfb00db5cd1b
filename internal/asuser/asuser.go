//go:build unix

// Package asuser runs programs as another local user, for tests: the one
// way this module's tests act as a foreign or hostile local account (a
// caller the daemon did not start, a squatter of a socket folder).
//
// It switches users with setpriv (Debian package util-linux), which needs
// root: CI runs the tests as root. Where root is not available, a test
// that needs another user fails with a line saying so, unless
// CREDBROKER_TEST_NO_ROOT=1 asks to skip such tests.
package asuser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Identity is who a command runs as.
type Identity struct {
	UID, GID uint32
	// Groups are the supplementary groups; none when empty.
	Groups []uint32
}

// Nobody is uid 65534, group 65534 (nogroup), no supplementary groups.
var Nobody = Identity{UID: 65534, GID: 65534}

// Check says why another user cannot be acted as here ("" when it can),
// and whether the test should be skipped rather than fail.
func Check() (why string, skip bool) {
	if os.Geteuid() != 0 {
		if os.Getenv("CREDBROKER_TEST_NO_ROOT") == "1" {
			return "CREDBROKER_TEST_NO_ROOT=1: acting as another user needs root", true
		}
		return "acting as another user needs root (CI runs the tests as root): run as root, or set CREDBROKER_TEST_NO_ROOT=1 to skip such tests", false
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		return "setpriv not found: install the Debian package util-linux", false
	}
	return "", false
}

// Need fails (or skips, see Check) t unless another user can be acted as.
func Need(t testing.TB) {
	t.Helper()
	if why, skip := Check(); skip {
		t.Skip(why)
	} else if why != "" {
		t.Fatal(why)
	}
}

// Command runs name with args as id, from a clean slate of groups.
func Command(ctx context.Context, id Identity, name string, args ...string) *exec.Cmd {
	groups := "--clear-groups"
	if len(id.Groups) > 0 {
		gs := make([]string, len(id.Groups))
		for i, g := range id.Groups {
			gs[i] = strconv.FormatUint(uint64(g), 10)
		}
		groups = "--groups=" + strings.Join(gs, ",")
	}
	argv := append([]string{
		"--reuid=" + strconv.FormatUint(uint64(id.UID), 10),
		"--regid=" + strconv.FormatUint(uint64(id.GID), 10),
		groups, name,
	}, args...)
	return exec.CommandContext(ctx, "setpriv", argv...)
}

// SharedDir makes a folder under the system's temporary folder that
// another user may enter and read (mode 0755): t.TempDir's parents are
// 0700. The caller removes it.
func SharedDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// TestDir is SharedDir for a test, removed when it ends.
func TestDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := SharedDir(prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// CopyExecutable copies the program at src to dst, mode 0755, so that
// another user can run it from a folder it may enter.
func CopyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, 0o755) // whatever the umask
}

// CopySelf copies the running test binary to dst (see CopyExecutable), so
// that it can run again as another user.
func CopySelf(t testing.TB, dst string) {
	t.Helper()
	self, err := os.Executable()
	if err == nil {
		err = CopyExecutable(self, dst)
	}
	if err != nil {
		t.Fatal(errors.Join(errors.New("copy the test binary"), err))
	}
}
