//go:build unix

package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAccessRuleNeedsEffect: a rule without effect is an error, never an
// allow (a deny rule caught half-written must not grant).
func TestAccessRuleNeedsEffect(t *testing.T) {
	t.Parallel()
	_, err := ParseConfig("cfg", strings.NewReader("[profile prod]\n[access no-bob]\nusers = bob\nprofiles = prod\n"))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 2 || !strings.Contains(err.Error(), "effect = allow or effect = deny") {
		t.Fatalf("err = %v", err)
	}
}

// TestConfigFIFO: a FIFO as the config file is refused at once, not read
// (which would hang).
func TestConfigFIFO(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadConfig(path); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LoadConfig hangs on a FIFO")
	}
	if err := CheckOwnership(path, uint32(os.Getuid()), false); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("CheckOwnership(FIFO) = %v", err)
	}
}

// TestCheckOwnership: the daemon trusts a config file only when nobody else
// could have written it.
func TestCheckOwnership(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	me := uint32(os.Getuid())
	file := func(name string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("[profile a]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name   string
		path   string
		owner  uint32
		strict bool
		want   string // "" for fine
	}{
		{"0600", file("a", 0o600), me, false, ""},
		{"0644 user daemon", file("b", 0o644), me, false, ""},
		{"group-writable", file("c", 0o664), me, false, "writable by group or others (mode 0664)"},
		{"world-writable", file("d", 0o646), me, false, "writable by group or others"},
		{"0640 system", file("e", 0o640), me, true, ""},
		{"0644 system", file("f", 0o644), me, true, "readable by others"},
		{"missing", filepath.Join(dir, "none"), me, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOwnership(tc.path, tc.owner, tc.strict)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var h interface{ Hint() string }
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &h) || h.Hint() == "" {
				t.Fatalf("err = %v, want %q and a hint", err, tc.want)
			}
		})
	}
	if os.Geteuid() == 0 {
		// Another user's file (root may hand it over).
		path := file("theirs", 0o600)
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := CheckOwnership(path, 1000, false); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
			t.Errorf("another user's file: %v", err)
		}
		if err := CheckOwnership(path, 65534, false); err != nil {
			t.Errorf("the daemon user's own file: %v", err)
		}
	}
}
