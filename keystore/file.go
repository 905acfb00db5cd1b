package keystore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/keyring"
)

// stagingPrefix names the folders Put stages a new item in. It does not start
// with "credbroker:", so keyring's Keys (which lists every entry of the
// folder) never turns a staging folder into an Item.
const stagingPrefix = ".credbroker-put-"

// staleStagingAge is how old a staging folder must be before Open removes it:
// a younger one may belong to a Put running in another process.
const staleStagingAge = time.Hour

// fileBackend makes keyring's file backend safe to crash in. keyring writes
// an item with os.WriteFile, which truncates the file before writing it: a
// crash (or a reader in another process) in between sees a truncated,
// undecryptable item. Put therefore has keyring encrypt the item into a fresh
// staging folder inside the keyring folder, then renames the file over the
// final one; rename(2) within one file system replaces it atomically.
//
// The passphrase is stretched with Argon2id (see kdf.go) before keyring
// sees it; the parameters and salt are in a file beside the items, and a
// keyring made before that is migrated when its passphrase is first proven
// (migrate.go). Every operation holds the folder's lock (shared; exclusive
// to write the parameters or migrate), so that processes sharing the folder
// never mix keys.
type fileBackend struct {
	dir  string
	pass *passphraseSource
	now  func() time.Time
	rand io.Reader // salts

	// params are the folder's Argon2id parameters as last read; nil for a
	// keyring made before them (items under the raw passphrase) or one
	// with no passphrase chosen yet.
	params *kdfParams
	// key is the stretched passphrase. A call that will stretch it gets
	// Unlock's deadline (Store.fileTimeout): Argon2id is work, not a
	// keyring that hangs.
	key stretchedKey
	// lock is the folder's lock while an operation runs.
	lock *dirLock

	// verified is set once the passphrase has decrypted an existing item
	// (or there was none), so that a wrong passphrase is refused before it
	// encrypts a new item the right one could not read.
	verified bool

	// beforeRename, when set by a test, runs between staging and rename.
	beforeRename func() error
	// reached, when set by a test, is told each step of a migration.
	reached func(step string)
}

func openFile(cfg Config, fallbackReason string) (*Store, error) {
	dir := cfg.FileDir
	var err error
	if dir == "" {
		if dir, err = defaultFileDir(os.Getenv, os.UserHomeDir); err != nil {
			return nil, err
		}
	}
	if dir, err = keyring.ExpandTilde(dir); err != nil {
		return nil, fmt.Errorf("keyring folder %s: %w", dir, err)
	}
	// The staging folders and the rename need the same absolute folder
	// whatever the working directory becomes.
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("keyring folder %s: %w", dir, err)
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	fb := &fileBackend{
		dir:  dir,
		pass: &passphraseSource{fixed: cfg.FilePassphrase, ask: cfg.Passphrase, dir: dir, fallback: fallbackReason},
		now:  time.Now,
		rand: rand.Reader,
	}
	fb.removeStaleStaging()
	ring, err := fb.open(dir)
	if err != nil {
		return nil, fmt.Errorf("open file keyring %s: %w", dir, err)
	}
	return newStore(ring, backendFile, fb), nil
}

// prepareDir creates the folder 0700, or tightens an existing one to 0700:
// the items are encrypted but their names (profiles, MFA device ARNs) are
// not, and nobody else may delete or replace them.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create keyring folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("keyring folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("keyring folder %s is not a directory", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict keyring folder to its owner: %w", err)
		}
	}
	return nil
}

// open returns keyring's file backend over dir, with the key of the
// current parameters and passphrase. keyring keeps the first password it
// gets: a new passphrase or new parameters need a new one.
func (fb *fileBackend) open(dir string) (keyring.Keyring, error) {
	return openKeyringDir(dir, fb.password)
}

func openKeyringDir(dir string, password keyring.PromptFunc) (keyring.Keyring, error) {
	return keyring.Open(keyring.Config{
		AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
		FileDir:          dir,
		FilePasswordFunc: password,
	})
}

