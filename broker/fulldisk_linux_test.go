package broker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credbroker/credbroker/internal/fakests"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
)

// TestFullTmpfsUnderTheFileKeyring: the file keyring on a tmpfs that is
// full (a real file system, ENOSPC from the kernel): fresh credentials are
// served anyway, once, from memory, with one warning, and the stored key
// is intact. Needs root (to mount the tmpfs).
func TestFullTmpfsUnderTheFileKeyring(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700"); err != nil {
		t.Skipf("mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	keys, err := keystore.Open(keystore.Config{Backend: "file", FileDir: filepath.Join(dir, "keyring"), FilePassphrase: "a passphrase of some length"})
	if err != nil {
		t.Fatal(err)
	}
	key := keystore.AccessKey{AccessKeyID: "AKIAPPPPPPPPPPPPPPPP", SecretAccessKey: strings.Repeat("s", 40)}
	if err := keys.PutAccessKey("plain", key); err != nil {
		t.Fatal(err)
	}
	// Fill the file system to its last block.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	filler.Close()

	fake := &fakests.STS{Now: time.Now}
	var warns []string
	b, err := newServed(t, parse(t, fakests.Config), Options{Keys: keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return fake, nil },
		Warn: func(s string) { warns = append(warns, s) }})
	if err != nil {
		t.Fatal(err)
	}
	first, err := b.Credentials(context.Background(), "plain")
	if err != nil {
		t.Fatalf("a full file system under the keyring: %v; want fresh credentials served", err)
	}
	again, err := b.Credentials(context.Background(), "plain")
	if err != nil || again != first || fake.Ops() != "GetSessionToken" {
		t.Fatalf("again: %v, STS calls %s: want them from memory, no new STS call", err, fake.Ops())
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "serving them from memory") || !strings.Contains(warns[0], "no space left on device") {
		t.Errorf("warnings = %q, want one naming the full disk", warns)
	}
	if got, err := keys.AccessKey("plain"); err != nil || got != key {
		t.Errorf("the stored key after the failed save: %v", err)
	}
}
