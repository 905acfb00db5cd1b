package keystore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/99designs/keyring"
)

// Backend names, as CREDBROKER_KEYRING spells them (they are keyring's own).
const (
	backendFile          = string(keyring.FileBackend)
	backendSecretService = string(keyring.SecretServiceBackend)
)

var backendNames = []string{
	string(keyring.FileBackend),
	string(keyring.SecretServiceBackend),
	string(keyring.KeyCtlBackend),
	string(keyring.PassBackend),
	string(keyring.KWalletBackend),
	string(keyring.KeychainBackend),
	string(keyring.WinCredBackend),
}

// Config selects and configures the keyring backend.
type Config struct {
	// Backend is "" for the default (see the package documentation) or one
	// of: file, secret-service, keyctl, pass, kwallet, keychain, wincred.
	Backend string
	// FileDir is the file backend's folder; "" means
	// $XDG_DATA_HOME/credbroker/keyring, else ~/.local/share/credbroker/keyring.
	FileDir string
	// Passphrase is asked for the file backend's passphrase when
	// FilePassphrase is empty: only when an item is first read or written,
	// and never again once it has returned a non-empty passphrase. nil means
	// the error says to set CREDBROKER_FILE_PASSPHRASE.
	Passphrase func(prompt string) (string, error)
	// FilePassphrase is the file backend's passphrase, from
	// CREDBROKER_FILE_PASSPHRASE.
	FilePassphrase string
	// Collection is the secret-service collection; "" means "login", the
	// collection a desktop session unlocks at login. Creating a new
	// collection needs an interactive prompt, so Open never does it.
	Collection string
	// ServiceName is "" for "credbroker": the keychain service, the keyctl
	// keyring, the pass folder and the wincred prefix.
	ServiceName string
	// PassDir is the pass backend's password store ("" is pass's own
	// default, ~/.password-store). keyring sets PASSWORD_STORE_DIR for
	// every pass it runs to this, so it must be read here.
	PassDir string
	// CallTimeout bounds each call into the keyring; 0 means
	// DefaultCallTimeout. An interactive command may allow longer: a
	// keyring may be waiting for its owner to answer a prompt (an unlock
	// dialog, gpg's pinentry, a keychain "allow" dialog).
	CallTimeout time.Duration
	// Wait, when set, is called as each call into the keyring starts; the
	// func it returns, when the caller stops waiting. A command uses it to
	// say on its terminal what it waits for when that takes a while.
	// Asking for the file passphrase (Passphrase) is done before, never
	// while the call's time runs.
	Wait func(backend string) (stop func())
}

// ConfigFromEnv reads CREDBROKER_KEYRING, CREDBROKER_FILE_DIR,
// CREDBROKER_FILE_PASSPHRASE, CREDBROKER_SECRET_SERVICE_COLLECTION and
// pass's PASSWORD_STORE_DIR through getenv (os.Getenv in production).
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		Backend:        getenv("CREDBROKER_KEYRING"),
		FileDir:        getenv("CREDBROKER_FILE_DIR"),
		FilePassphrase: getenv("CREDBROKER_FILE_PASSPHRASE"),
		Collection:     getenv("CREDBROKER_SECRET_SERVICE_COLLECTION"),
		PassDir:        getenv("PASSWORD_STORE_DIR"),
	}
}

// String shows the configuration without the passphrase.
func (c Config) String() string {
	pass := `""`
	if c.FilePassphrase != "" {
		pass = `"****"`
	}
	prompt := "nil"
	if c.Passphrase != nil {
		prompt = "func"
	}
	return fmt.Sprintf("keystore.Config{Backend:%q FileDir:%q Passphrase:%s FilePassphrase:%s Collection:%q ServiceName:%q}",
		c.Backend, c.FileDir, prompt, pass, c.Collection, c.ServiceName)
}

// GoString makes %#v as safe as %v.
func (c Config) GoString() string { return c.String() }

