package keystore

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// ErrNotAnswering is wrapped when a call into the keyring did not return
// within its deadline. keyring has no deadlines of its own: a Secret Service
// whose collection is locked waits for a password prompt nobody may see,
// and a D-Bus peer that is stopped never replies.
var ErrNotAnswering = errors.New("the keyring is not answering")

// DefaultCallTimeout bounds one call into the keyring (Get, Put, Delete,
// List). It is below the 10 s a credential_process client waits for the
// daemon, so that a caller hears what is wrong rather than a bare timeout.
const DefaultCallTimeout = 5 * time.Second

// InteractiveCallTimeout is Config.CallTimeout for a command run by its
// user, who may be answering the keyring's own prompt (an unlock dialog,
// gpg's pinentry, a keychain "allow" dialog) while the call waits.
const InteractiveCallTimeout = 2 * time.Minute

// unlockTimeout bounds Unlock, which derives a key (Argon2id) and may
// re-encrypt every item of an older file keyring.
const unlockTimeout = 30 * time.Second

// gate lets one call into the backend run at a time and bounds how long a
// caller waits for it. The call runs in a goroutine of its own that holds
// the slot until the backend returns, however long that takes; a caller
// whose deadline passes is answered ErrNotAnswering and the call is marked
// hung. While a hung call is still running, later callers are answered at
// once, without starting another goroutine: a keyring that never answers
// costs one goroutine, not one per caller.
type gate struct {
	slot chan struct{} // capacity 1; held by the goroutine running a call

	mu        sync.Mutex
	hung      chan struct{} // closed when the hung call returns; nil when none
	hungSince time.Time
}

func newGate() gate { return gate{slot: make(chan struct{}, 1)} }

// do runs fn with the slot held, waiting at most timeout in all (for the
// slot, then for fn).
func (g *gate) do(backend string, timeout time.Duration, fn func() error) error {
	g.mu.Lock()
	hung, since := g.hung, g.hungSince
	g.mu.Unlock()
	if hung != nil {
		select {
		case <-hung:
		default:
			return &notAnsweringError{backend: backend, waiting: time.Since(since)}
		}
	}
	start := time.Now()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case g.slot <- struct{}{}:
	case <-timer.C:
		return &notAnsweringError{backend: backend, waiting: time.Since(start)}
	}
	done := make(chan struct{})
	var err error
	go func() {
		defer func() { <-g.slot }()
		defer close(done)
		defer func() {
			// A panic here would end the process, not the caller's
			// request; its value is not shown (it could quote data).
			if recover() != nil {
				err = fmt.Errorf("the keyring (%s) failed unexpectedly", backend)
			}
		}()
		// One keyring call runs on one OS thread: the kernel's keyctl
		// backend adds an item through the session keyring and unlinks it
		// in a later system call, and a process without a session keyring
		// of its own (a service, a container) gets one for the calling
		// thread only; on another thread the unlink fails (ENOENT).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err = fn()
	}()
	select {
	case <-done:
		return err
	case <-timer.C:
		g.mu.Lock()
		g.hung, g.hungSince = done, start
		g.mu.Unlock()
		return &notAnsweringError{backend: backend, waiting: time.Since(start)}
	}
}

// notAnsweringError: a keyring call outlived its deadline.
type notAnsweringError struct {
	backend string
	waiting time.Duration
}

func (e *notAnsweringError) Error() string {
	return fmt.Sprintf("the keyring (%s) is not answering: a call has been waiting %s", e.backend, e.waiting.Round(100*time.Millisecond))
}

// Hint says what usually makes a keyring stop answering.
func (e *notAnsweringError) Hint() string {
	if e.backend == backendSecretService {
		return "unlock the login keyring (a locked collection waits for a password prompt), or check that gnome-keyring-daemon (or another Secret Service) is running and not stopped"
	}
	return "check the keyring's storage (" + e.backend + "): a hung file system or service blocks it"
}

func (e *notAnsweringError) Is(target error) bool { return target == ErrNotAnswering }
