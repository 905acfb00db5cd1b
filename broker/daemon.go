package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/credbroker/credbroker/broker/wire"
	"github.com/credbroker/credbroker/cache"
)

// Daemon limits. Requests are tiny (a profile name, an MFA code); anything
// bigger or slower is an abuse and is cut off so it cannot starve others.
const (
	maxRequestBody   = 4 << 10
	maxHeaderBytes   = 8 << 10
	maxConnections   = 512
	readHeaderLimit  = 2 * time.Second
	readLimit        = 5 * time.Second
	idleLimit        = 30 * time.Second
	writeLimit       = 60 * time.Second
	refreshTimeout   = 45 * time.Second
	staleWait        = 5 * time.Second
	terminalCooldown = time.Minute
	backoffBase      = time.Second
	backoffCap       = 5 * time.Minute
	defaultActiveFor = 12 * time.Hour
	// mfaResubmitWait is one TOTP step: the next code is a new one.
	mfaResubmitWait = 30 * time.Second
)

// DaemonOptions configure a Daemon.
type DaemonOptions struct {
	Broker *Broker
	Config *Config
	// Reload re-reads the config file; nil disables reloading.
	Reload func() (*Config, error)
	// ConfigPath is watched for changes (with Reload).
	ConfigPath string
	// Socket is the socket path; System makes it 0660 for SocketGroup.
	Socket string
	System bool
	Audit  *AuditLog
	Logger *slog.Logger
	// Owner is the daemon's uid: allowed everything no rule denies.
	Owner  uint32
	Lookup NameLookup
	// ActiveFor is how long after its last request a profile is still
	// refreshed ahead (default 12 h).
	ActiveFor time.Duration
	Now       func() time.Time
	// Jitter returns a number in [0, 1) (nil: math/rand).
	Jitter func() float64
	// AfterFunc schedules refreshes (nil: time.AfterFunc).
	AfterFunc func(time.Duration, func()) Timer
}

// Timer is the part of *time.Timer the scheduler uses.
type Timer interface{ Stop() bool }

// Daemon answers credential requests over a Unix socket from memory,
// refreshing ahead of expiry. It is safe for concurrent use.
type Daemon struct {
	opts    DaemonOptions
	b       *Broker
	log     *slog.Logger
	access  atomic.Pointer[Access]
	cfg     atomic.Pointer[Config]
	states  sync.Map // profile -> *profileState
	flights singleflight.Group
	started time.Time
	now     func() time.Time
	jitter  func() float64
	after   func(time.Duration, func()) Timer
	reqs    atomic.Uint64
	// configErr is why the config file was last not reloaded ("" if it was).
	configErr atomic.Pointer[string]
	// stopped is set once shutdown begins: nothing is scheduled after it.
	stopped atomic.Bool
	// gen counts resets (forget, reload): a refresh that started before
	// one must not put back what was reset.
	gen atomic.Uint64
	// hadConfigFile: the config file existed; its disappearance is a
	// mistake to report, not an empty config to apply.
	hadConfigFile atomic.Bool
	reloadMu      sync.Mutex

	mfaMu      sync.Mutex
	mfaBusy    map[string]bool      // device -> a submitted code is being tried
	mfaRefused map[string]time.Time // device -> when STS last refused a submitted code
}

// profileState is what the daemon knows about one profile. The served
// result is read without a lock on the hot path.
type profileState struct {
	name string
	// served is what is handed out; body is it rendered once as
	// credential_process JSON, not for every request.
	served   atomic.Pointer[Result]
	body     atomic.Pointer[[]byte]
	lastUsed atomic.Int64 // unix nanoseconds

	mu       sync.Mutex
	lastErr  error
	kind     errorKind
	failures int
	nextTry  time.Time
	timer    Timer
}

type errorKind int

const (
	errNone      errorKind = iota
	errTransient           // STS trouble: retried with backoff
	errHuman               // an MFA code is needed: no retries, callers may ask again
	errTerminal            // retrying cannot help (rejected key, denied role)
	errLocked              // the MFA code was refused: nothing retries until a human acts
)

