package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// Handler is the daemon's HTTP API. Each request's context must carry the
// caller's Peer (see withPeer); requests without one are refused.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	// actions are the endpoints' names (their paths without /v1/), as
	// audited.
	actions := map[string]bool{}
	handle := func(method, path string, h http.HandlerFunc) {
		mux.HandleFunc(method+" "+path, h)
		actions[strings.TrimPrefix(path, "/v1/")] = true
	}
	handle("GET", wire.PathHealth, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	handle("GET", wire.PathCredentials, d.handleCredentials)
	handle("POST", wire.PathMFA, d.handleMFA)
	handle("POST", wire.PathForget, d.handleForget)
	handle("POST", wire.PathClear, d.handleClear)
	handle("GET", wire.PathStatus, d.handleStatus)
	handle("POST", wire.PathUnlock, d.handleUnlock)
	handle("POST", wire.PathStop, d.handleStop)
	handle("POST", wire.PathTOTPCode, d.handleTOTPCode)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.reqs.Add(1)
		if d.throttled(w, r, actions) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		mux.ServeHTTP(w, r)
	})
}

func (d *Daemon) handleCredentials(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("profile")
	pi, ok := d.authorize(w, r, "credentials", name)
	if !ok {
		return
	}
	rs, ok := d.resolveFor(w, pi, q, "credentials", name)
	if !ok {
		return
	}
	s := d.state(rs)
	res, err := d.credentials(r.Context(), s, waitNotes(w, r))
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the caller went away; nobody to answer, nothing to audit
	}
	if err != nil {
		d.fail(w, pi, "credentials", rs.chain, err)
		return
	}
	d.grant(pi, "credentials", name, res)
	writeCredentials(w, s.rendered(res))
}

// resolveFor resolves profile name as the caller's settings say,
// answering and auditing a failure itself.
func (d *Daemon) resolveFor(w http.ResponseWriter, pi *peerInfo, q url.Values, action, name string) (resolution, bool) {
	rs, err := d.resolve(pi, q, name)
	if err == nil {
		err = rs.err
	}
	if err != nil {
		d.failName(w, pi, action, name, err)
		return rs, false
	}
	return rs, true
}

// profileRequest reads a JSON body naming a profile and authorises the
// caller for it, answering a bad or refused request itself.
func (d *Daemon) profileRequest(w http.ResponseWriter, r *http.Request, action string) (wire.ProfileRequest, *peerInfo, bool) {
	var req wire.ProfileRequest
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
		writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: wire.CodeBadRequest, Message: "an MFA code is 6 digits"})
		return
	}
	rs, ok := d.resolveFor(w, pi, r.URL.Query(), "mfa", req.Profile)
	if !ok {
		return
	}
	chain := rs.chain
	switch {
	case chain.MFASerial == "":
		writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: wire.CodeBadRequest, Message: fmt.Sprintf("profile %s uses no MFA device (no mfa_serial)", req.Profile)})
		return
	case d.b.MakesOwnCodes(chain):
		// The daemon makes its own codes: a caller's code could only
		// spend a step or, wrong, get the device locked for everyone.
		writeError(w, http.StatusConflict, wire.ErrorBody{Code: wire.CodeBadRequest,
			Message: fmt.Sprintf("profile %s has a stored TOTP seed: the daemon makes its own MFA codes", req.Profile)})
		return
	}
	release, err := d.gate.take(r.Context(), chain.MFASerial, req.Profile, pi.peer.UID)
	if r.Context().Err() != nil {
		return // the caller went away while another code was tried
	}
	if err != nil {
		msg, _, _ := broker.Explain(err)
		d.audit(pi, AuditRecord{Action: "mfa", Profile: req.Profile, Decision: "deny", Reason: msg})
		d.answerError(w, err, "")
		return
	}
	gen := d.gen.Load()
	ctx, cancel := context.WithTimeout(r.Context(), refreshTimeout)
	defer cancel()
	res, err := d.b.Fetch(ctx, chain, broker.FetchOptions{MFACode: req.Code})
	refused := errors.Is(err, broker.ErrMFARefused)
	release(refused)
	s := d.state(rs)
	if !refused {
		// A refused code is its sender's: the profile's state stays what
		// it was (a code needed), so that another caller is asked for its
		// own code, not told of this one.
		d.record(s, res, err, gen)
	} else {
		msg, _, _ := broker.Explain(err)
		d.log.Warn("MFA code refused by STS; not retried", append(d.callerAttrs(pi), "profile", req.Profile, "err", msg)...)
	}
	if err != nil {
		d.fail(w, pi, "mfa", chain, err)
		return
	}
	d.grant(pi, "mfa", req.Profile, res)
	writeCredentials(w, s.rendered(res))
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
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: wire.CodeForbidden, Message: "only the daemon's own user may make it forget cached credentials"})
		return
	}
	// The profiles made from the changed one are those of the daemon's
	// config and of the caller's.
	n, err := d.b.Forget(d.snap.Load().resolver, req.Profile)
	if caller, ok := wire.CallerOf(r.URL.Query()); ok && err == nil {
		var cfg *profile.Config
		if cfg, err = d.callers.load(caller.Config, caller.AWSConfig); err == nil {
			var more int
			more, err = d.b.Forget(d.b.Resolver(cfg, caller.Getenv), req.Profile)
			n += more
		}
	}
	// Whatever was served may come from what changed: start over for
	// every profile (the sealed cache still spares STS what is unchanged).
	d.resetAll()
	if err != nil {
		d.failName(w, pi, "forget", req.Profile, err)
		return
	}
	d.audit(pi, AuditRecord{Action: "forget", Profile: req.Profile, Decision: "grant", Reason: fmt.Sprintf("dropped %d cached entries", n)})
	writeJSON(w, http.StatusOK, wire.ForgetAnswer{Dropped: n})
}

