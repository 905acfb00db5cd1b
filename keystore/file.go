package keystore

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
type fileBackend struct {
	dir  string
	pass *passphraseSource
	now  func() time.Time

	// verified is set once the passphrase has decrypted an existing item
	// (or there was none), so that a wrong passphrase is refused before it
	// encrypts a new item the right one could not read.
	verified bool

	// beforeRename, when set by a test, runs between staging and rename.
	beforeRename func() error
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
	}
	fb.removeStaleStaging()
	ring, err := fb.open(dir)
	if err != nil {
		return nil, fmt.Errorf("open file keyring %s: %w", dir, err)
	}
	return &Store{ring: ring, backend: backendFile, file: fb}, nil
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

func (fb *fileBackend) open(dir string) (keyring.Keyring, error) {
	return keyring.Open(keyring.Config{
		AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
		FileDir:          dir,
		FilePasswordFunc: fb.pass.get,
	})
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
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stagingPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && fb.now().Sub(info.ModTime()) > staleStagingAge {
			// Best effort: List ignores staging folders anyway.
			_ = os.RemoveAll(filepath.Join(fb.dir, e.Name()))
		}
	}
}

func (fb *fileBackend) put(ring keyring.Keyring, item keyring.Item) error {
	if err := fb.verifyPassphrase(ring); err != nil {
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

func (fb *fileBackend) verifyPassphrase(ring keyring.Keyring) error {
	if fb.verified {
		return nil
	}
	keys, err := ring.Keys()
	if err != nil {
		return err
	}
	judged := false
	for _, key := range keys {
		if _, ok := parseKey(key); !ok {
			continue
		}
		_, err := ring.Get(key)
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

// passphraseSource hands keyring the file backend's passphrase. It asks at
// most once per Store (keyring would otherwise ask again for every staging
// folder) and refuses an empty passphrase: keyring treats "" as "not asked
// yet" and would ask again on every call.
type passphraseSource struct {
	mu       sync.Mutex
	fixed    string
	ask      func(prompt string) (string, error)
	dir      string
	fallback string // why secret-service was not chosen, when it was the default
	got      string
}

type passphraseError struct {
	msg string
	err error
}

func (e *passphraseError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *passphraseError) Unwrap() error { return e.err }

func (p *passphraseSource) get(string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.got != "" {
		return p.got, nil
	}
	pass := p.fixed
	if pass == "" {
		if p.ask == nil {
			msg := "file keyring " + p.dir + " needs a passphrase: set CREDBROKER_FILE_PASSPHRASE"
			if p.fallback != "" {
				msg += " (secret-service not used: " + p.fallback + ")"
			}
			return "", &passphraseError{msg: msg}
		}
		var err error
		if pass, err = p.ask(fmt.Sprintf("Enter passphrase to unlock %q", p.dir)); err != nil {
			return "", &passphraseError{msg: "read passphrase for file keyring " + p.dir, err: err}
		}
	}
	if pass == "" {
		return "", &passphraseError{msg: "refusing an empty passphrase for file keyring " + p.dir}
	}
	p.got = pass
	return pass, nil
}

// set replaces the passphrase ("" forgets it).
func (p *passphraseSource) set(pass string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got, p.fixed = pass, ""
}

// has reports whether a passphrase is at hand (given, or got once).
func (p *passphraseSource) has() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got != "" || p.fixed != ""
}

// is reports whether pass is the passphrase at hand (in constant time).
func (p *passphraseSource) is(pass string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.got
	if cur == "" {
		cur = p.fixed
	}
	return cur != "" && subtle.ConstantTimeCompare([]byte(cur), []byte(pass)) == 1
}
