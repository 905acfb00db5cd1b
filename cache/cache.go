package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// RefreshMargin is how long before expiry credentials stop being handed out:
// botocore refreshes credentials that have less than 15 minutes left
// (its advisory refresh window), so anything handed out with less would make
// every SDK call come straight back for more.
const RefreshMargin = 15 * time.Minute

// Credentials are temporary AWS credentials issued by STS.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time
}

// String shows only the last four characters of the key id, never a secret.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{%s, expires %s}", LastFour(c.AccessKeyID), c.Expires.UTC().Format(time.RFC3339))
}

// GoString is String, so %#v cannot print a secret either.
func (c Credentials) GoString() string { return c.String() }

// Format makes every verb (%v, %+v, %#v, %s, %q) print String.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LastFour shows a key id the way the AWS console does: masked but for the
// last four characters.
func LastFour(id string) string {
	if len(id) <= 4 {
		return "****"
	}
	return "****************"[:min(16, len(id)-4)] + id[len(id)-4:]
}

// Entry is a cache slot: the credentials and what the refresh logic needs to
// know about them. Refresh state lives here, never in Credentials, so the
// Expiration handed to an SDK is always the real one.
type Entry struct {
	Credentials
	// Issued is when STS issued the credentials (as seen locally).
	Issued time.Time
	// Fingerprint identifies what produced the credentials.
	Fingerprint string
}

// Margin is the entry's refresh margin: RefreshMargin, or a third of the
// lifetime for short-lived credentials.
func (e Entry) Margin() time.Duration {
	life := e.Expires.Sub(e.Issued)
	if life < 3*RefreshMargin {
		return life / 3
	}
	return RefreshMargin
}

// FreshAt reports whether the entry may still be handed out at now.
func (e Entry) FreshAt(now time.Time) bool {
	return e.Expires.Sub(now) > e.Margin()
}

// Lifetime is how long the credentials were issued for.
func (e Entry) Lifetime() time.Duration { return e.Expires.Sub(e.Issued) }

// UsableAt reports whether the entry may still be handed out when nothing
// fresher can be had (STS in trouble): it has more than a minute left, or a
// tenth of its lifetime for shorter ones. Credentials about to expire are
// as useless to an SDK as expired ones.
func (e Entry) UsableAt(now time.Time) bool {
	return e.Expires.Sub(now) > min(time.Minute, e.Lifetime()/10)
}

// Renewal windows: a refresh-ahead scheduler renews an entry at a point
// between RenewFrom and the moment it stops being fresh, chosen with
// jitter so that profiles issued together are not renewed together.
const (
	renewFrom   = 0.75 // of the fresh part of the lifetime
	renewSpread = 0.15
)

// RenewAt is when a scheduler should renew the entry: at 75 % to 90 % of
// the time it stays fresh, as jitter goes from 0 to 1. Renewing there
// leaves at least a tenth of the fresh time (and the whole refresh margin)
// for retries before anything handed out would have less than the margin.
func (e Entry) RenewAt(jitter float64) time.Time {
	fresh := e.Lifetime() - e.Margin()
	return e.Issued.Add(time.Duration(float64(fresh) * (renewFrom + renewSpread*jitter)))
}

// DueAt reports whether the entry is inside its renewal window at now.
func (e Entry) DueAt(now time.Time) bool { return !now.Before(e.RenewAt(0)) }

// Persistence stores sealed cache entries. Load reports found=false, not an
// error, for an absent name.
type Persistence interface {
	Load(name string) (data []byte, found bool, err error)
	Save(name string, data []byte) error
	Delete(name string) error
}

// Store is the credential cache: memory in front of a Persistence.
type Store struct {
	persist Persistence
	now     func() time.Time

	mu  sync.Mutex
	mem map[string]Entry
}

// New returns a Store writing through to p. A nil now means time.Now.
func New(p Persistence, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{persist: p, now: now, mem: make(map[string]Entry)}
}

// Lookup returns the entry stored under name when its fingerprint matches and
// it is fresh. A stored entry that cannot be decoded counts as a miss: the
// caller fetches new credentials and Save replaces it.
func (s *Store) Lookup(name, fingerprint string) (Entry, bool, error) {
	return s.LookupFor(name, fingerprint, false)
}

