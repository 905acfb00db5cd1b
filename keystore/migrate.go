package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/99designs/keyring"
)

// migrationDir is where a migration writes the items re-encrypted under
// the stretched key before it commits. Its name does not start with
// "credbroker:", so it is never taken for an item.
const migrationDir = ".credbroker-migrate"

// A keyring made before Argon2id (items under the raw passphrase, no
// parameters file) is migrated once its passphrase has decrypted an item:
//
//  1. every item is decrypted and encrypted again under the stretched key
//     into migrationDir, and flushed;
//  2. the parameters file is written (atomically): this is the commit;
//  3. each item is renamed from migrationDir over the old one; then
//     migrationDir is removed.
//
// A crash before 2 leaves the old keyring whole (migrationDir, without a
// parameters file, is removed by the next operation); a crash after 2
// leaves every new item either in place or in migrationDir, and the next
// operation finishes step 3, which needs no passphrase. The folder's lock is
// held exclusively throughout, so another process never reads or writes
// half of it.

// locked runs fn, an operation on the file backend, holding the folder's
// lock, after bringing the Store in line with the folder. With
// verifyLegacy, a keyring still under the raw passphrase has it judged (and
// is migrated) first when a passphrase is at hand.
func (s *Store) locked(verifyLegacy bool, fn func() error) error {
	if s.file == nil {
		return fn()
	}
	fb := s.file
	l, err := lockFolder(fb.dir)
	if err != nil {
		return fmt.Errorf("lock keyring folder: %w", err)
	}
	fb.lock = l
	defer func() { fb.lock = nil; l.unlock() }()
	if err := s.syncParams(); err != nil {
		return err
	}
	if verifyLegacy && fb.params == nil && !fb.verified && fb.pass.has() {
		if err := s.verifyPassphrase(); err != nil {
			return err
		}
	}
	return fn()
}

// syncParams finishes or undoes a migration a crash interrupted, and
// follows parameters another process wrote. Called with the lock held.
func (s *Store) syncParams() error {
	fb := s.file
	if _, err := os.Lstat(filepath.Join(fb.dir, migrationDir)); err == nil {
		if err := fb.lock.exclusive(); err != nil {
			return fmt.Errorf("lock keyring folder: %w", err)
		}
		err := fb.recoverMigration()
		if lerr := fb.lock.shared(); err == nil && lerr != nil {
			err = fmt.Errorf("lock keyring folder: %w", lerr)
		}
		if err != nil {
			return err
		}
	}
	p, err := readParams(fb.dir)
	switch {
	case err != nil:
		return err
	case p == nil && fb.params != nil:
		return &paramsError{path: filepath.Join(fb.dir, kdfFile), problem: "missing, but the items were encrypted with it"}
	case p != nil && !p.same(fb.params):
		fb.params, fb.verified = p, false
		return s.reopen()
	}
	return nil
}

// stretch gives a keyring under the raw passphrase its Argon2id
// parameters: a new one (hasItems false) just gets the file; an older one
// is migrated. Called with the lock held shared; takes it exclusively.
func (s *Store) stretch(hasItems bool) error {
	fb := s.file
	if err := fb.lock.exclusive(); err != nil {
		return fmt.Errorf("lock keyring folder: %w", err)
	}
	defer func() { _ = fb.lock.shared() }()
	// Another process may have done it while this one waited for the lock.
	if p, err := readParams(fb.dir); p != nil || err != nil {
		return err // syncParams follows p
	}
	p, err := newKDFParams(fb.rand)
	if err != nil {
		return err
	}
	if !hasItems {
		return writeParams(fb.dir, p)
	}
	if err := s.migrate(p); err != nil {
		return fmt.Errorf("migrate file keyring %s to Argon2id: %w", fb.dir, err)
	}
	return nil
}

