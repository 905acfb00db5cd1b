//go:build unix

package keystore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const crashStepEnv = "CREDBROKER_KEYSTORE_TEST_CRASH_STEP"

// TestFileMigrationKilled kills (SIGKILL) a process migrating a keyring at
// each step of the migration. Whatever the step, the keyring still
// unlocks with the passphrase and ends up migrated with every item; before
// the commit, plain keyring still opens every item with the raw
// passphrase; after it, finishing needs no passphrase.
func TestFileMigrationKilled(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"staged", "committed", "moved"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			makeLegacyKeyring(t, dir)
			killAtStep(t, dir, step)

			_, migErr := os.Lstat(filepath.Join(dir, migrationDir))
			p, err := readParams(dir)
			if err != nil {
				t.Fatal(err)
			}
			if migErr != nil {
				t.Fatalf("killed at %s: no migration folder left (%v): the kill came too late", step, migErr)
			}
			if committed := p != nil; committed != (step != "staged") {
				t.Fatalf("killed at %s: parameters file present = %v", step, committed)
			}
			if step == "staged" {
				raw := plainRing(t, dir, testPassphrase)
				for k, v := range legacyItems {
					if it, err := raw.Get(k); err != nil || string(it.Data) != v {
						t.Fatalf("killed before the commit: %s under the raw passphrase: %q, %v", k, it.Data, err)
					}
				}
			} else {
				// Finishing is renames only: a Store without a passphrase
				// does it.
				s, err := Open(Config{Backend: "file", FileDir: dir, Passphrase: func(string) (string, error) { return "", ErrPassphraseRequired }})
				if err != nil {
					t.Fatal(err)
				}
				if items, err := s.List(); err != nil || len(items) != 3 {
					t.Fatalf("List after the kill: %v, %v", items, err)
				}
				checkMigrated(t, dir)
			}
			s := openFileStore(t, dir, "")
			if err := s.Unlock(testPassphrase); err != nil {
				t.Fatalf("Unlock after a kill at %s: %v", step, err)
			}
			for _, kind := range []Kind{KindAccessKey, KindTOTPSeed} {
				if got, err := s.Get(kind, "prod"); err != nil || string(got) != legacyItems[itemKey(kind, "prod")] {
					t.Fatalf("%s after the kill: %q, %v", kind, got, err)
				}
			}
			checkMigrated(t, dir)
		})
	}
}

// killAtStep runs TestFileMigrationKilledInner in a child process that
// unlocks the keyring in dir and stops at step; then kills it.
func killAtStep(t *testing.T, dir, step string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFileMigrationKilledInner$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), crashStepEnv+"="+step, "CREDBROKER_FILE_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	sc := bufio.NewScanner(out)
	reached := false
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if sc.Text() == "reached "+step {
			reached = true
			break
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !reached {
		t.Fatalf("the child never reached %s:\n%s", step, strings.Join(seen, "\n"))
	}
}

func TestFileMigrationKilledInner(t *testing.T) {
	step := os.Getenv(crashStepEnv)
	if step == "" {
		t.Skip("run by TestFileMigrationKilled")
	}
	s := openFileStore(t, os.Getenv("CREDBROKER_FILE_DIR"), "")
	s.file.reached = func(got string) {
		if got == step {
			fmt.Println("reached " + step)
			select {} // until killed
		}
	}
	err := s.Unlock(testPassphrase)
	t.Fatalf("Unlock returned (%v) without reaching %s", errors.Unwrap(err), step)
}
