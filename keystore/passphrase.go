package keystore

import (
	"crypto/subtle"
	"fmt"
	"sync"
)

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
	gen      uint64 // counts set calls: a key derived from an older passphrase is stale
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
	p.gen++
}

// current returns the passphrase at hand ("" when none yet) and its
// generation, which changes whenever set replaces it.
func (p *passphraseSource) current() (string, uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.got
	if cur == "" {
		cur = p.fixed
	}
	return cur, p.gen, cur != ""
}

// has reports whether a passphrase is at hand (given, or got once).
func (p *passphraseSource) has() bool {
	_, _, ok := p.current()
	return ok
}

// is reports whether pass is the passphrase at hand (in constant time).
func (p *passphraseSource) is(pass string) bool {
	cur, _, ok := p.current()
	return ok && subtle.ConstantTimeCompare([]byte(cur), []byte(pass)) == 1
}