// NewDaemon checks opts and compiles the access rules.
func NewDaemon(opts DaemonOptions) (*Daemon, error) {
	if opts.Broker == nil || opts.Config == nil {
		return nil, errors.New("daemon needs a broker and a config")
	}
	d := &Daemon{opts: opts, b: opts.Broker, log: opts.Logger, now: opts.Now, jitter: opts.Jitter, after: opts.AfterFunc,
		mfaBusy: map[string]bool{}, mfaRefused: map[string]time.Time{}}
	if d.log == nil {
		d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.jitter == nil {
		d.jitter = rand.Float64
	}
	if d.after == nil {
		d.after = func(t time.Duration, f func()) Timer { return time.AfterFunc(t, f) }
	}
	if d.opts.ActiveFor == 0 {
		d.opts.ActiveFor = defaultActiveFor
	}
	if d.opts.Lookup.User == nil {
		d.opts.Lookup = SystemLookup
	}
	access, err := NewAccess(opts.Config, opts.Owner, d.opts.Lookup)
	if err != nil {
		return nil, err
	}
	d.access.Store(access)
	d.cfg.Store(opts.Config)
	d.started = d.now()
	return d, nil
}

// Serve listens on the socket and answers until ctx is done, then shuts
// down gracefully.
func (d *Daemon) Serve(ctx context.Context) error {
	ln, err := listenUnix(d.opts.Socket, d.opts.System, d.cfg.Load().Daemon.SocketGroup)
	if err != nil {
		return err
	}
	defer ln.Close()
	defer d.stopTimers()
	if fi, err := os.Stat(d.opts.ConfigPath); err == nil && fi.Mode().IsRegular() {
		d.hadConfigFile.Store(true)
	}
	srv := &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: readHeaderLimit,
		ReadTimeout:       readLimit,
		WriteTimeout:      writeLimit,
		IdleTimeout:       idleLimit,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext:       withPeer,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
	}
	d.log.Info("serving", "socket", d.opts.Socket, "pid", os.Getpid(), "system", d.opts.System)
	if d.opts.Reload != nil {
		go d.watchConfig(ctx)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(limitListener(ln, maxConnections)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	d.log.Info("stopped", "requests", d.reqs.Load())
	return err
}

// Handler is the daemon's HTTP API. Each request's context must carry the
// caller's Peer (see withPeer); requests without one are refused.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wire.PathHealth, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET "+wire.PathCredentials, d.handleCredentials)
	mux.HandleFunc("POST "+wire.PathMFA, d.handleMFA)
	mux.HandleFunc("POST "+wire.PathForget, d.handleForget)
	mux.HandleFunc("GET "+wire.PathStatus, d.handleStatus)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.reqs.Add(1)
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		mux.ServeHTTP(w, r)
	})
}

func (d *Daemon) handleCredentials(w http.ResponseWriter, r *http.Request) {
	profile := r.URL.Query().Get("profile")
	pi, ok := d.authorize(w, r, "credentials", profile)
	if !ok {
		return
	}
	res, err := d.credentials(r.Context(), profile)
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the caller went away; nobody to answer, nothing to audit
	}
	if err != nil {
		d.fail(w, pi, "credentials", profile, err)
		return
	}
	d.grant(pi, "credentials", profile, res)
	writeCredentials(w, d.state(profile).rendered(res))
}

// mfaRequest is the body of POST /v1/mfa and /v1/forget.
type mfaRequest struct {
	Profile string `json:"profile"`
	Code    string `json:"code,omitempty"`
}

// profileRequest reads a JSON body naming a profile and authorises the
// caller for it, answering a bad or refused request itself.
func (d *Daemon) profileRequest(w http.ResponseWriter, r *http.Request, action string) (mfaRequest, *peerInfo, bool) {
	var req mfaRequest
	if !readJSON(w, r, &req) {
		return req, nil, false
	}
	pi, ok := d.authorize(w, r, action, req.Profile)
	return req, pi, ok
}

