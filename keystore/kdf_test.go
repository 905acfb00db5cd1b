package keystore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/keyring"
)

// plainRing is keyring's file backend over dir with pass as its password,
// as a keyring made before Argon2id (or an attacker) uses it.
func plainRing(t *testing.T, dir, pass string) keyring.Keyring {
	t.Helper()
	ring, err := openKeyringDir(dir, func(string) (string, error) { return pass, nil })
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// legacyItems are written by plain keyring under the raw passphrase: what
// credbroker before Argon2id left in a folder.
var legacyItems = map[string]string{
	"credbroker:access-key:prod":                        `{"AccessKeyID":"AKIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`,
	"credbroker:totp-seed:prod":                         "JBSWY3DPEHPK3PXP",
	"credbroker:state:mfa-step/arn:aws:iam::1:mfa/user": "123",
	"credbroker:future-kind:x":                          "from a newer credbroker",
}

func makeLegacyKeyring(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ring := plainRing(t, dir, testPassphrase)
	for k, v := range legacyItems {
		if err := ring.Set(keyring.Item{Key: k, Data: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkMigrated: every legacy item is now under the stretched key and no
// longer under the raw passphrase, the parameters file is 0600, and no
// migration folder is left.
func checkMigrated(t *testing.T, dir string) {
	t.Helper()
	p, err := readParams(dir)
	if err != nil || p == nil {
		t.Fatalf("parameters after migration: %v, %v", p, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, kdfFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("parameters file: %v, %v; want mode 0600", fi, err)
	}
	if p.Time != kdfTime || p.MemoryKiB != kdfMemoryKiB || p.Threads != kdfThreads || len(p.Salt) != kdfSaltLen {
		t.Fatalf("parameters = %+v", p)
	}
	if _, err := os.Lstat(filepath.Join(dir, migrationDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("migration folder left: %v", err)
	}
	raw, stretched := plainRing(t, dir, testPassphrase), plainRing(t, dir, p.derive(testPassphrase))
	for k, v := range legacyItems {
		if _, err := raw.Get(k); err == nil {
			t.Errorf("%s still opens with the raw passphrase", k)
		}
		if it, err := stretched.Get(k); err != nil || string(it.Data) != v {
			t.Errorf("%s under the stretched key: %q, %v", k, it.Data, err)
		}
	}
	if got := entries(t, dir); len(got) != len(legacyItems) {
		t.Errorf("folder holds %q, want the %d items", got, len(legacyItems))
	}
}

// TestFileMigratesPlainKeyring: a keyring made by plain keyring with the
// raw passphrase is migrated on the first read with the passphrase, and by
// the daemon's Unlock.
func TestFileMigratesPlainKeyring(t *testing.T) {
	t.Parallel()
	t.Run("read", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		makeLegacyKeyring(t, dir)
		s := openFileStore(t, dir, testPassphrase)
		if k, err := s.AccessKey("prod"); err != nil || k.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" {
			t.Fatalf("AccessKey: %v, %v", k, err)
		}
		checkMigrated(t, dir)
		// Reads and writes go on under the stretched key, in this Store
		// and in a new one.
		if err := s.Put(KindSession, "prod", []byte("new")); err != nil {
			t.Fatal(err)
		}
		if got, err := openFileStore(t, dir, testPassphrase).Get(KindSession, "prod"); err != nil || string(got) != "new" {
			t.Fatalf("Get from a new Store: %q, %v", got, err)
		}
	})
	t.Run("unlock", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		makeLegacyKeyring(t, dir)
		s, err := Open(Config{Backend: "file", FileDir: dir, Passphrase: func(string) (string, error) { return "", ErrPassphraseRequired }})
		if err != nil {
			t.Fatal(err)
		}
		// Nothing happens without the passphrase, nor with a wrong one.
		if _, err := s.List(); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlock("not the passphrase at all"); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("Unlock with a wrong passphrase: %v", err)
		}
		if p, err := readParams(dir); p != nil || err != nil {
			t.Fatalf("a wrong passphrase wrote parameters: %v, %v", p, err)
		}
		if err := s.Unlock(testPassphrase); err != nil {
			t.Fatal(err)
		}
		checkMigrated(t, dir)
		if got, err := s.Get(KindTOTPSeed, "prod"); err != nil || string(got) != legacyItems["credbroker:totp-seed:prod"] {
			t.Fatalf("after Unlock: %q, %v", got, err)
		}
		// Unknown kinds are kept, not listed (as before).
		items, err := s.List()
		if err != nil || len(items) != 3 {
			t.Fatalf("List = %v, %v", items, err)
		}
	})
}

// TestFileNewKeyringStretched: a new keyring gets its parameters with its
// first item, and its items never open with the raw passphrase.
func TestFileNewKeyringStretched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := openFileStore(t, dir, "short pass").Put(KindSession, "prod", []byte("x")); err == nil {
		t.Fatal("short passphrase accepted")
	}
	if _, err := os.Lstat(filepath.Join(dir, kdfFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused passphrase left a parameters file: %v", err)
	}
	s := openFileStore(t, dir, testPassphrase)
	if err := s.Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := plainRing(t, dir, testPassphrase).Get(itemKey(KindSession, "prod")); err == nil {
		t.Fatal("a new item opens with the raw passphrase")
	}
	p, err := readParams(dir)
	if err != nil || p == nil {
		t.Fatal(p, err)
	}
	if it, err := plainRing(t, dir, p.derive(testPassphrase)).Get(itemKey(KindSession, "prod")); err != nil || string(it.Data) != "x" {
		t.Fatalf("under the stretched key: %q, %v", it.Data, err)
	}
	// A wrong passphrase is refused as before.
	if _, err := openFileStore(t, dir, "another passphrase entirely").Get(KindSession, "prod"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

// TestFileParamsMalformed: a parameters file that is damaged or tampered
// with gives one clear error naming the file, with a hint, never a wrong
// passphrase or a daemon that allocates what the file says.
func TestFileParamsMalformed(t *testing.T) {
	t.Parallel()
	good := func(t *testing.T) (string, []byte) {
		dir := t.TempDir()
		if err := openFileStore(t, dir, testPassphrase).Put(KindSession, "prod", []byte("x")); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, kdfFile))
		if err != nil {
			t.Fatal(err)
		}
		return dir, data
	}
	for _, tc := range []struct {
		name, want string
		edit       func(data []byte) []byte
	}{
		{"garbage", "malformed", func([]byte) []byte { return []byte("\x00\x01 not json") }},
		{"empty", "malformed", func([]byte) []byte { return nil }},
		{"unknown field", "unknown field", func(d []byte) []byte { return []byte(strings.Replace(string(d), "{", `{"iterations":1,`, 1)) }},
		{"trailing data", "data after", func(d []byte) []byte { return append(d, []byte(`{"kdf":"argon2id"}`)...) }},
		{"other kdf", "want argon2id", func(d []byte) []byte { return []byte(strings.Replace(string(d), `"argon2id"`, `"scrypt"`, 1)) }},
		{"huge memory", "memory_kib", func(d []byte) []byte {
			return []byte(strings.Replace(string(d), `"memory_kib":65536`, `"memory_kib":4294967295`, 1))
		}},
		{"no passes", "time is 0", func(d []byte) []byte { return []byte(strings.Replace(string(d), `"time":7`, `"time":0`, 1)) }},
		{"short salt", "salt", func(d []byte) []byte {
			i := strings.Index(string(d), `"salt":"`) + len(`"salt":"`)
			j := strings.Index(string(d)[i:], `"`)
			return []byte(string(d)[:i] + "AAAA" + string(d)[i+j:])
		}},
		{"too large", "larger", func([]byte) []byte { return []byte(strings.Repeat(" ", maxParamsSize+1)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, data := good(t)
			if err := os.WriteFile(filepath.Join(dir, kdfFile), tc.edit(data), 0o600); err != nil {
				t.Fatal(err)
			}
			for what, op := range map[string]func(*Store) error{
				"unlock": func(s *Store) error { return s.Unlock(testPassphrase) },
				"get":    func(s *Store) error { _, err := s.Get(KindSession, "prod"); return err },
			} {
				err := op(openFileStore(t, dir, testPassphrase))
				var h interface{ Hint() string }
				if err == nil || !strings.Contains(err.Error(), "file keyring parameters "+filepath.Join(dir, kdfFile)) ||
					!strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrWrongPassphrase) || !errors.As(err, &h) || h.Hint() == "" {
					t.Errorf("%s: err = %v, want a parameters error saying %q with a hint", what, err, tc.want)
				}
				if err != nil && strings.Contains(err.Error(), testPassphrase) {
					t.Errorf("the error holds the passphrase: %v", err)
				}
			}
		})
	}
	t.Run("not a file", func(t *testing.T) {
		t.Parallel()
		dir, _ := good(t)
		path := filepath.Join(dir, kdfFile)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
		if err := openFileStore(t, dir, testPassphrase).Unlock(testPassphrase); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("symlink: %v", err)
		}
	})
	t.Run("removed under a Store", func(t *testing.T) {
		t.Parallel()
		dir, _ := good(t)
		s := openFileStore(t, dir, testPassphrase)
		if _, err := s.Get(KindSession, "prod"); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, kdfFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(KindSession, "prod"); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("after the file was removed: %v", err)
		}
	})
}

// TestFileFollowsParamsOfAnotherProcess: a Store that read the keyring
// before another process migrated it follows the new parameters.
func TestFileFollowsParamsOfAnotherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	makeLegacyKeyring(t, dir)
	daemon := openFileStore(t, dir, testPassphrase)
	if _, err := daemon.List(); err != nil {
		t.Fatal(err)
	}
	// Another Store (another process: the CLI) migrates it.
	if err := openFileStore(t, dir, testPassphrase).Unlock(testPassphrase); err != nil {
		t.Fatal(err)
	}
	checkMigrated(t, dir)
	if got, err := daemon.Get(KindTOTPSeed, "prod"); err != nil || string(got) != legacyItems["credbroker:totp-seed:prod"] {
		t.Fatalf("the first Store after the migration: %q, %v", got, err)
	}
	if err := daemon.Put(KindSession, "s", []byte("y")); err != nil {
		t.Fatal(err)
	}
	names := entries(t, dir)
	if !slices.Contains(names, "credbroker:session:s") {
		t.Fatalf("folder = %q", names)
	}
	checkItem := plainRing(t, dir, testPassphrase)
	if _, err := checkItem.Get("credbroker:session:s"); err == nil {
		t.Fatal("the first Store wrote under the raw passphrase after the migration")
	}
}

