package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// A daemon answers each request with its caller's own settings: the
// config files it names and the region, endpoints and CA bundle its SDK
// would use (wire.Caller). The config files are read once and re-read when
// they change (looked at no more than once a configRecheck); a profile is
// resolved once per caller settings and config version.
const (
	configRecheck = time.Second
	// maxResolutions bounds the resolutions kept: callers must not be
	// able to grow the daemon's memory with made-up settings.
	maxResolutions = 4096
)

// callers is what the daemon keeps of its callers' settings.
type callers struct {
	mu          sync.Mutex
	configs     map[[2]string]*callerConfig
	resolutions map[string]resolution
	// stored caches the profiles with a stored key (nil: not read yet);
	// a forget (a key added or removed) drops it.
	stored []string
	owner  uint32
}

type callerConfig struct {
	files   [2]string
	cfg     *profile.Config
	err     error
	stamps  [2]fileStamp
	checked time.Time
}

// fileStamp tells whether a file changed: its size and time, or that it
// is not there.
type fileStamp struct {
	missing bool
	size    int64
	mtime   time.Time
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime()}
}

type resolution struct {
	chain *profile.RoleChain
	// key names the served state: the profile and everything its
	// credentials depend on (broker.ChainID).
	key string
	err error
	// from is the caller's config it was resolved with (nil: the
	// daemon's own).
	from *callerConfig
	// policies are the chain's session_policy files as they were when it
	// was resolved. An edit of one is seen at the next request: the
	// chain is resolved again, and when the text changed, its served
	// state is a new one (its key names the text, as the broker's cache
	// does), so a narrowed policy applies at once, not at the next
	// refresh.
	policies policyStamps
}

// policyStamps are the session_policy files of a chain, their stamps and
// a fingerprint of their text. The stamps are looked at on every request
// that uses them (a stat each, about a microsecond); a file is read again
// only when its stamp changed.
type policyStamps struct {
	paths  []string
	stamps []fileStamp
	text   string // fingerprint of the files' text (or of why one could not be read)
}

func stampPolicies(chain *profile.RoleChain) policyStamps {
	var p policyStamps
	var parts []string
	for _, st := range chain.Steps {
		if st.SessionPolicy == "" {
			continue
		}
		p.paths = append(p.paths, st.SessionPolicy)
		p.stamps = append(p.stamps, stampOf(st.SessionPolicy))
		doc, err := broker.ReadSessionPolicy(st.SessionPolicy, st.Profile)
		if err != nil {
			doc = "unreadable: " + err.Error() // the fetch says what is wrong
		}
		parts = append(parts, doc)
	}
	if len(parts) > 0 {
		sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
		p.text = hex.EncodeToString(sum[:16])
	}
	return p
}

// current reports whether no file changed since p was made.
func (p policyStamps) current() bool {
	for i, path := range p.paths {
		if stampOf(path) != p.stamps[i] {
			return false
		}
	}
	return true
}

// String names the policies' text for a served state's key: the same
// text written again (a touch, a tool that rewrites the file) is the same
// state.
func (p policyStamps) String() string {
	if p.text == "" {
		return ""
	}
	return "|policies:" + p.text
}

func newCallers(owner uint32) *callers {
	return &callers{configs: map[[2]string]*callerConfig{}, resolutions: map[string]resolution{}, owner: owner}
}

// load reads a caller's config files, which must be the daemon's user's
// (or root's) and nobody else's to write: their profiles decide where the
// daemon's keys sign calls.
func (c *callers) load(credbroker, aws string) (*profile.Config, error) {
	for _, f := range []string{credbroker, aws} {
		if f == "" {
			continue
		}
		if err := profile.CheckOwnership(f, c.owner, false); err != nil {
			return nil, err
		}
	}
	// credbroker's file wins for a profile in both.
	return profile.LoadSources(profile.Sources{Credbroker: credbroker, AWS: aws})
}

// forget drops what was resolved (a key or config changed).
func (c *callers) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.resolutions)
	c.stored = nil
}

// config returns the merged config of the caller's files, re-read when one
// changed. Called with c.mu held.
func (c *callers) config(files [2]string, now time.Time) *callerConfig {
	cc := c.configs[files]
	if cc != nil && now.Sub(cc.checked) < configRecheck {
		return cc
	}
	stamps := [2]fileStamp{stampOf(files[0]), stampOf(files[1])}
	if cc != nil && cc.stamps == stamps {
		cc.checked = now
		return cc
	}
	cfg, err := c.load(files[0], files[1])
	if err != nil && cc != nil && cc.err == nil {
		// A file that breaks while the daemon serves from it (a typo, a
		// half-written save) does not take credentials away: the last
		// good one holds, as for the daemon's own config (reload.go),
		// and the file is looked at again after configRecheck.
		cc.checked = now
		return cc
	}
	if len(c.configs) >= maxResolutions {
		clear(c.configs)
	}
	cc = &callerConfig{files: files, cfg: cfg, err: err, stamps: stamps, checked: now}
	c.configs[files] = cc
	clear(c.resolutions) // what was resolved with the old file
	return cc
}

