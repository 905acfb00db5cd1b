package keystore

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const testPassphrase = "test passphrase, not a real one"

func openFileStore(t *testing.T, dir, passphrase string) *Store {
	t.Helper()
	s, err := Open(Config{Backend: "file", FileDir: dir, FilePassphrase: passphrase})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if s.Backend() != "file" {
		t.Fatalf("Backend() = %q, want file", s.Backend())
	}
	return s
}

// entries lists the folder, as a crash or a concurrent Put would leave it,
// but for the parameters file.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		// The Argon2id parameters (kdf_test.go checks them).
		if de.Name() != kdfFile {
			names = append(names, de.Name())
		}
	}
	return names
}

func TestFileRoundTripAcrossStores(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "keyring")
	s := openFileStore(t, dir, testPassphrase)
	var want []Item
	for _, name := range testNames {
		if err := s.Put(KindSession, name, []byte("session of "+name)); err != nil {
			t.Fatalf("Put(%q): %v", name, err)
		}
		want = append(want, Item{KindSession, name})
	}
	if err := s.PutAccessKey("prod", testKey); err != nil {
		t.Fatal(err)
	}
	want = append(want, Item{KindAccessKey, "prod"})
	slices.SortFunc(want, func(a, b Item) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name, string(b.Kind)+"\x00"+b.Name)
	})

	// A second Store reads the folder as another process would.
	r := openFileStore(t, dir, testPassphrase)
	for _, name := range testNames {
		got, err := r.Get(KindSession, name)
		if err != nil || string(got) != "session of "+name {
			t.Errorf("Get(%q) after reopen = %q, %v", name, got, err)
		}
	}
	if k, err := r.AccessKey("prod"); err != nil || k != testKey {
		t.Errorf("AccessKey after reopen: err %v, same key %t", err, k == testKey)
	}
	items, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(items, want) {
		t.Fatalf("List after reopen =\n%v\nwant\n%v", items, want)
	}
	// keyring escapes '/' (and '%') in file names; ':' stays.
	if !slices.Contains(entries(t, dir), "credbroker:session:arn:aws:iam::123456789012:mfa%2Falice") {
		t.Errorf("folder holds %q, want the ARN item with '/' escaped", entries(t, dir))
	}

	if err := r.Delete(KindSession, "team/prod"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(KindSession, "team/prod"); err != nil {
		t.Fatalf("Delete of an absent item: %v", err)
	}
	if _, err := openFileStore(t, dir, testPassphrase).Get(KindSession, "team/prod"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
}

func TestFileWrongPassphrase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := openFileStore(t, dir, testPassphrase).PutAccessKey("prod", testKey); err != nil {
		t.Fatal(err)
	}
	before := entries(t, dir)

	s := openFileStore(t, dir, "not the passphrase")
	_, err := s.AccessKey("prod")
	want := `get access-key "prod": cannot decrypt keyring item: wrong passphrase for ` + dir + "?"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatal("error does not wrap ErrWrongPassphrase")
	}

	// Put must not add an item the right passphrase could not read.
	err = s.Put(KindSession, "other", []byte("x"))
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Put with a wrong passphrase: err = %v, want ErrWrongPassphrase", err)
	}
	if after := entries(t, dir); !slices.Equal(after, before) {
		t.Fatalf("folder changed from %q to %q", before, after)
	}
}

func TestFileDamagedItem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	if err := s.Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// What a non-atomic write cut short by a crash leaves behind.
	path := filepath.Join(dir, "credbroker:session:prod")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(KindSession, "prod")
	if err == nil || !strings.Contains(err.Error(), `get session "prod": cannot decrypt keyring item`) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("err = %v, want a damaged-item error", err)
	}
	if errors.Is(err, ErrWrongPassphrase) {
		t.Fatal("a damaged item is reported as a wrong passphrase")
	}
	// A damaged item says nothing about the passphrase: Put still works.
	if err := openFileStore(t, dir, testPassphrase).Put(KindSession, "prod", []byte("y")); err != nil {
		t.Fatalf("Put over a damaged item: %v", err)
	}
}

func TestFilePassphraseSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fixed     string
		ask       func(string) (string, error)
		wantErr   string
		wantCalls int32 // checked when the passphrase is accepted
	}{
		{name: "environment", fixed: testPassphrase},
		{name: "prompt", ask: func(string) (string, error) { return testPassphrase, nil }, wantCalls: 1},
		{name: "environment wins over prompt", fixed: testPassphrase, ask: func(string) (string, error) { return "", errors.New("asked") }},
		{name: "none", wantErr: "set CREDBROKER_FILE_PASSPHRASE"},
		{name: "empty prompt answer", ask: func(string) (string, error) { return "", nil }, wantErr: "refusing an empty passphrase"},
		{name: "prompt fails", ask: func(string) (string, error) { return "", errors.New("no terminal") }, wantErr: "no terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var calls atomic.Int32
			cfg := Config{Backend: "file", FileDir: dir, FilePassphrase: tt.fixed}
			if tt.ask != nil {
				cfg.Passphrase = func(prompt string) (string, error) {
					calls.Add(1)
					if !strings.Contains(prompt, dir) {
						t.Errorf("prompt %q does not name the folder", prompt)
					}
					return tt.ask(prompt)
				}
			}
			s, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			// An absent item needs no passphrase.
			if _, err := s.Get(KindSession, "absent"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get absent: %v", err)
			}
			if calls.Load() != 0 {
				t.Fatal("passphrase asked for an absent item")
			}
			for i := range 3 {
				err = s.Put(KindSession, fmt.Sprint(i), []byte("x"))
				if err == nil {
					_, err = s.Get(KindSession, fmt.Sprint(i))
				}
			}
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Put/Get: %v", err)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `put session "2"`) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if got := entries(t, dir); len(got) != 0 {
					t.Fatalf("folder holds %q after a refused passphrase", got)
				}
			}
			if tt.wantErr == "" && calls.Load() != tt.wantCalls {
				t.Fatalf("passphrase asked %d times, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestFileFolderMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(dir string) error
	}{
		{"created", func(string) error { return nil }},
		{"existing 0755", func(dir string) error { return os.Mkdir(dir, 0o755) }},
		{"existing 0777", func(dir string) error {
			if err := os.Mkdir(dir, 0o777); err != nil {
				return err
			}
			return os.Chmod(dir, 0o777) // past the umask
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "a", "keyring")
			if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := tt.prepare(dir); err != nil {
				t.Fatal(err)
			}
			s := openFileStore(t, dir, testPassphrase)
			if err := s.Put(KindSession, "x", []byte("x")); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o700 {
				t.Fatalf("folder mode = %o, want 700", got)
			}
			fi, err = os.Stat(filepath.Join(dir, "credbroker:session:x"))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Fatalf("item mode = %o, want 600", got)
			}
		})
	}
	t.Run("not a directory", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(Config{Backend: "file", FileDir: path, FilePassphrase: testPassphrase}); err == nil {
			t.Fatal("Open accepted a file as the keyring folder")
		}
	})
}

func TestFileHoldsNoPlaintext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	session := []byte(`{"SessionToken":"FwoGZXIvYXdzEXAMPLETOKENnotreal0123456789"}`)
	seed := []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	if err := s.Put(KindSession, "prod", session); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(KindTOTPSeed, "prod", seed); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAccessKey("prod", testKey); err != nil {
		t.Fatal(err)
	}
	akJSON, err := s.Get(KindAccessKey, "prod")
	if err != nil {
		t.Fatal(err)
	}
	// keyring stores an item's data base64-encoded inside JSON before it
	// encrypts it: look for both forms, so that an unencrypted file fails.
	// Nor the passphrase, nor the key stretched from it.
	p, err := readParams(dir)
	if err != nil || p == nil {
		t.Fatalf("parameters: %v, %v", p, err)
	}
	var needles [][]byte
	for _, secret := range [][]byte{session, seed, akJSON, []byte(testKey.SecretAccessKey), []byte(testPassphrase), []byte(p.derive(testPassphrase))} {
		needles = append(needles, secret, []byte(base64.StdEncoding.EncodeToString(secret)))
	}
	var files int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s holds secret #%d (form %d) in plaintext", d.Name(), i/2, i%2)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 4 {
		t.Fatalf("scanned %d files, want 3 items and the parameters file", files)
	}
}

