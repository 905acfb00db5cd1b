//go:build unix

package broker

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credbroker/credbroker/profile"
)

// TestFIFOIsRefused: a session_policy or CA bundle that names a FIFO is a
// clear config error at once; opening it would wait for a writer forever
// and hold the daemon's fetch.
func TestFIFOIsRefused(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() error{
		"session_policy": func() error { _, err := ReadSessionPolicy(fifo, "prod"); return err },
		"ca_bundle":      func() error { _, err := loadCABundle(fifo); return err },
	} {
		done := make(chan error, 1)
		go func() { done <- read() }()
		select {
		case err := <-done:
			var ce *profile.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), fifo) {
				t.Errorf("%s: err = %v: want a config error naming %s as not a regular file", name, err, fifo)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: reading a FIFO still waits after 10 s", name)
		}
	}
}