func (d *Daemon) handleMFA(w http.ResponseWriter, r *http.Request) {
	req, pi, ok := d.profileRequest(w, r, "mfa")
	if !ok {
		return
	}
	if !validCode(req.Code) {
		writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: "bad_request", Message: "an MFA code is 6 digits"})
		return
	}
	chain, err := d.b.Resolver().Resolve(req.Profile)
	if err != nil {
		d.fail(w, pi, "mfa", req.Profile, err)
		return
	}
	switch {
	case chain.MFASerial == "":
		writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: "bad_request", Message: fmt.Sprintf("profile %s uses no MFA device (no mfa_serial)", req.Profile)})
		return
	case d.b.hasSeed(chain):
		// The daemon makes its own codes: a caller's code could only
		// spend a step or, wrong, get the device locked for everyone.
		writeError(w, http.StatusConflict, wire.ErrorBody{Code: "bad_request",
			Message: fmt.Sprintf("profile %s has a stored TOTP seed: the daemon makes its own MFA codes", req.Profile)})
		return
	}
	// One code at a time per device, and after a refused one the next only
	// once the 30-second step has turned: AWS counts failures per device,
	// and repeated failures can lock it.
	release, wait := d.takeDevice(chain.MFASerial)
	if release == nil {
		d.audit(pi, AuditRecord{Action: "mfa", Profile: req.Profile, Decision: "deny", Reason: "another MFA code for the device was just tried"})
		writeError(w, http.StatusTooManyRequests, wire.ErrorBody{Code: "mfa_wait",
			Message: fmt.Sprintf("profile %s: an MFA code for %s was just tried", req.Profile, chain.MFASerial),
			Hint:    fmt.Sprintf("wait %s for the next code, then run: credbroker unlock %s", wait.Round(time.Second), req.Profile)})
		return
	}
	gen := d.gen.Load()
	ctx, cancel := context.WithTimeout(r.Context(), refreshTimeout)
	defer cancel()
	res, err := d.b.Fetch(ctx, req.Profile, FetchOptions{MFACode: req.Code})
	release(errors.Is(err, ErrMFARefused))
	d.record(req.Profile, res, err, gen)
	if err != nil {
		d.fail(w, pi, "mfa", req.Profile, err)
		return
	}
	d.grant(pi, "mfa", req.Profile, res)
	writeCredentials(w, d.state(req.Profile).rendered(res))
}

// takeDevice reserves device for one submitted code. It returns nil and
// how long to wait when another code is being tried or one was refused
// less than a step ago; release records whether this one was refused.
func (d *Daemon) takeDevice(device string) (release func(refused bool), wait time.Duration) {
	d.mfaMu.Lock()
	defer d.mfaMu.Unlock()
	if d.mfaBusy[device] {
		return nil, mfaResubmitWait
	}
	if wait := mfaResubmitWait - d.now().Sub(d.mfaRefused[device]); wait > 0 {
		return nil, wait
	}
	d.mfaBusy[device] = true
	return func(refused bool) {
		d.mfaMu.Lock()
		defer d.mfaMu.Unlock()
		delete(d.mfaBusy, device)
		if refused {
			d.mfaRefused[device] = d.now()
		}
	}, 0
}