func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) {
	pi, err := peerFrom(r.Context())
	if err != nil {
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: wire.CodeForbidden, Message: err.Error()})
		return
	}
	now := time.Now()
	st := wire.Status{PID: os.Getpid(), Started: d.started, Socket: d.opts.Socket, Requests: d.reqs.Load()}
	if d.opts.Keys != nil {
		st.Keyring, st.Locked = d.opts.Keys.Backend(), d.opts.Keys.NeedsPassphrase()
	}
	h := d.opts.Hardening
	st.Dumpable, st.MemoryLocked, st.MemoryLockError = h.Dumpable, h.Locked, h.LockError
	if d.opts.Audit != nil {
		st.AuditDropped = d.opts.Audit.Dropped()
	}
	if e := d.configErr.Load(); e != nil && pi.peer.UID == d.opts.Owner {
		st.ConfigError = *e // the file's problem is its owner's to read
	}
	if c, ok := d.b.Clock(); ok && c.Skew.Abs() > maxQuietSkew && pi.peer.UID == d.opts.Owner {
		st.ClockSkew = &wire.ClockSkew{Seconds: c.Skew.Seconds(), Endpoint: c.Endpoint, Measured: c.At.UTC()}
	}
	snap := d.snap.Load()
	listed := map[string]bool{}
	d.states.Range(func(_, v any) bool {
		s := v.(*profileState)
		if ok, _ := snap.access.Decide(pi.peer, s.name); ok {
			st.Profiles = append(st.Profiles, d.profileStatus(s, now))
			listed[s.name] = true
		}
		return true
	})
	for _, n := range snap.cfg.Names() {
		if ok, _ := snap.access.Decide(pi.peer, n); ok && !listed[n] {
			st.Profiles = append(st.Profiles, wire.ProfileStatus{Profile: n, State: "idle"})
		}
	}
	slices.SortFunc(st.Profiles, func(a, b wire.ProfileStatus) int {
		return cmp.Or(cmp.Compare(a.Profile, b.Profile), cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Region, b.Region))
	})
	d.audit(pi, AuditRecord{Action: "status", Decision: "grant"})
	writeJSON(w, http.StatusOK, st)
}

