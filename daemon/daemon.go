package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credbroker/credbroker/internal/harden"
	"github.com/credbroker/credbroker/peercred"

	"golang.org/x/sync/singleflight"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
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

// Options configure a Daemon.
type Options struct {
	Broker *broker.Broker
	// Keys is the broker's keystore: POST /v1/unlock gives it the file
	// keyring's passphrase.
	Keys   *keystore.Store
	Config *profile.Config
	// Getenv is the environment profiles are resolved with (region,
	// endpoints); nil is none.
	Getenv func(string) string
	// Reload re-reads the config file; nil disables reloading.
	Reload func() (*profile.Config, error)
	// ConfigPath is watched for changes (with Reload).
	ConfigPath string
	// Socket is the socket path; System makes it 0660 for SocketGroup.
	Socket string
	// KeyringID names the keyring the daemon serves (wire.KeyringID of
	// its own settings): a caller of its own user whose settings choose
	// another is told so.
	KeyringID string
	System    bool
	Audit     *AuditLog
	Logger    *slog.Logger
	// Owner is the daemon's uid: allowed everything no rule denies.
	Owner  uint32
	Lookup NameLookup
	// ActiveFor is how long after its last request a profile is still
	// refreshed ahead (default 12 h).
	ActiveFor time.Duration
	// Jitter returns a number in [0, 1) (nil: math/rand).
	Jitter func() float64
	// Hardening is what the process could do to keep its memory its own
	// (status shows it to the owner).
	Hardening harden.Report
}

// snapshot is the config the daemon serves from: the file, the resolver
// made from it and the access rules compiled from it, swapped together by
// a reload, so no request sees the rules of one file and the profiles of
// another.
type snapshot struct {
	cfg      *profile.Config
	resolver *profile.Resolver
	access   *accessRules
}

// Daemon answers credential requests over a Unix socket from memory,
// refreshing ahead of expiry. It is safe for concurrent use.
type Daemon struct {
	opts    Options
	b       *broker.Broker
	log     *slog.Logger
	snap    atomic.Pointer[snapshot]
	states  sync.Map // profile -> *profileState
	flights singleflight.Group
	started time.Time
	jitter  func() float64
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

	gate    mfaGate
	callers *callers
	// denials caps the audit records of refusals per uid, rate the
	// requests per uid (see limits.go).
	denials  *uidBudget
	rate     *requestRate
	logLimit *uidLogHandler
	// stop ends Serve (POST /v1/stop); set by Serve.
	stop atomic.Pointer[context.CancelFunc]
}

// New checks opts and compiles the access rules.
func New(opts Options) (*Daemon, error) {
	if opts.Broker == nil || opts.Config == nil {
		return nil, errors.New("daemon needs a broker and a config")
	}
	d := &Daemon{opts: opts, b: opts.Broker, log: opts.Logger, jitter: opts.Jitter, gate: newMFAGate(), callers: newCallers(opts.Owner)}
	if d.log == nil {
		d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d.logLimit = newUIDLogHandler(d.log.Handler(), maxLogLinesPerMinute)
	d.log = slog.New(d.logLimit)
	d.denials = d.newDenials()
	d.rate = newRequestRate(perUIDRequestRate, perUIDRequestBurst)
	if d.jitter == nil {
		d.jitter = rand.Float64
	}
	if d.opts.ActiveFor == 0 {
		d.opts.ActiveFor = defaultActiveFor
	}
	if d.opts.Lookup.User == nil {
		d.opts.Lookup = systemLookup
	}
	snap, err := d.newSnapshot(opts.Config)
	if err != nil {
		return nil, err
	}
	d.snap.Store(snap)
	d.started = time.Now()
	return d, nil
}

// newSnapshot compiles cfg into what the daemon serves from.
func (d *Daemon) newSnapshot(cfg *profile.Config) (*snapshot, error) {
	access, err := newAccess(cfg, d.opts.Owner, d.opts.Lookup)
	if err != nil {
		return nil, err
	}
	return &snapshot{cfg: cfg, resolver: d.b.Resolver(cfg, d.opts.Getenv), access: access}, nil
}

// Serve listens on the socket and answers until ctx is done, then shuts
// down gracefully.
func (d *Daemon) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.stop.Store(&cancel)
	ln, err := listenUnix(d.opts.Socket, d.opts.System, d.snap.Load().cfg.Daemon.SocketGroup)
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
	adm := &admission{owner: d.opts.Owner, perUID: perUIDConnections,
		mayGrant: func(p peercred.Peer) bool { return d.snap.Load().access.MayGrant(p) }}
	go func() { errc <- srv.Serve(limitListener(ln, maxConnections, adm)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	// What the per-uid limits left out in the last minute is said now,
	// not lost with the timers.
	d.denials.flushAll()
	d.logLimit.budget.flushAll()
	d.log.Info("stopped", "requests", d.reqs.Load())
	return err
}
