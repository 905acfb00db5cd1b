package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

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
	name := r.URL.Query().Get("profile")
	pi, ok := d.authorize(w, r, "credentials", name)
	if !ok {
		return
	}
	res, err := d.credentials(r.Context(), name)
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the caller went away; nobody to answer, nothing to audit
	}
	if err != nil {
		d.fail(w, pi, "credentials", name, err)
		return
	}
	d.grant(pi, "credentials", name, res)
	writeCredentials(w, d.state(name).rendered(res))
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
	chain, err := d.snap.Load().resolver.Resolve(req.Profile)
	if err != nil {
		d.fail(w, pi, "mfa", req.Profile, err)
		return
	}
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
	release, wait := d.gate.take(chain.MFASerial)
	if release == nil {
		err := &broker.MFAWaitError{Profile: req.Profile, Device: chain.MFASerial, Wait: wait}
		d.audit(pi, AuditRecord{Action: "mfa", Profile: req.Profile, Decision: "deny", Reason: "another MFA code for the device was just tried"})
		d.answerError(w, err, "")
		return
	}
	gen := d.gen.Load()
	ctx, cancel := context.WithTimeout(r.Context(), refreshTimeout)
	defer cancel()
	res, err := d.b.Fetch(ctx, chain, broker.FetchOptions{MFACode: req.Code})
	release(errors.Is(err, broker.ErrMFARefused))
	d.record(req.Profile, res, err, gen)
	if err != nil {
		d.fail(w, pi, "mfa", req.Profile, err)
		return
	}
	d.grant(pi, "mfa", req.Profile, res)
	writeCredentials(w, d.state(req.Profile).rendered(res))
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
	n, err := d.b.Forget(d.snap.Load().resolver, req.Profile)
	// Whatever was served may come from what changed: start over for
	// every profile (the sealed cache still spares STS what is unchanged).
	d.resetAll()
	if err != nil {
		d.fail(w, pi, "forget", req.Profile, err)
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
	if d.opts.Audit != nil {
		st.AuditDropped = d.opts.Audit.Dropped()
	}
	if e := d.configErr.Load(); e != nil {
		st.ConfigError = *e
	}
	snap := d.snap.Load()
	names := map[string]bool{}
	for _, n := range snap.cfg.Names() {
		names[n] = true
	}
	d.states.Range(func(k, _ any) bool { names[k.(string)] = true; return true })
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if ok, _ := snap.access.Decide(pi.peer, n); !ok {
			continue // only what the caller may fetch
		}
		st.Profiles = append(st.Profiles, d.profileStatus(n, now))
	}
	d.audit(pi, AuditRecord{Action: "status", Decision: "grant"})
	writeJSON(w, http.StatusOK, st)
}

// profileStatus is what status says of one profile.
func (d *Daemon) profileStatus(name string, now time.Time) wire.ProfileStatus {
	ps := wire.ProfileStatus{Profile: name, State: "idle"}
	v, ok := d.states.Load(name)
	if !ok {
		return ps
	}
	s := v.(*profileState)
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
	if !allow {
		d.audit(pi, AuditRecord{Action: action, Profile: name, Decision: "deny", Reason: reason})
		d.log.Warn("refused", "action", action, "profile", name, "peer", pi.peer.String(), "reason", reason)
		d.answerError(w, &refusal{profile: name, reason: reason}, "")
		return pi, false
	}
	return pi, true
}

func (d *Daemon) grant(pi *peerInfo, action, name string, res broker.Result) {
	exp := res.Expires
	d.audit(pi, AuditRecord{Action: action, Profile: name, RoleARN: res.RoleARN, Expiration: &exp, Decision: "grant"})
}

// fail answers err for a request about profile name, and audits it.
func (d *Daemon) fail(w http.ResponseWriter, pi *peerInfo, action, name string, err error) {
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
	device := ""
	if code := broker.ClassOf(err).Code; code.WantsCode() {
		// The client asks its user for a code for this device, unless the
		// daemon makes the codes itself from a seed (and takes none).
		if c, rerr := d.snap.Load().resolver.Resolve(name); rerr == nil && !d.b.MakesOwnCodes(c) {
			device = c.MFASerial
		}
	}
	d.answerError(w, err, device)
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
	rec.Time = time.Now().UTC()
	rec.UID, rec.PID = pi.peer.UID, pi.peer.PID
	rec.User = pi.peer.UserName()
	rec.Executable = pi.executable()
	d.opts.Audit.Record(rec)
}

// refusal: the access rules do not let the caller have the profile.
type refusal struct{ profile, reason string }

func (e *refusal) Error() string { return "profile " + e.profile + ": " + e.reason }

// Is makes errors.Is(err, broker.ErrForbidden) work.
func (e *refusal) Is(target error) bool { return target == broker.ErrForbidden }