// BenchmarkOfflineGuess is what one passphrase tried costs an attacker
// holding a copy of the keyring folder: Argon2id with the folder's
// parameters, then keyring's PBKDF2 (8192 iterations) and the key unwrap of
// one item, which tells a wrong guess. Target: at least 0.25 s per guess on
// the README's machine (one core per guess; a guess uses one lane).
func BenchmarkOfflineGuess(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(Config{Backend: "file", FileDir: dir, FilePassphrase: testPassphrase})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Put(KindSession, "prod", []byte("a session")); err != nil {
		b.Fatal(err)
	}
	p, err := readParams(dir)
	if err != nil || p == nil {
		b.Fatal(p, err)
	}
	key := itemKey(KindSession, "prod")
	for b.Loop() {
		guess := p.derive("a wrong guess at it")
		ring, err := openKeyringDir(dir, func(string) (string, error) { return guess, nil })
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ring.Get(key); err == nil {
			b.Fatal("a wrong guess decrypted the item")
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/guess")
}

// BenchmarkOfflineGuessBefore is the same guess against a keyring made
// before Argon2id: keyring's PBKDF2 and the key unwrap only.
func BenchmarkOfflineGuessBefore(b *testing.B) {
	dir := b.TempDir()
	makeLegacyKeyringB(b, dir)
	for b.Loop() {
		ring, err := openKeyringDir(dir, func(string) (string, error) { return "a wrong guess at it", nil })
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ring.Get("credbroker:totp-seed:prod"); err == nil {
			b.Fatal("a wrong guess decrypted the item")
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/guess")
}

func makeLegacyKeyringB(b *testing.B, dir string) {
	ring, err := openKeyringDir(dir, func(string) (string, error) { return testPassphrase, nil })
	if err != nil {
		b.Fatal(err)
	}
	if err := ring.Set(keyring.Item{Key: "credbroker:totp-seed:prod", Data: []byte("JBSWY3DPEHPK3PXP")}); err != nil {
		b.Fatal(err)
	}
}

// TestFileItemFromOlderProcess: an item written under the raw passphrase
// after the migration (by a credbroker daemon started before the upgrade,
// still running) is read, and written again under the stretched key.
func TestFileItemFromOlderProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := openFileStore(t, dir, testPassphrase).Put(KindSession, "prod", []byte("new")); err != nil {
		t.Fatal(err)
	}
	key := itemKey(KindSession, "old")
	if err := plainRing(t, dir, testPassphrase).Set(keyring.Item{Key: key, Data: []byte("from an older daemon")}); err != nil {
		t.Fatal(err)
	}
	s := openFileStore(t, dir, testPassphrase)
	if got, err := s.Get(KindSession, "old"); err != nil || string(got) != "from an older daemon" {
		t.Fatalf("Get: %q, %v", got, err)
	}
	p, err := readParams(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plainRing(t, dir, testPassphrase).Get(key); err == nil {
		t.Fatal("still under the raw passphrase after it was read")
	}
	if it, err := plainRing(t, dir, p.derive(testPassphrase)).Get(key); err != nil || string(it.Data) != "from an older daemon" {
		t.Fatalf("under the stretched key: %q, %v", it.Data, err)
	}
	// A wrong passphrase opens neither.
	if _, err := openFileStore(t, dir, "another passphrase entirely").Get(KindSession, "old"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// Judged by such an item alone, the passphrase is accepted too.
	dir2 := t.TempDir()
	if err := openFileStore(t, dir2, testPassphrase).Unlock(testPassphrase); err != nil {
		t.Fatal(err)
	}
	if err := plainRing(t, dir2, testPassphrase).Set(keyring.Item{Key: key, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := openFileStore(t, dir2, testPassphrase).Put(KindSession, "prod", []byte("y")); err != nil {
		t.Fatalf("Put judged by an older process's item: %v", err)
	}
}