// password is what keyring encrypts with: the passphrase stretched with
// the folder's parameters, or the passphrase itself for a keyring that has
// none (made before them, and not migrated yet).
func (fb *fileBackend) password(prompt string) (string, error) {
	pass, err := fb.pass.get(prompt)
	if err != nil || fb.params == nil {
		return pass, err
	}
	// pass and its generation read together: get may have just asked.
	pass, gen, _ := fb.pass.current()
	return fb.key.get(fb.params, pass, gen), nil
}

// stretchedKey is the stretched passphrase for one set of parameters and
// one passphrase (by its generation).
type stretchedKey struct {
	mu     sync.Mutex
	params *kdfParams
	gen    uint64
	key    string
}

// ready reports whether a key was stretched from the passphrase of
// generation gen.
func (k *stretchedKey) ready(gen uint64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key != "" && k.gen == gen
}

func (k *stretchedKey) get(p *kdfParams, pass string, gen uint64) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key == "" || !p.same(k.params) || k.gen != gen {
		k.key, k.params, k.gen = p.derive(pass), p, gen
		// Argon2id's 64 MiB is garbage now; without this the daemon's
		// resident size stays that much larger until the runtime's
		// scavenger gets round to it (measured: 75 MiB vs 9 MiB).
		debug.FreeOSMemory()
	}
	return k.key
}

// reopen gives the Store a keyring that asks for the password afresh.
func (s *Store) reopen() error {
	ring, err := s.file.open(s.file.dir)
	if err != nil {
		return fmt.Errorf("open file keyring %s: %w", s.file.dir, err)
	}
	s.ring = ring
	return nil
}

// checkDir fails when the folder cannot be read: keyring's Keys ignores that
// error and would report an empty keyring.
func (fb *fileBackend) checkDir() error {
	f, err := os.Open(fb.dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read keyring folder: %w", err)
	}
	return nil
}

func (fb *fileBackend) removeStaleStaging() {
	entries, err := os.ReadDir(fb.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		staging := e.IsDir() && strings.HasPrefix(e.Name(), stagingPrefix)
		// A parameters file a crash left half-written (writeParams).
		paramsTemp := e.Type().IsRegular() && strings.HasPrefix(e.Name(), kdfFile+"-") && strings.HasSuffix(e.Name(), ".tmp")
		if !staging && !paramsTemp {
			continue
		}
		if info, err := e.Info(); err == nil && fb.now().Sub(info.ModTime()) > staleStagingAge {
			// Best effort: List ignores staging folders anyway.
			_ = os.RemoveAll(filepath.Join(fb.dir, e.Name()))
		}
	}
}

func (s *Store) filePut(item keyring.Item) error {
	fb := s.file
	if err := s.verifyPassphrase(); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(fb.dir, stagingPrefix)
	if err != nil {
		return fmt.Errorf("create staging folder: %w", err)
	}
	// After a successful rename the folder is empty; after a failure it
	// holds the encrypted new item, which must not linger.
	defer func() { _ = os.RemoveAll(staging) }()

	sring, err := fb.open(staging)
	if err != nil {
		return err
	}
	// The item keeps its final Key: keyring stores the key inside the
	// encrypted payload too, so the renamed file is exactly what keyring
	// would have written in place.
	if err := sring.Set(item); err != nil {
		return err
	}
	// keyring names the file after the escaped key; take the name it chose
	// rather than re-implementing its escaping.
	entries, err := os.ReadDir(staging)
	if err != nil {
		return fmt.Errorf("read staging folder: %w", err)
	}
	if len(entries) != 1 {
		return fmt.Errorf("staging folder %s holds %d entries, want 1", staging, len(entries))
	}
	name := entries[0].Name()
	staged := filepath.Join(staging, name)
	if err := syncFile(staged, os.O_RDWR); err != nil {
		return fmt.Errorf("flush staged item: %w", err)
	}
	if fb.beforeRename != nil {
		if err := fb.beforeRename(); err != nil {
			return err
		}
	}
	if err := os.Rename(staged, filepath.Join(fb.dir, name)); err != nil {
		return fmt.Errorf("replace keyring file: %w", err)
	}
	// Make the rename itself durable. Best effort: some systems (Windows)
	// cannot sync a directory, and the item is already in place.
	_ = syncFile(fb.dir, os.O_RDONLY)
	return nil
}

