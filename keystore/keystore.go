package keystore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/keyring"

	// Before keyring's init connects to D-Bus: never autolaunch a bus.
	_ "github.com/credbroker/credbroker/keystore/internal/sessionbus"
)

// ErrNotFound is wrapped by Get and AccessKey when the item is absent.
var ErrNotFound = errors.New("not found")

// ErrWrongPassphrase is wrapped when the file backend cannot decrypt an item
// with the passphrase it was given. A Store keeps the passphrase it first
// obtained: open a new Store to try another one.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// Kind namespaces items.
type Kind string

// The kinds of item credbroker keeps. A kind never contains ':' because it
// separates the kind from the name in the keyring key.
const (
	KindAccessKey Kind = "access-key" // long-lived IAM key of a profile
	KindTOTPSeed  Kind = "totp-seed"  // virtual MFA seed of a profile
	KindSession   Kind = "session"    // cached temporary credentials (opaque bytes from the broker)
	KindState     Kind = "state"      // small non-secret state (e.g. last used MFA time step per device)
)

func (k Kind) valid() bool {
	switch k {
	case KindAccessKey, KindTOTPSeed, KindSession, KindState:
		return true
	}
	return false
}

// Item names a stored item. It never carries the item's data.
type Item struct {
	Kind Kind
	Name string
}

// keyPrefix marks credbroker's items. A secret-service collection such as
// "login" is shared with every other application of the desktop session, so
// the prefix is what tells our items apart.
const keyPrefix = "credbroker:"

func itemKey(kind Kind, name string) string {
	return keyPrefix + string(kind) + ":" + name
}

// parseKey is the inverse of itemKey. The kind never contains ':', so the
// first ':' after the prefix ends it and the name keeps any ':' it has (an
// MFA device ARN has five).
func parseKey(key string) (Item, bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok {
		return Item{}, false
	}
	kind, name, ok := strings.Cut(rest, ":")
	// An unknown kind (from a newer credbroker) is left out, so that every
	// Item List returns can be passed to Get and Delete.
	if !ok || !Kind(kind).valid() || name == "" {
		return Item{}, false
	}
	return Item{Kind: Kind(kind), Name: name}, true
}

func checkItem(kind Kind, name string) error {
	switch {
	case !kind.valid():
		return fmt.Errorf("unknown item kind (valid: %s, %s, %s, %s)", KindAccessKey, KindTOTPSeed, KindSession, KindState)
	case name == "":
		return errors.New("empty item name")
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
		// Neither a file name nor a D-Bus string can hold these.
		return errors.New("item name must be valid UTF-8 without NUL")
	}
	return nil
}

// Store keeps credbroker's items in one keyring backend. It is safe for
// concurrent use: one call into the backend runs at a time, because
// keyring's backends keep unguarded state (the file backend's cached
// passphrase, the secret-service session), and no caller waits for it
// longer than the call timeout (see ErrNotAnswering).
type Store struct {
	gate    gate
	timeout time.Duration // per call (Config.CallTimeout)
	wait    func(backend string) (stop func())
	backend string

	// Touched only by the call holding the gate.
	ring keyring.Keyring
	file *fileBackend // set only for the file backend
}

func newStore(ring keyring.Keyring, backend string, file *fileBackend) *Store {
	return &Store{gate: newGate(), timeout: DefaultCallTimeout, backend: backend, ring: ring, file: file}
}

// call runs fn as the one call into the backend, within the call timeout.
func (s *Store) call(fn func() error) error {
	return s.callWithin(s.timeout, fn)
}

func (s *Store) callWithin(timeout time.Duration, fn func() error) error {
	if s.wait != nil {
		defer s.wait(s.backend)()
	}
	return s.gate.do(s.backend, timeout, fn)
}

// askFirst asks for the file keyring's passphrase, when nobody gave it,
// before a call that needs it starts: a human typing it is not a keyring
// that stopped answering. A read of an absent item (key) needs none, as
// before. A failure is left for the call to report.
func (s *Store) askFirst(key string) {
	if s.file == nil || s.file.pass.ask == nil || s.file.pass.has() {
		return
	}
	if key != "" {
		// Looking is a call into the keyring like any other: a file
		// system may hang too. GetMetadata only looks at the file.
		absent := false
		err := s.call(func() error {
			_, err := s.ring.GetMetadata(key)
			absent = errors.Is(err, keyring.ErrKeyNotFound)
			return nil
		})
		if err != nil || absent {
			return
		}
	}
	_, _ = s.file.pass.get(fmt.Sprintf("Enter passphrase to unlock %q", s.file.dir))
}

// fileTimeout is the deadline of a call on the file backend: Unlock's
// when it will stretch the passphrase given (Argon2id takes a core for a
// while, longer on a busy machine: that is not a keyring that stopped
// answering) or may migrate a keyring that has no parameters yet.
func (s *Store) fileTimeout() time.Duration {
	if s.file == nil {
		return s.timeout
	}
	if _, gen, ok := s.file.pass.current(); ok && !s.file.key.ready(gen) {
		return max(s.timeout, unlockTimeout)
	}
	return s.timeout
}

// New returns a Store over ring, for tests with keyring.NewArrayKeyring.
// Backend reports "array" for an ArrayKeyring and "custom" otherwise.
func New(ring keyring.Keyring) *Store {
	name := "custom"
	if _, ok := ring.(*keyring.ArrayKeyring); ok {
		name = "array"
	}
	return newStore(ring, name, nil)
}

// NewMemory returns a Store that keeps items in memory only, for tests of
// packages that may not import keyring themselves.
func NewMemory() *Store {
	return New(keyring.NewArrayKeyring(nil))
}