func (d *Daemon) handleForget(w http.ResponseWriter, r *http.Request) {
	req, pi, ok := d.profileRequest(w, r, "forget")
	if !ok {
		return
	}
	if pi.peer.UID != d.opts.Owner {
		// Forgetting makes the daemon go back to STS (and maybe ask for
		// an MFA code): only the owner of the keys, who changed them, may.
		d.audit(pi, AuditRecord{Action: "forget", Profile: req.Profile, Decision: "deny", Reason: "only the daemon's own user may make it forget"})
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: "forbidden", Message: "only the daemon's own user may make it forget cached credentials"})
		return
	}
	n, err := d.b.Forget(req.Profile)
	// Whatever was served may come from what changed: start over for
	// every profile (the sealed cache still spares STS what is unchanged).
	d.resetAll()
	if err != nil {
		d.fail(w, pi, "forget", req.Profile, err)
		return
	}
	d.audit(pi, AuditRecord{Action: "forget", Profile: req.Profile, Decision: "grant", Reason: fmt.Sprintf("dropped %d cached entries", n)})
	writeJSON(w, http.StatusOK, map[string]int{"dropped": n})
}

// ProfileStatus is one profile in GET /v1/status. It never holds a secret.
type ProfileStatus struct {
	Profile    string     `json:"profile"`
	RoleARN    string     `json:"role_arn,omitempty"`
	Expiration *time.Time `json:"expiration,omitempty"`
	Fresh      bool       `json:"fresh"`
	State      string     `json:"state"`
	LastError  string     `json:"last_error,omitempty"`
	NextRetry  *time.Time `json:"next_retry,omitempty"`
}

// Status is GET /v1/status.
type Status struct {
	PID      int             `json:"pid"`
	Started  time.Time       `json:"started"`
	Socket   string          `json:"socket"`
	Requests uint64          `json:"requests"`
	Profiles []ProfileStatus `json:"profiles"`
	// AuditDropped counts audit records lost to a stalled disk.
	AuditDropped uint64 `json:"audit_dropped,omitempty"`
	// ConfigError says why the config file's last change was not taken
	// (the daemon goes on with the previous one).
	ConfigError string `json:"config_error,omitempty"`
}

func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) {
	pi, err := peerFrom(r.Context())
	if err != nil {
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: "forbidden", Message: err.Error()})
		return
	}
	now := d.now()
	st := Status{PID: os.Getpid(), Started: d.started, Socket: d.opts.Socket, Requests: d.reqs.Load()}
	if d.opts.Audit != nil {
		st.AuditDropped = d.opts.Audit.Dropped()
	}
	if e := d.configErr.Load(); e != nil {
		st.ConfigError = *e
	}
	access := d.access.Load()
	names := map[string]bool{}
	for _, n := range d.cfg.Load().Names() {
		names[n] = true
	}
	d.states.Range(func(k, _ any) bool { names[k.(string)] = true; return true })
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if ok, _ := access.Decide(pi.peer, n); !ok {
			continue // only what the caller may fetch
		}
		ps := ProfileStatus{Profile: n, State: "idle"}
		if v, ok := d.states.Load(n); ok {
			s := v.(*profileState)
			if res := s.served.Load(); res != nil {
				exp := res.Expires
				ps.RoleARN, ps.Expiration, ps.Fresh, ps.State = res.RoleARN, &exp, res.FreshAt(now), "ok"
			}
			s.mu.Lock()
			if s.lastErr != nil {
				ps.LastError, _, _ = Explain(s.lastErr)
				ps.State = map[errorKind]string{errTransient: "retrying", errHuman: "mfa_required", errTerminal: "error", errLocked: "mfa_refused"}[s.kind]
				if !s.nextTry.IsZero() && s.kind == errTransient {
					t := s.nextTry
					ps.NextRetry = &t
				}
			}
			s.mu.Unlock()
		}
		st.Profiles = append(st.Profiles, ps)
	}
	d.audit(pi, AuditRecord{Action: "status", Decision: "grant"})
	writeJSON(w, http.StatusOK, st)
}