// Format keeps FilePassphrase out of every fmt verb.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue keeps FilePassphrase out of slog output.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c Config) withDefaults() Config {
	if c.ServiceName == "" {
		c.ServiceName = "credbroker"
	}
	if c.Collection == "" {
		c.Collection = "login"
	}
	return c
}

// secretServiceProbeTimeout bounds the D-Bus calls Open makes itself: a
// Secret Service prompt (to unlock or create a collection) waits for a
// signal with no timeout of its own, and with no display nobody answers it.
const secretServiceProbeTimeout = 10 * time.Second

// probeKey is outside the "credbroker:" namespace so that a probe item left
// behind by a crash never shows up in List; the next probe removes it.
const probeKey = "credbroker-probe"

// Open opens the backend cfg names, or the default one when cfg.Backend is
// "".
func Open(cfg Config) (*Store, error) {
	s, err := open(cfg.withDefaults())
	if err != nil {
		return nil, err
	}
	if cfg.CallTimeout > 0 {
		s.timeout = cfg.CallTimeout
	}
	s.wait = cfg.Wait
	return s, nil
}

func open(cfg Config) (*Store, error) {
	switch cfg.Backend {
	case "":
		return openDefault(cfg)
	case backendFile:
		return openFile(cfg, "")
	case backendSecretService:
		ring, err := openSecretService(cfg, false)
		if err != nil {
			return nil, err
		}
		return newStore(ring, backendSecretService, nil), nil
	}
	if !slices.Contains(backendNames, cfg.Backend) {
		return nil, fmt.Errorf("unknown keyring backend %q (valid: %s)", cfg.Backend, strings.Join(backendNames, ", "))
	}
	b := keyring.BackendType(cfg.Backend)
	if !available(b) {
		hint := ""
		if b == keyring.KWalletBackend {
			// keyring registers kwallet only when its init reached a
			// session bus.
			hint = ", or no D-Bus session bus"
		}
		return nil, fmt.Errorf("keyring backend %s is not available on %s%s (available: %s)", b, runtime.GOOS, hint, availableNames())
	}
	ring, err := openOnOneThread(keyringConfig(cfg, b))
	if err != nil {
		// keyring.Open drops the backend's own error and returns
		// ErrNoAvailImpl.
		return nil, fmt.Errorf("keyring backend %s could not be opened (is its service running and set up?)", b)
	}
	return newStore(ring, cfg.Backend, nil), nil
}

// openDefault picks secret-service when it really works here, else file.
//
// secret-service is tried first because a desktop session unlocks its
// "login" collection at login: no passphrase to manage. keyctl is not a
// default because the kernel keyring is lost at reboot; pass needs a gpg key
// and a password store set up first; kwallet, keychain and wincred are
// desktop-specific and are chosen explicitly. The file backend works
// everywhere.
func openDefault(cfg Config) (*Store, error) {
	ring, err := openSecretService(cfg, true)
	if err == nil {
		return newStore(ring, backendSecretService, nil), nil
	}
	return openFile(cfg, err.Error())
}

func available(b keyring.BackendType) bool {
	return slices.Contains(keyring.AvailableBackends(), b)
}

func availableNames() string {
	var names []string
	for _, b := range keyring.AvailableBackends() {
		names = append(names, string(b))
	}
	return strings.Join(names, ", ")
}