func (s *Store) migrate(p *kdfParams) error {
	fb := s.file
	mig := filepath.Join(fb.dir, migrationDir)
	// Left by a migration that never committed: the items in place are
	// the keyring.
	if err := os.RemoveAll(mig); err != nil {
		return err
	}
	if err := os.Mkdir(mig, 0o700); err != nil {
		return err
	}
	if _, err := fb.pass.get(""); err != nil {
		return err
	}
	pass, gen, _ := fb.pass.current()
	key := fb.key.get(p, pass, gen)
	stretched, err := openKeyringDir(mig, func(string) (string, error) { return key, nil })
	if err != nil {
		return err
	}
	keys, err := s.ring.Keys()
	if err != nil {
		return err
	}
	for _, k := range keys {
		// Every item of ours, even of a kind this version does not know.
		if !strings.HasPrefix(k, keyPrefix) {
			continue
		}
		item, err := s.ring.Get(k)
		if err != nil {
			switch err := fb.mapGetError(err); {
			case errors.Is(err, keyring.ErrKeyNotFound), errors.Is(err, errDamaged), errors.Is(err, ErrWrongPassphrase):
				// Removed meanwhile, or unreadable with this passphrase
				// already: left as it is.
				continue
			default:
				return err
			}
		}
		if err := stretched.Set(item); err != nil {
			return err
		}
	}
	if err := syncFolder(mig); err != nil {
		return fmt.Errorf("flush re-encrypted items: %w", err)
	}
	fb.step("staged")
	if err := writeParams(fb.dir, p); err != nil {
		return err
	}
	fb.step("committed")
	if err := fb.rollForward(); err != nil {
		return err
	}
	fb.params = p
	return s.reopen()
}

// recoverMigration finishes a migration that committed, or removes one
// that did not. Called with the lock held exclusively.
func (fb *fileBackend) recoverMigration() error {
	mig := filepath.Join(fb.dir, migrationDir)
	if _, err := os.Lstat(mig); errors.Is(err, fs.ErrNotExist) {
		return nil // another process did it while this one waited
	}
	p, err := readParams(fb.dir)
	if err != nil {
		return err
	}
	if p == nil {
		if err := os.RemoveAll(mig); err != nil {
			return fmt.Errorf("remove an interrupted migration: %w", err)
		}
		return nil
	}
	if err := fb.rollForward(); err != nil {
		return fmt.Errorf("finish an interrupted migration: %w", err)
	}
	return nil
}

// rollForward moves the re-encrypted items over the old ones.
func (fb *fileBackend) rollForward() error {
	mig := filepath.Join(fb.dir, migrationDir)
	entries, err := os.ReadDir(mig)
	if err != nil {
		return err
	}
	for i, e := range entries {
		if err := os.Rename(filepath.Join(mig, e.Name()), filepath.Join(fb.dir, e.Name())); err != nil {
			return err
		}
		if i == 0 {
			fb.step("moved")
		}
	}
	_ = syncFile(fb.dir, os.O_RDONLY)
	return os.Remove(mig)
}

// syncFolder flushes every file of dir, then dir.
func syncFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := syncFile(filepath.Join(dir, e.Name()), os.O_RDWR); err != nil {
			return err
		}
	}
	_ = syncFile(dir, os.O_RDONLY)
	return nil
}

func (fb *fileBackend) step(name string) {
	if fb.reached != nil {
		fb.reached(name)
	}
}

// getItem reads key. On a file keyring with parameters, an item the
// stretched key cannot open but the raw passphrase can was written by an
// older credbroker still running (a daemon started before the upgrade): it
// is read, and written again under the stretched key.
func (s *Store) getItem(key string) (keyring.Item, error) {
	item, err := s.ring.Get(key)
	fb := s.file
	if err == nil || fb == nil || fb.params == nil || !errors.Is(fb.mapGetError(err), ErrWrongPassphrase) {
		return item, err
	}
	pass, _, ok := fb.pass.current()
	if !ok {
		return item, err
	}
	raw, rerr := openKeyringDir(fb.dir, func(string) (string, error) { return pass, nil })
	if rerr != nil {
		return item, err
	}
	old, rerr := raw.Get(key)
	if rerr != nil {
		return item, err
	}
	// The raw passphrase opened it: the passphrase is proven, and so is
	// the key stretched from it with the folder's parameters.
	fb.verified = true
	// Best effort: the item is read either way, and read so again.
	_ = s.filePut(old)
	return old, nil
}