// Backend returns the name of the backend in use.
func (s *Store) Backend() string {
	return s.backend
}

// Put stores data as the item kind/name, replacing any previous data. On the
// file backend the replacement is atomic: a reader sees the old or the new
// data, never a mix, even if the process dies half-way.
func (s *Store) Put(kind Kind, name string, data []byte) error {
	if err := checkItem(kind, name); err != nil {
		return fmt.Errorf("put %s %q: %w", kind, name, err)
	}
	item := keyring.Item{
		Key:         itemKey(kind, name),
		Data:        bytes.Clone(data),
		Label:       "credbroker " + string(kind) + " " + name,
		Description: "credbroker " + string(kind),
		// Keychain: a long-lived key must stay on this machine, never
		// synchronised to other devices through iCloud.
		KeychainNotSynchronizable: true,
	}
	s.askFirst("")
	err := s.callWithin(s.fileTimeout(), func() error {
		return s.locked(false, func() error {
			if s.file != nil {
				return s.filePut(item)
			}
			return s.ring.Set(item)
		})
	})
	if err != nil {
		return fmt.Errorf("put %s %q: %w", kind, name, err)
	}
	return nil
}

// Get returns the data of the item kind/name, or an error wrapping
// ErrNotFound when there is no such item.
func (s *Store) Get(kind Kind, name string) ([]byte, error) {
	if err := checkItem(kind, name); err != nil {
		return nil, fmt.Errorf("get %s %q: %w", kind, name, err)
	}
	var data []byte
	s.askFirst(itemKey(kind, name))
	err := s.callWithin(s.fileTimeout(), func() error {
		return s.locked(true, func() error {
			item, err := s.getItem(itemKey(kind, name))
			if err != nil {
				return s.mapGetError(err)
			}
			data = bytes.Clone(item.Data)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", kind, name, err)
	}
	return data, nil
}

func (s *Store) mapGetError(err error) error {
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return ErrNotFound
	}
	if s.file != nil {
		return s.file.mapGetError(err)
	}
	return err
}

// Delete removes the item kind/name. An absent item is not an error.
func (s *Store) Delete(kind Kind, name string) error {
	if err := checkItem(kind, name); err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, name, err)
	}
	err := s.call(func() error {
		return s.locked(false, func() error {
			err := s.ring.Remove(itemKey(kind, name))
			// The file backend reports an absent item as the os.Remove
			// error, the others as keyring.ErrKeyNotFound (or nil).
			if errors.Is(err, keyring.ErrKeyNotFound) || errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, name, err)
	}
	return nil
}

// List returns credbroker's own items, sorted by Kind then Name. Items of
// other applications sharing the keyring, items of kinds this version does
// not know, and the file backend's staging folders are never listed.
func (s *Store) List() ([]Item, error) {
	var keys []string
	err := s.call(func() error {
		if s.file != nil {
			if err := s.file.checkDir(); err != nil {
				return err
			}
		}
		return s.locked(false, func() error {
			var err error
			keys, err = s.ring.Keys()
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list keyring items: %w", err)
	}
	items := make([]Item, 0, len(keys))
	for _, key := range keys {
		if it, ok := parseKey(key); ok {
			items = append(items, it)
		}
	}
	slices.SortFunc(items, func(a, b Item) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	// A secret-service collection may hold two items with one label.
	return slices.Compact(items), nil
}

// PutAccessKey stores k as the access key of profile (JSON in KindAccessKey).
func (s *Store) PutAccessKey(profile string, k AccessKey) error {
	if k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return fmt.Errorf("put %s %q: access key id and secret access key must both be set", KindAccessKey, profile)
	}
	data, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("put %s %q: encode: %w", KindAccessKey, profile, err)
	}
	return s.Put(KindAccessKey, profile, data)
}

// AccessKey returns the access key of profile, or an error wrapping
// ErrNotFound.
func (s *Store) AccessKey(profile string) (AccessKey, error) {
	data, err := s.Get(KindAccessKey, profile)
	if err != nil {
		return AccessKey{}, err
	}
	var k AccessKey
	// The decoder's error would quote the stored bytes: say only what is wrong.
	if err := json.Unmarshal(data, &k); err != nil || k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return AccessKey{}, fmt.Errorf("get %s %q: stored data is not an access key", KindAccessKey, profile)
	}
	return k, nil
}

// ErrPassphraseRequired: the file keyring needs a passphrase that nobody
// has given yet (a daemon waits for one: credbroker unlock).
var ErrPassphraseRequired = errors.New("the file keyring needs its passphrase")

// Unlock gives the file backend its passphrase, replacing any it had, and
// checks it against a stored item: a wrong one is refused and forgotten, so
// that another may be tried. Other backends need none: Unlock does nothing.
func (s *Store) Unlock(passphrase string) error {
	if s.file == nil {
		return nil
	}
	if passphrase == "" {
		return errors.New("refusing an empty passphrase for file keyring " + s.file.dir)
	}
	return s.callWithin(max(s.timeout, unlockTimeout), func() error {
		if s.file.verified && s.file.pass.is(passphrase) {
			return nil // a herd of clients gives the same passphrase
		}
		s.file.pass.set(passphrase)
		s.file.verified = false
		err := s.reopen()
		if err == nil {
			err = s.locked(false, s.verifyPassphrase)
		}
		if err != nil {
			// keyring keeps the password it was given: the next one must
			// ask afresh.
			s.file.pass.set("")
			_ = s.reopen()
			return err
		}
		return nil
	})
}

// NeedsPassphrase reports whether the file backend has no passphrase yet.
func (s *Store) NeedsPassphrase() bool {
	if s.file == nil {
		return false
	}
	return !s.file.pass.has()
}