func keyringConfig(cfg Config, b keyring.BackendType) keyring.Config {
	kcfg := keyring.Config{
		AllowedBackends: []keyring.BackendType{b},
		ServiceName:     cfg.ServiceName,
		// Keychain: the login keychain; trusting credbroker's own binary
		// avoids an "allow access" dialog on every read.
		KeychainTrustApplication: true,
		// Secret Service: an existing collection, never a new one.
		LibSecretCollectionName: cfg.Collection,
		// keyctl: the user keyring outlives the login session (the session
		// keyring does not); possessor and user get all permissions so that
		// the daemon can read what the CLI wrote.
		KeyCtlScope:   "user",
		KeyCtlPerm:    keyCtlPerm,
		KWalletAppID:  cfg.ServiceName,
		KWalletFolder: cfg.ServiceName,
		PassPrefix:    cfg.ServiceName,
		PassDir:       cfg.PassDir,
		WinCredPrefix: cfg.ServiceName,
	}
	if b == keyring.KWalletBackend {
		// keyring takes ServiceName as the wallet's name for KWallet: use
		// the user's default wallet, as "login" is for secret-service; a
		// new wallet would need an interactive prompt.
		kcfg.ServiceName = "kdewallet"
	}
	return kcfg
}

// openSecretService opens cfg.Collection and checks that it exists, so that
// keyring never tries to create it (that needs a prompt nobody may see). With
// roundTrip it also writes, reads back and removes a probe item: that proves
// the collection is unlocked and usable, which the default choice needs.
func openSecretService(cfg Config, roundTrip bool) (keyring.Keyring, error) {
	if !available(keyring.SecretServiceBackend) {
		return nil, errors.New("secret-service backend unavailable: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset or unreachable)")
	}
	kcfg := keyringConfig(cfg, keyring.SecretServiceBackend)
	return withTimeout(secretServiceProbeTimeout, func() (keyring.Keyring, error) {
		ring, err := keyring.Open(kcfg)
		if err != nil {
			return nil, errors.New("no Secret Service answers on the D-Bus session bus (start gnome-keyring-daemon, or another provider)")
		}
		// keyring v1.2.2 returns ErrKeyNotFound from Remove only when the
		// collection does not exist; an absent item in an existing
		// collection gives nil.
		switch err := ring.Remove(probeKey); {
		case errors.Is(err, keyring.ErrKeyNotFound):
			return nil, fmt.Errorf("secret-service collection %q does not exist (set CREDBROKER_SECRET_SERVICE_COLLECTION to an existing collection, or create it in your keyring manager)", cfg.Collection)
		case err != nil:
			return nil, fmt.Errorf("secret-service collection %q: %w", cfg.Collection, err)
		}
		if roundTrip {
			if err := probeRoundTrip(ring); err != nil {
				return nil, fmt.Errorf("secret-service collection %q is not usable: %w", cfg.Collection, err)
			}
		}
		return ring, nil
	})
}

func probeRoundTrip(r keyring.Keyring) error {
	want := []byte("probe")
	if err := r.Set(keyring.Item{Key: probeKey, Label: probeKey, Data: want}); err != nil {
		return err
	}
	got, err := r.Get(probeKey)
	if rmErr := r.Remove(probeKey); err == nil {
		err = rmErr
	}
	if err != nil {
		return err
	}
	if string(got.Data) != string(want) {
		return errors.New("probe item read back differs")
	}
	return nil
}

// withTimeout runs fn and gives up waiting after d. fn keeps running in the
// background if it hangs, so it must only touch state it owns.
func withTimeout[T any](d time.Duration, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		var zero T
		return zero, fmt.Errorf("secret service did not answer within %s (a locked collection waiting for a prompt?)", d)
	}
}

// defaultFileDir follows the XDG Base Directory spec: XDG_DATA_HOME if it is
// set and absolute, else ~/.local/share.
func defaultFileDir(getenv func(string) string, home func() (string, error)) (string, error) {
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "credbroker", "keyring"), nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("find the keyring folder: %w (set CREDBROKER_FILE_DIR)", err)
	}
	return filepath.Join(h, ".local", "share", "credbroker", "keyring"), nil
}

// openOnOneThread opens a keyring on one OS thread: the keyctl backend
// creates its named keyring through the session keyring and unlinks it in
// a later system call (see gate.do).
func openOnOneThread(cfg keyring.Config) (keyring.Keyring, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return keyring.Open(cfg)
}