// profileStatus is what status says of one served profile.
func (d *Daemon) profileStatus(s *profileState, now time.Time) wire.ProfileStatus {
	ps := wire.ProfileStatus{Profile: s.name, State: "idle"}
	if c := s.chain.Load(); c != nil {
		ps.Endpoint, ps.Region = stsEndpoint(c), c.Region
	}
	if res := s.served.Load(); res != nil {
		exp := res.Expires
		ps.RoleARN, ps.Expiration, ps.Fresh, ps.State = res.RoleARN, &exp, res.FreshAt(now), "ok"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil {
		class := broker.ClassOf(s.lastErr)
		ps.LastError, _, _ = broker.Explain(s.lastErr)
		ps.State = class.State
		if !s.nextTry.IsZero() && class.Retry == broker.RetryBackoff {
			t := s.nextTry
			ps.NextRetry = &t
		}
	}
	return ps
}

// authorize identifies the caller and checks the access rules for
// profile, answering and auditing a refusal itself.
func (d *Daemon) authorize(w http.ResponseWriter, r *http.Request, action, name string) (*peerInfo, bool) {
	pi, err := peerFrom(r.Context())
	if err != nil {
		d.log.Warn("caller not identified", "err", err)
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: wire.CodeForbidden, Message: "cannot identify the caller: " + err.Error()})
		return nil, false
	}
	if err := profile.ValidProfileName(name); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrorBody{Code: wire.CodeBadRequest, Message: err.Error()})
		return pi, false
	}
	allow, reason := d.snap.Load().access.Decide(pi.peer, name)
	fix := "ask the daemon's owner for an [access] rule that allows you this profile"
	if allow && pi.peer.UID != d.opts.Owner {
		auditFailing := d.opts.Audit.Failing()
		switch {
		case d.configErr.Load() != nil:
			allow, reason = false, "the daemon's config file could not be reloaded: until it is fixed, it serves its own user only"
			fix = "ask the daemon's owner to fix its config file (credbroker status shows them why)"
		case auditFailing != "":
			// Every grant to another user is audited, or not made.
			allow, reason = false, "the daemon's audit log cannot be written ("+auditFailing+"): until it can, it serves its own user only"
			fix = "ask the daemon's owner to free space for the audit log, or mend its file"
		}
	}
	if !allow {
		// Every refusal is audited and logged, up to a rate per uid (see
		// audit and uidLogHandler): one caller hammering the daemon must
		// not fill the disk.
		d.audit(pi, AuditRecord{Action: action, Profile: name, Decision: "deny", Reason: reason})
		d.log.Warn("refused", append(d.callerAttrs(pi), "action", action, "profile", name, "reason", reason)...)
		d.answerError(w, &refusal{profile: name, reason: reason, fix: fix}, "")
		return pi, false
	}
	return pi, true
}

func (d *Daemon) grant(pi *peerInfo, action, name string, res broker.Result) {
	exp := res.Expires
	d.audit(pi, AuditRecord{Action: action, Profile: name, RoleARN: res.RoleARN, Expiration: &exp, Decision: "grant"})
}

// fail answers err for a request about chain's profile, and audits it.
func (d *Daemon) fail(w http.ResponseWriter, pi *peerInfo, action string, chain *profile.RoleChain, err error) {
	msg, _, _ := broker.Explain(err)
	d.audit(pi, AuditRecord{Action: action, Profile: chain.Profile, Decision: "error", Reason: msg})
	device := ""
	if broker.ClassOf(err).Code.WantsCode() && !d.b.MakesOwnCodes(chain) {
		// The client asks its user for a code for this device, unless the
		// daemon makes the codes itself from a seed (and takes none).
		device = chain.MFASerial
	}
	d.answerError(w, err, device)
}

// failName answers err for a request about profile name that could not be
// resolved, and audits it.
func (d *Daemon) failName(w http.ResponseWriter, pi *peerInfo, action, name string, err error) {
	var unknown *profile.UnknownProfileError
	if errors.As(err, &unknown) {
		// Name only the profiles this caller may fetch.
		u := *unknown
		u.Known = nil
		for _, n := range unknown.Known {
			if ok, _ := d.snap.Load().access.Decide(pi.peer, n); ok {
				u.Known = append(u.Known, n)
			}
		}
		err = &u
	}
	msg, _, _ := broker.Explain(err)
	d.audit(pi, AuditRecord{Action: action, Profile: name, Decision: "error", Reason: msg})
	d.answerError(w, err, "")
}

// answerError writes err as the daemon's error body, with the status, code
// and hint of its class; device asks the client for a code for it.
func (d *Daemon) answerError(w http.ResponseWriter, err error, device string) {
	msg, hint, code := broker.Explain(err)
	writeError(w, broker.ClassOf(err).HTTPStatus, wire.ErrorBody{Code: code, Message: msg, Hint: hint, MFASerial: device})
}