// resolve resolves profile name for the request r of peer pi: with the
// caller's own config files and settings when it is the daemon's own user,
// with the daemon's config and the caller's region otherwise. A request
// without caller settings (an older client) is resolved with the daemon's
// own config and no environment.
func (d *Daemon) resolve(pi *peerInfo, q url.Values, name string) (res resolution, err error) {
	// The same settings resolve apart for the daemon's own user and for
	// others (whose endpoints are the daemon's): never one from the other.
	// The name is part of the key: requests with a body (mfa, clear) name
	// their profile there, not in the query.
	who := "other|"
	if pi.peer.UID == d.opts.Owner {
		who = "owner|"
	}
	key := who + name + "|" + q.Encode()
	// A served state whose session policy changed is dropped (after the
	// lock: a state's lock is never taken inside it).
	var replaced string
	defer func() {
		if replaced != "" && replaced != res.key {
			d.dropState(replaced)
		}
	}()
	d.callers.mu.Lock()
	defer d.callers.mu.Unlock()
	// A resolution made with the caller's config files holds while they
	// are unchanged.
	now := time.Now()
	if old, ok := d.callers.resolutions[key]; ok && (old.from == nil || d.callers.config(old.from.files, now) == old.from) {
		if old.policies.current() {
			return old, nil
		}
		replaced = old.key
	}
	// Loaded under the lock: a reload stores its snapshot before it
	// clears the resolutions (resetAll), so none made from the old
	// snapshot is kept.
	caller, has := wire.CallerOf(q)
	snap := d.snap.Load()
	var r *profile.Resolver
	var from *callerConfig
	switch {
	case !has:
		r = d.b.Resolver(snap.cfg, d.getenv)
	case pi.peer.UID != d.opts.Owner:
		// Another user's settings never send this daemon's keys, or an MFA
		// code made from its seed, anywhere its own config does not name:
		// its endpoints are the daemon's; its region is its own.
		for _, k := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
			if caller.Env[k] != "" {
				return resolution{}, &foreignSettingsError{variable: k, owner: d.opts.Owner}
			}
		}
		r = d.b.Resolver(snap.cfg, func(k string) string {
			switch k {
			case "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT":
				if v := caller.Env[k]; v != "" {
					return v
				}
			}
			return d.getenv(k)
		})
	default:
		if caller.Keyring != d.opts.KeyringID {
			return resolution{}, &keyringMismatchError{socket: d.opts.Socket}
		}
		from = d.callers.config([2]string{caller.Config, caller.AWSConfig}, now)
		if from.err != nil {
			return resolution{}, from.err
		}
		r = d.b.Resolver(from.cfg, caller.Getenv)
	}
	r.Stored = d.storedProfiles
	chain, err := r.Resolve(name)
	res = resolution{chain: chain, err: err, from: from}
	if err == nil {
		res.policies = stampPolicies(chain)
		res.key = name + "|" + broker.ChainID(chain) + res.policies.String()
	}
	if errors.Is(err, keystore.ErrNotAnswering) {
		// The keyring's list of stored keys was not had: ask again next
		// time rather than keep the error.
		return res, nil
	}
	if len(d.callers.resolutions) >= maxResolutions {
		clear(d.callers.resolutions)
	}
	d.callers.resolutions[key] = res
	return res, nil
}

// storedProfiles is the broker's list of profiles with a stored key, read
// once until a forget. Called with d.callers.mu held (through Resolve).
func (d *Daemon) storedProfiles() ([]string, error) {
	if d.callers.stored != nil {
		return d.callers.stored, nil
	}
	stored, err := d.b.StoredProfiles()
	if err != nil {
		return nil, err
	}
	d.callers.stored = append([]string{}, stored...)
	return d.callers.stored, nil
}

// foreignSettingsError: a caller of another user named an endpoint or a CA
// bundle. The daemon signs its calls with keys that are not the caller's:
// they go only where the daemon's own config says.
type foreignSettingsError struct {
	variable string
	owner    uint32
}

func (e *foreignSettingsError) Error() string {
	return fmt.Sprintf("this daemon runs as uid %d and calls only the STS endpoints its own config names; your %s is not used", e.owner, e.variable)
}

func (e *foreignSettingsError) Hint() string { return "unset " + e.variable + " for credbroker calls" }

func (e *foreignSettingsError) Is(target error) bool { return target == broker.ErrBadRequest }

// keyringMismatchError: the caller's keyring settings choose another
// keyring than the one this daemon serves (CREDBROKER_SOCKET points two
// keyrings at one daemon).
type keyringMismatchError struct{ socket string }

func (e *keyringMismatchError) Error() string {
	return "the daemon on " + e.socket + " serves another keyring than your CREDBROKER_KEYRING, CREDBROKER_FILE_DIR, PASSWORD_STORE_DIR or GNUPGHOME choose"
}

func (e *keyringMismatchError) Hint() string {
	return "unset CREDBROKER_SOCKET (each keyring gets a daemon of its own), or run: credbroker daemon restart"
}

func (e *keyringMismatchError) Is(target error) bool { return target == broker.ErrKeyringMismatch }

// getenv is the daemon's own environment (Options.Getenv): what its own
// config's profiles resolve with for callers of other users (a system
// service's unit sets it), never for its own user's callers.
func (d *Daemon) getenv(k string) string {
	if d.opts.Getenv == nil {
		return ""
	}
	return d.opts.Getenv(k)
}