// authorize identifies the caller and checks the access rules for
// profile, answering and auditing a refusal itself.
func (d *Daemon) authorize(w http.ResponseWriter, r *http.Request, action, profile string) (*peerInfo, bool) {
	pi, err := peerFrom(r.Context())
	if err != nil {
		d.log.Warn("caller not identified", "err", err)
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: "forbidden", Message: "cannot identify the caller: " + err.Error()})
		return nil, false
	}
	if err := ValidProfileName(profile); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: "bad_request", Message: err.Error()})
		return pi, false
	}
	allow, reason := d.access.Load().Decide(pi.peer, profile)
	if !allow {
		d.audit(pi, AuditRecord{Action: action, Profile: profile, Decision: "deny", Reason: reason})
		d.log.Warn("refused", "action", action, "profile", profile, "peer", pi.peer.String(), "reason", reason)
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: "forbidden",
			Message: fmt.Sprintf("profile %s: %s", profile, reason),
			Hint:    "ask the daemon's owner for an [access] rule that allows you this profile"})
		return pi, false
	}
	return pi, true
}

func (d *Daemon) grant(pi *peerInfo, action, profile string, res Result) {
	exp := res.Expires
	d.audit(pi, AuditRecord{Action: action, Profile: profile, RoleARN: res.RoleARN, Expiration: &exp, Decision: "grant"})
}

func (d *Daemon) fail(w http.ResponseWriter, pi *peerInfo, action, profile string, err error) {
	var unknown *UnknownProfileError
	if errors.As(err, &unknown) {
		// Name only the profiles this caller may fetch.
		u := *unknown
		u.Known = nil
		for _, n := range unknown.Known {
			if ok, _ := d.access.Load().Decide(pi.peer, n); ok {
				u.Known = append(u.Known, n)
			}
		}
		err = &u
	}
	msg, hint, code := Explain(err)
	d.audit(pi, AuditRecord{Action: action, Profile: profile, Decision: "error", Reason: msg})
	de := wire.ErrorBody{Code: code, Message: msg, Hint: hint}
	if code == "mfa_required" || code == "mfa_refused" {
		// The client asks its user for a code for this device.
		c, rerr := d.b.Resolver().Resolve(profile)
		seeded := rerr == nil && code == "mfa_refused" && d.b.hasSeed(c)
		if rerr == nil && !seeded {
			// mfa_serial tells the client a typed code is wanted; with a
			// seed the daemon makes its codes, and takes none from callers.
			de.MFASerial = c.MFASerial
		}
		switch {
		case code == "mfa_required":
			de.Hint = "run: credbroker unlock " + profile
		case seeded:
			de.Hint = "nothing is retried (repeated failures can lock the device): check this machine's clock and the seed (credbroker totp code " + profile + " against your authenticator), then store it again: credbroker totp add PROFILE"
		default:
			de.Hint = "nothing is retried (repeated failures can lock the device): wait for the next code, then run: credbroker unlock " + profile
		}
	}
	writeError(w, statusFor(code), de)
}

func (d *Daemon) audit(pi *peerInfo, rec AuditRecord) {
	if d.opts.Audit == nil {
		return
	}
	rec.Time = d.now().UTC()
	rec.UID, rec.PID = pi.peer.UID, pi.peer.PID
	rec.User = pi.peer.UserName()
	rec.Executable = pi.executable()
	d.opts.Audit.Record(rec)
}