// TestFileReadersNeverSeeTornItem writes an item over and over from one
// Store while another Store, as another process would, reads it. keyring's
// own os.WriteFile truncates the file first: a reader then sees a truncated
// file and fails to decrypt it.
func TestFileReadersNeverSeeTornItem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writer := openFileStore(t, dir, testPassphrase)
	reader := openFileStore(t, dir, testPassphrase)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	if err := writer.Put(KindSession, "big", big); err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	var reads, writes atomic.Int32
	wg.Go(func() {
		defer done.Store(true)
		for i := range 40 {
			data := append(bytes.Clone(big), byte(i))
			if err := writer.Put(KindSession, "big", data); err != nil {
				t.Error(err)
				return
			}
			writes.Add(1)
		}
	})
	for range 2 {
		wg.Go(func() {
			for !done.Load() {
				got, err := reader.Get(KindSession, "big")
				if err != nil {
					t.Errorf("read during writes: %v", err)
					return
				}
				if !bytes.HasPrefix(got, big) {
					t.Error("read returned other data")
					return
				}
				reads.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d writes, %d reads", writes.Load(), reads.Load())
}

func TestFileConcurrentGoroutines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			name := fmt.Sprintf("arn:aws:iam::123456789012:mfa/user%d", g)
			for i := range 5 {
				data := fmt.Appendf(nil, "%d", i)
				if err := s.Put(KindState, name, data); err != nil {
					t.Error(err)
					return
				}
				if got, err := s.Get(KindState, name); err != nil || !bytes.Equal(got, data) {
					t.Errorf("Get(%s) = %q, %v", name, got, err)
					return
				}
				if _, err := s.List(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	items, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 6 || len(entries(t, dir)) != 6 {
		t.Fatalf("List = %v, folder = %q; want 6 items and no staging folders", items, entries(t, dir))
	}
}

func TestFileListUnreadableFolder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "keyring")
	s := openFileStore(t, dir, testPassphrase)
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(); err == nil {
		t.Fatal("List of a folder that is now a file reported no error")
	}
}

// TestFileUnlock: a store opened without a passphrase (a daemon started
// with none) says so, takes one later, refuses a wrong one without keeping
// it, and then serves with the right one.
func TestFileUnlock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := openFileStore(t, dir, testPassphrase).PutAccessKey("prod", testKey); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Config{Backend: "file", FileDir: dir, Passphrase: func(string) (string, error) { return "", ErrPassphraseRequired }})
	if err != nil {
		t.Fatal(err)
	}
	if !s.NeedsPassphrase() {
		t.Fatal("NeedsPassphrase = false before any was given")
	}
	if _, err := s.AccessKey("prod"); !errors.Is(err, ErrPassphraseRequired) {
		t.Fatalf("read before unlock: %v, want ErrPassphraseRequired", err)
	}
	if err := s.Unlock("not the passphrase"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Unlock with a wrong passphrase: %v", err)
	}
	if !s.NeedsPassphrase() {
		t.Fatal("a wrong passphrase was kept")
	}
	if err := s.Unlock(testPassphrase); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if k, err := s.AccessKey("prod"); err != nil || k != testKey {
		t.Fatalf("after unlock: %v %v", k, err)
	}
}

// TestFileShortPassphraseRefused: a new file keyring takes no passphrase
// shorter than 12 characters, and nothing is written with one; an existing
// keyring is judged by its items, as before.
func TestFileShortPassphraseRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openFileStore(t, dir, "short pass")
	err := s.PutAccessKey("prod", testKey)
	var h interface{ Hint() string }
	if err == nil || !strings.Contains(err.Error(), "refusing a passphrase of 10 characters") || !errors.As(err, &h) {
		t.Fatalf("short passphrase: %v", err)
	}
	if left := entries(t, dir); len(left) != 0 {
		t.Fatalf("the folder holds %q after a refused passphrase", left)
	}
	if err := openFileStore(t, dir, testPassphrase).PutAccessKey("prod", testKey); err != nil {
		t.Fatal(err)
	}
}