func (d *Daemon) audit(pi *peerInfo, rec AuditRecord) {
	if d.opts.Audit == nil {
		return
	}
	// Every credential handed out is recorded. Anything else of another
	// user (refusals, errors, status) is recorded up to a rate per uid, the
	// rest counted in a summary record: one caller hammering the daemon
	// must not fill the disk.
	if rec.Expiration == nil && pi.peer.UID != d.opts.Owner && !d.denials.admit(pi.peer.UID) {
		return
	}
	rec.Time = time.Now().UTC()
	rec.UID, rec.PID = pi.peer.UID, pi.peer.PID
	rec.User = pi.peer.UserName()
	rec.Executable = pi.executable()
	d.opts.Audit.Record(rec)
}

// refusal: the access rules (or the daemon's state) do not let the caller
// have the profile.
type refusal struct{ profile, reason, fix string }

func (e *refusal) Error() string { return "profile " + e.profile + ": " + e.reason }

// Hint says whom to ask for what.
func (e *refusal) Hint() string { return e.fix }

// Is makes errors.Is(err, broker.ErrForbidden) work.
func (e *refusal) Is(target error) bool { return target == broker.ErrForbidden }

// stsEndpoint names where chain's credentials come from, for status.
func stsEndpoint(c *profile.RoleChain) string {
	ep, err := broker.STSEndpoint(c.Region, c.Endpoint)
	if err != nil {
		return "none for " + c.Region
	}
	return ep.URL
}

// ownerOnly identifies the caller and refuses anyone but the daemon's own
// user, answering and auditing a refusal itself.
func (d *Daemon) ownerOnly(w http.ResponseWriter, r *http.Request, action, why string) (*peerInfo, bool) {
	pi, err := peerFrom(r.Context())
	if err != nil {
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: wire.CodeForbidden, Message: "cannot identify the caller: " + err.Error()})
		return nil, false
	}
	if pi.peer.UID != d.opts.Owner {
		d.audit(pi, AuditRecord{Action: action, Decision: "deny", Reason: "only the daemon's own user may " + why})
		writeError(w, http.StatusForbidden, wire.ErrorBody{Code: wire.CodeForbidden, Message: "only the daemon's own user may " + why})
		return pi, false
	}
	return pi, true
}

// handleUnlock takes the file keyring's passphrase: the only way it
// reaches a daemon started on demand (never its environment or command
// line).
func (d *Daemon) handleUnlock(w http.ResponseWriter, r *http.Request) {
	var req wire.UnlockRequest
	if !readJSON(w, r, &req) {
		return
	}
	pi, ok := d.ownerOnly(w, r, "unlock", "give it the keyring's passphrase")
	if !ok {
		return
	}
	if d.opts.Keys == nil {
		writeError(w, http.StatusConflict, wire.ErrorBody{Code: wire.CodeBadRequest, Message: "this daemon has no keyring to unlock"})
		return
	}
	wasLocked := d.opts.Keys.NeedsPassphrase()
	if err := d.opts.Keys.Unlock(req.Passphrase); err != nil {
		d.audit(pi, AuditRecord{Action: "unlock", Decision: "error", Reason: "wrong passphrase"})
		d.answerError(w, err, "")
		return
	}
	if wasLocked {
		d.resetAll() // what failed for want of the passphrase is tried again
	}
	d.audit(pi, AuditRecord{Action: "unlock", Decision: "grant"})
	writeJSON(w, http.StatusOK, map[string]bool{"unlocked": true})
}

// handleStop ends the daemon (credbroker daemon stop): it answers, then
// shuts down gracefully.
func (d *Daemon) handleStop(w http.ResponseWriter, r *http.Request) {
	pi, ok := d.ownerOnly(w, r, "stop", "stop it")
	if !ok {
		return
	}
	d.audit(pi, AuditRecord{Action: "stop", Decision: "grant"})
	d.log.Info("stopping: asked by its user", "peer", pi.peer.String())
	writeJSON(w, http.StatusOK, map[string]bool{"stopping": true})
	if stop := d.stop.Load(); stop != nil {
		(*stop)()
	}
}