// credentials is the heart of the daemon: answer from memory while the
// credentials are fresh; otherwise one refresh however many callers wait.
// While STS is in trouble, still-usable credentials are served; expired
// ones never are.
func (d *Daemon) credentials(ctx context.Context, profile string) (Result, error) {
	if _, known := d.states.Load(profile); !known {
		// Keep no state for names that are no profile: callers must not
		// be able to grow the daemon's memory with made-up names.
		if _, err := d.b.Resolver().Resolve(profile); errors.Is(err, ErrUnknownProfile) {
			return Result{}, err
		}
	}
	s := d.state(profile)
	now := d.now()
	s.lastUsed.Store(now.UnixNano())
	cur := s.served.Load()
	if cur != nil && cur.FreshAt(now) {
		return *cur, nil
	}
	usable := cur != nil && cur.UsableAt(now)
	s.mu.Lock()
	lastErr, kind, nextTry := s.lastErr, s.kind, s.nextTry
	s.mu.Unlock()
	if lastErr != nil && (now.Before(nextTry) || kind == errHuman) {
		// Backing off, stopped after a terminal error, or waiting for an
		// MFA code: don't go back to STS (or the keyring) for each
		// caller; serve what is still usable, else say what is wrong.
		if usable {
			return *cur, nil
		}
		if kind == errTransient {
			return Result{}, fmt.Errorf("%w (next attempt in %s)", lastErr, nextTry.Sub(now).Round(time.Second))
		}
		return Result{}, lastErr
	}
	ch := d.refresh(profile, false)
	var timeout <-chan time.Time
	if usable {
		// Don't keep a caller waiting on a slow STS when what we have is
		// still good.
		t := time.NewTimer(staleWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case r := <-ch:
		if r.Err == nil {
			return r.Val.(Result), nil
		}
		if usable {
			return *cur, nil
		}
		return Result{}, r.Err
	case <-timeout:
		return *cur, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func (d *Daemon) state(profile string) *profileState {
	if v, ok := d.states.Load(profile); ok {
		return v.(*profileState)
	}
	v, _ := d.states.LoadOrStore(profile, &profileState{name: profile})
	return v.(*profileState)
}

// refresh starts (or joins) the one refresh of profile. It runs detached
// from any caller, so a caller giving up does not cancel it for others.
func (d *Daemon) refresh(profile string, renew bool) <-chan singleflight.Result {
	gen := d.gen.Load()
	return d.flights.DoChan(profile, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		start := d.now()
		res, err := d.b.Fetch(ctx, profile, FetchOptions{Renew: renew})
		d.record(profile, res, err, gen)
		if err == nil {
			d.log.Info("refreshed", "profile", profile, "role", res.RoleARN, "expires", res.Expires.UTC().Format(time.RFC3339), "renew", renew, "took", d.now().Sub(start).Round(time.Millisecond))
		}
		return res, err
	})
}

// record keeps the outcome of a fetch that started at generation gen, and
// schedules the next one. An outcome from before a reset is dropped: it may
// come from a key or config that was just replaced.
func (d *Daemon) record(profile string, res Result, err error, gen uint64) {
	s := d.state(profile)
	now := d.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != d.gen.Load() {
		return
	}
	s.stopTimer()
	if err == nil {
		r := res
		body := MarshalProcessOutput(res.Credentials)
		s.body.Store(&body)
		s.served.Store(&r)
		s.lastErr, s.kind, s.failures, s.nextTry = nil, errNone, 0, time.Time{}
		next := res.RenewAt(d.jitter())
		if !next.After(now) {
			// Still due after a renewal: a part that needs a human (an
			// MFA session without a seed) could not be renewed. Try again
			// when it stops being fresh, not in a loop.
			next = res.Expires.Add(-res.Margin())
			if !next.After(now) {
				next = now.Add(time.Minute)
			}
		}
		s.schedule(d, next.Sub(now))
		return
	}
	s.lastErr, s.kind = err, classifyKind(err)
	s.failures++
	msg, _, _ := Explain(err)
	switch s.kind {
	case errTransient:
		// Exponential backoff with jitter (half to all of the step), so
		// that many profiles failing together don't retry together.
		step := min(backoffCap, backoffBase<<min(s.failures-1, 20))
		delay := time.Duration(float64(step) * (0.5 + d.jitter()/2))
		s.nextTry = now.Add(delay)
		s.schedule(d, delay)
		d.log.Warn("refresh failed; will retry", "profile", profile, "err", msg, "retry_in", delay.Round(time.Second), "failures", s.failures)
	case errHuman:
		s.nextTry = time.Time{}
		d.log.Info("MFA code needed", "profile", profile)
	case errLocked:
		// Far future: only a new code (credbroker unlock), a forget (a new
		// seed) or a config change clears it.
		s.nextTry = now.Add(100 * 365 * 24 * time.Hour)
		d.log.Error("MFA code refused; not retrying (repeated failures can lock the device)", "profile", profile, "err", msg)
	default:
		s.nextTry = now.Add(terminalCooldown)
		d.log.Error("refresh failed", "profile", profile, "err", msg)
	}
}

// schedule arranges a refresh-ahead of s in delay, if s is still in use.
// Called with s.mu held.
func (s *profileState) schedule(d *Daemon, delay time.Duration) {
	if d.stopped.Load() {
		return // a refresh that finished after shutdown began
	}
	if delay < 0 {
		delay = 0
	}
	s.timer = d.after(delay, func() { d.scheduled(s.name) })
}

// scheduled runs a refresh-ahead, unless nobody asked for the profile for
// a long time.
func (d *Daemon) scheduled(profile string) {
	s := d.state(profile)
	if d.now().Sub(time.Unix(0, s.lastUsed.Load())) > d.opts.ActiveFor {
		d.log.Info("profile idle; no longer refreshed ahead", "profile", profile)
		return
	}
	<-d.refresh(profile, true)
}

func classifyKind(err error) errorKind {
	switch {
	case errors.Is(err, ErrMFARefused):
		return errLocked
	case errors.Is(err, ErrMFARequired):
		return errHuman
	case errors.Is(err, ErrSTSUnreachable), errors.Is(err, ErrSTSUnavailable), errors.Is(err, ErrExpiredToken),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errTransient
	case errors.Is(err, ErrKeyRejected), errors.Is(err, ErrAccessDenied), errors.Is(err, ErrInvalidRequest),
		errors.Is(err, ErrNoAccessKey), errors.Is(err, ErrUnknownProfile), errors.Is(err, ErrRootKey):
		return errTerminal
	}
	var ce *ConfigError
	var cy *CycleError
	if errors.As(err, &ce) || errors.As(err, &cy) {
		return errTerminal
	}
	// Keyring trouble and the unforeseen: retry with backoff.
	return errTransient
}

// resetAll forgets what was served and every error state (after a config
// change, a new key or seed, a forget).
func (d *Daemon) resetAll() {
	d.gen.Add(1)
	d.eachState(func(s *profileState) {
		// New callers must not join a refresh that started before.
		d.flights.Forget(s.name)
		s.stopTimer()
		s.served.Store(nil)
		s.body.Store(nil)
		s.lastErr, s.kind, s.failures, s.nextTry = nil, errNone, 0, time.Time{}
	})
}

// stopTimers ends refresh-ahead for good (the daemon is shutting down).
func (d *Daemon) stopTimers() {
	d.stopped.Store(true)
	d.eachState((*profileState).stopTimer)
}

// eachState runs f on every profile's state, with its lock held.
func (d *Daemon) eachState(f func(*profileState)) {
	d.states.Range(func(_, v any) bool {
		s := v.(*profileState)
		s.mu.Lock()
		f(s)
		s.mu.Unlock()
		return true
	})
}

// stopTimer cancels s's scheduled refresh. Called with s.mu held.
func (s *profileState) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// watchConfig reloads the config file when it changes (checked every two
// seconds: a stat, no parse) and on SIGHUP (see the daemon command).
func (d *Daemon) watchConfig(ctx context.Context) {
	var last os.FileInfo
	if fi, err := os.Stat(d.opts.ConfigPath); err == nil {
		last = fi
	}
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(d.opts.ConfigPath)
		if err != nil && last == nil {
			continue
		}
		if err == nil && last != nil && fi.ModTime().Equal(last.ModTime()) && fi.Size() == last.Size() {
			continue
		}
		last = fi
		d.Reload()
	}
}

// Reload re-reads the config file. A broken or vanished file is logged and
// the old config kept: a typo or a stray rm must not take credentials (or
// the access rules) away from everyone. The [daemon] section's socket_group
// takes effect at the next start.
func (d *Daemon) Reload() {
	if d.opts.Reload == nil {
		return
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	var cfg *Config
	_, err := os.Stat(d.opts.ConfigPath)
	switch {
	case errors.Is(err, os.ErrNotExist) && d.hadConfigFile.Load():
		err = fmt.Errorf("%s is gone", d.opts.ConfigPath)
	default:
		if err == nil {
			d.hadConfigFile.Store(true)
		}
		cfg, err = d.opts.Reload()
	}
	if err == nil {
		var access *Access
		if access, err = NewAccess(cfg, d.opts.Owner, d.opts.Lookup); err == nil {
			d.b.SetConfig(cfg)
			d.cfg.Store(cfg)
			d.access.Store(access)
			d.resetAll()
			d.configErr.Store(nil)
			d.log.Info("config reloaded", "path", d.opts.ConfigPath, "profiles", len(cfg.Profiles), "access_rules", len(cfg.Access))
			return
		}
	}
	msg := err.Error()
	d.configErr.Store(&msg)
	d.log.Error("config not reloaded; keeping the previous one", "err", err)
}

// ProcessOutput is what credential_process prints and every AWS SDK
// parses (Version 1; Expiration in RFC 3339).
type ProcessOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// MarshalProcessOutput renders credentials as credential_process JSON.
func MarshalProcessOutput(c cache.Credentials) []byte {
	out, _ := json.Marshal(ProcessOutput{
		Version:         1,
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expiration:      c.Expires.UTC().Format(time.RFC3339),
	})
	return append(out, '\n')
}

// rendered is res as credential_process JSON: the body kept with what is
// served when res is it, else rendered now.
func (s *profileState) rendered(res Result) []byte {
	if cur, body := s.served.Load(), s.body.Load(); cur != nil && body != nil && cur.Credentials == res.Credentials {
		return *body
	}
	return MarshalProcessOutput(res.Credentials)
}

func writeCredentials(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"code":"internal","message":"cannot encode the answer"}`)
	}
	body = append(body, '\n')
	// Always a Content-Length, never chunked: package wire reads no more.
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, e wire.ErrorBody) { writeJSON(w, status, e) }

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: "bad_request", Message: "the request body is not the JSON expected"})
		return false
	}
	return true
}

func statusFor(code string) int {
	switch code {
	case "unknown_profile":
		return http.StatusNotFound
	case "forbidden", "mfa_refused", "access_denied", "root_key":
		return http.StatusForbidden
	case "mfa_required":
		return http.StatusUnauthorized
	case "sts_unreachable", "sts_unavailable", "expired_token":
		return http.StatusServiceUnavailable
	case "config", "no_access_key", "key_rejected", "invalid_request":
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func validCode(c string) bool {
	if len(c) != 6 {
		return false
	}
	for i := range len(c) {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// peerKey carries the caller's Peer (or why it is unknown) in a
// connection's context.
type peerKey struct{}

type peerInfo struct {
	peer Peer
	err  error
	// exe is the peer's executable, read once per connection, when the
	// first audit record needs it (not for every record).
	exeOnce sync.Once
	exe     string
}

func (pi *peerInfo) executable() string {
	pi.exeOnce.Do(func() { pi.exe = pi.peer.Executable() })
	return pi.exe
}

// withPeer is the http.Server's ConnContext: the kernel's word on who is
// connected, taken once per connection.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*slotConn); ok {
		c = sc.Conn
	}
	p, err := PeerOf(c)
	return context.WithValue(ctx, peerKey{}, &peerInfo{peer: p, err: err})
}

func peerFrom(ctx context.Context) (*peerInfo, error) {
	pi, ok := ctx.Value(peerKey{}).(*peerInfo)
	if !ok {
		return nil, errors.New("no peer credentials on this connection")
	}
	return pi, pi.err
}

// limitListener caps concurrent connections: Accept waits for a free slot.
func limitListener(l net.Listener, n int) net.Listener {
	return &limited{Listener: l, slots: make(chan struct{}, n)}
}

type limited struct {
	net.Listener
	slots chan struct{}
}

func (l *limited) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
}

type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