// syncFile flushes path to disk. A file is opened read-write because Windows
// flushes only a handle with write access.
func syncFile(path string, flag int) error {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// verifyPassphrase judges the passphrase by an item it must decrypt, or
// takes it as the new keyring's (12 characters at least). A keyring still
// under the raw passphrase is then migrated to Argon2id; a new one gets
// its parameters.
func (s *Store) verifyPassphrase() error {
	fb := s.file
	if fb.verified {
		return nil
	}
	ring := s.ring
	keys, err := ring.Keys()
	if err != nil {
		return err
	}
	judged := false
	for _, key := range keys {
		if _, ok := parseKey(key); !ok {
			continue
		}
		_, err := s.getItem(key)
		if err == nil {
			judged = true
			break
		}
		switch err := fb.mapGetError(err); {
		case errors.Is(err, keyring.ErrKeyNotFound), errors.Is(err, errDamaged):
			// Removed meanwhile, or unreadable whatever the passphrase:
			// judge the passphrase by another item.
			continue
		default:
			return err
		}
	}
	if !judged {
		// No item to judge it by: the passphrase is being chosen now. A
		// short one falls to an offline guess in minutes.
		pass, err := fb.pass.get("")
		if err != nil {
			return err
		}
		if n := utf8.RuneCountInString(pass); n < MinPassphrase {
			fb.pass.set("")
			return &weakPassphraseError{dir: fb.dir, length: n}
		}
	}
	if fb.params == nil {
		// A failed migration leaves the keyring as it was (under the raw
		// passphrase, which has just been proven): keep serving it. It is
		// tried again when a passphrase is next verified (another
		// passphrase given to Unlock, or the next process).
		_ = s.stretch(judged)
		if err := s.syncParams(); err != nil {
			return err
		}
	}
	fb.verified = true
	return nil
}

// MinPassphrase is the shortest passphrase a new file keyring takes.
const MinPassphrase = 12

// weakPassphraseError: a new file keyring was given a short passphrase.
type weakPassphraseError struct {
	dir    string
	length int
}

func (e *weakPassphraseError) Error() string {
	return fmt.Sprintf("refusing a passphrase of %d characters for the new file keyring %s: it needs at least %d", e.length, e.dir, MinPassphrase)
}

// Hint says what to choose.
func (e *weakPassphraseError) Hint() string {
	return "choose a passphrase of a few words (at least 12 characters)"
}

var errDamaged = errors.New("damaged")

// mapGetError turns keyring's file backend errors into ones that say what
// went wrong. jose2go's own messages ("aes.KeyUnwrap(): integrity check
// failed.") mean nothing to a user.
func (fb *fileBackend) mapGetError(err error) error {
	var pathErr *fs.PathError
	var passErr *passphraseError
	switch {
	case errors.Is(err, keyring.ErrKeyNotFound), errors.As(err, &pathErr), errors.As(err, &passErr):
		return err
	case strings.Contains(err.Error(), "integrity check failed"):
		// PBES2 derives the key-wrapping key from the passphrase; AES key
		// wrap (RFC 3394) detects a wrong one with its integrity check.
		return &wrongPassphraseError{dir: fb.dir}
	}
	return fmt.Errorf("cannot decrypt keyring item: its file in %s is %w (not a keyring file, or truncated)", fb.dir, errDamaged)
}

type wrongPassphraseError struct{ dir string }

func (e *wrongPassphraseError) Error() string {
	return "cannot decrypt keyring item: wrong passphrase for " + e.dir + "?"
}

func (e *wrongPassphraseError) Is(target error) bool { return target == ErrWrongPassphrase }