// LookupFor is Lookup; with renew, an entry inside its renewal window
// (DueAt) is a miss too, so that a refresh-ahead gets new credentials.
func (s *Store) LookupFor(name, fingerprint string, renew bool) (Entry, bool, error) {
	s.mu.Lock()
	e, ok := s.mem[name]
	s.mu.Unlock()
	if !ok {
		data, found, err := s.persist.Load(name)
		if err != nil {
			return Entry{}, false, fmt.Errorf("load cached credentials %s: %w", name, err)
		}
		if !found {
			return Entry{}, false, nil
		}
		if e, err = decode(data); err != nil {
			return Entry{}, false, nil
		}
		s.mu.Lock()
		s.mem[name] = e
		s.mu.Unlock()
	}
	now := s.now()
	if e.Fingerprint != fingerprint || !e.FreshAt(now) || (renew && e.DueAt(now)) {
		return Entry{}, false, nil
	}
	return e, true, nil
}

// Save stores e under name, in memory and through the Persistence.
func (s *Store) Save(name string, e Entry) error {
	if e.AccessKeyID == "" || e.SecretAccessKey == "" || e.Expires.IsZero() {
		// Never cache empty credentials: a failed refresh must not
		// overwrite good ones with nothing.
		return errors.New("refusing to cache incomplete credentials")
	}
	data, err := encode(e)
	if err != nil {
		return err
	}
	// Kept in memory first: credentials STS issued are good whether or not
	// the sealed copy can be written (a full disk under the keyring), and
	// asking STS again for each caller would spend calls and MFA steps.
	s.mu.Lock()
	s.mem[name] = e
	s.mu.Unlock()
	if err := s.persist.Save(name, data); err != nil {
		return &SaveError{Name: name, Err: err}
	}
	return nil
}

// SaveError: the credentials are cached in memory, but their sealed copy
// could not be written (they are lost at a restart).
type SaveError struct {
	Name string
	Err  error
}

func (e *SaveError) Error() string {
	return fmt.Sprintf("save cached credentials %s: %v", e.Name, e.Err)
}

func (e *SaveError) Unwrap() error { return e.Err }

// Has reports whether anything is stored under name, fresh or not.
func (s *Store) Has(name string) (bool, error) {
	s.mu.Lock()
	_, ok := s.mem[name]
	s.mu.Unlock()
	if ok {
		return true, nil
	}
	_, found, err := s.persist.Load(name)
	return found, err
}

// Cached lists the names of the entries held in memory, sorted (the
// sealed copies are the Persistence's to list).
func (s *Store) Cached() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.mem))
}

// Drop forgets the entry stored under name.
func (s *Store) Drop(name string) error {
	s.mu.Lock()
	delete(s.mem, name)
	s.mu.Unlock()
	if err := s.persist.Delete(name); err != nil {
		return fmt.Errorf("drop cached credentials %s: %w", name, err)
	}
	return nil
}

// sealed is the persisted form; version 1.
type sealed struct {
	V           int       `json:"v"`
	AccessKeyID string    `json:"access_key_id"`
	Secret      string    `json:"secret_access_key"`
	Token       string    `json:"session_token"`
	Expires     time.Time `json:"expires"`
	Issued      time.Time `json:"issued"`
	Fingerprint string    `json:"fingerprint"`
}

func encode(e Entry) ([]byte, error) {
	return json.Marshal(sealed{
		V: 1, AccessKeyID: e.AccessKeyID, Secret: e.SecretAccessKey, Token: e.SessionToken,
		Expires: e.Expires.UTC(), Issued: e.Issued.UTC(), Fingerprint: e.Fingerprint,
	})
}

func decode(data []byte) (Entry, error) {
	var s sealed
	if err := json.Unmarshal(data, &s); err != nil {
		// The error from encoding/json may quote the input; don't wrap it.
		return Entry{}, errors.New("cached credentials are not valid JSON")
	}
	if s.V != 1 || s.AccessKeyID == "" || s.Secret == "" || s.Expires.IsZero() {
		return Entry{}, errors.New("cached credentials are incomplete or of an unknown version")
	}
	return Entry{
		Credentials: Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.Secret, SessionToken: s.Token, Expires: s.Expires},
		Issued:      s.Issued,
		Fingerprint: s.Fingerprint,
	}, nil
}
