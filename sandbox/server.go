package sandbox

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the sandbox's STS, IAM and federation endpoint, an
// http.Handler. Set its fields before serving; it is safe for concurrent
// use afterwards.
type Server struct {
	// Now is the clock (time.Now when nil): session expiry, X-Amz-Date
	// checks, TOTP steps. Tests move it.
	Now func() time.Time
	// Rand is the randomness for keys, tokens and request ids
	// (crypto/rand when nil).
	Rand io.Reader
	// Advanced, when set, is how far the clock was moved forward for the
	// sandbox and its clients alike (see Clock): Now includes it, so
	// sessions age and expire, while X-Amz-Date and MFA codes, made on
	// the clients' own clocks, are read as made that much later, and the
	// Expiration of new credentials is told on the clients' clocks.
	Advanced func() time.Duration
	// ClockSkew is how far X-Amz-Date may be from Now: 5 minutes, as
	// Signature Version 4 states, when zero.
	ClockSkew time.Duration
	// StatePath, when set, is the file every change is written to
	// (atomically, see State.Save); otherwise changes live in memory.
	StatePath string

	mu   sync.Mutex // serialises changes
	cur  atomic.Pointer[snapshot]
	used sync.Map // access key id -> KeyUse: last use, kept in memory
}

// snapshot is one version of the state with its index; never modified.
type snapshot struct {
	st   *State
	ix   *index
	seal *sealer
}

// New serves st, which it takes over: the caller must not change it.
func New(st *State) (*Server, error) {
	sn, err := newSnapshot(st)
	if err != nil {
		return nil, err
	}
	s := &Server{}
	s.cur.Store(sn)
	return s, nil
}

// Open serves the state file at path and writes every change back to it.
// The file is checked as LoadState checks it, by compiling it once.
func Open(path string) (*Server, error) {
	st, err := readState(path)
	if err != nil {
		return nil, err
	}
	sn, err := newSnapshot(st)
	if err != nil {
		return nil, fmt.Errorf("sandbox state %s: %w", path, err)
	}
	s := &Server{StatePath: path}
	s.cur.Store(sn)
	return s, nil
}

func newSnapshot(st *State) (*snapshot, error) {
	ix, err := compile(st)
	if err != nil {
		return nil, err
	}
	seal, err := newSealer(st.SealKey)
	if err != nil {
		return nil, err
	}
	return &snapshot{st: st, ix: ix, seal: seal}, nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *Server) skew() time.Duration {
	if s.ClockSkew > 0 {
		return s.ClockSkew
	}
	return 5 * time.Minute
}

// update changes the state: change works on a copy, which is checked,
// written to StatePath if set, and only then served. An *apiError from
// change is handed back as is, and nothing changes.
func (s *Server) update(change func(st *State) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.cur.Load().st.clone()
	if err != nil {
		return err
	}
	if err := change(st); err != nil {
		return err
	}
	sn, err := newSnapshot(st)
	if err != nil {
		return err
	}
	if s.StatePath != "" {
		s.mergeLastUse(st)
		if err := st.Save(s.StatePath); err != nil {
			return err
		}
	}
	s.cur.Store(sn)
	return nil
}

func (s *Server) mergeLastUse(st *State) {
	set := func(k *AccessKey) {
		if u, ok := s.used.Load(k.ID); ok {
			use := u.(KeyUse)
			k.LastUsed = &use
		}
	}
	for i := range st.Users {
		for j := range st.Users[i].AccessKeys {
			set(&st.Users[i].AccessKeys[j])
		}
	}
	for i := range st.Accounts {
		for j := range st.Accounts[i].RootAccessKeys {
			set(&st.Accounts[i].RootAccessKeys[j])
		}
	}
}

// maxBody bounds a Query request (a session policy is 2 KiB, a web
// identity token 20 KB).
const maxBody = 64 << 10

// call is one API request being answered.
type call struct {
	s        *Server
	sn       *snapshot
	caller   *caller // nil for an unsigned AssumeRoleWithWebIdentity
	params   url.Values
	region   string
	sourceIP string
	now      time.Time
	// clientNow is now on the clients' clocks: X-Amz-Date and MFA codes
	// are checked against it (now, less what Advanced says).
	clientNow time.Time
}

// handler answers one action; unsigned actions accept unsigned requests.
type handler struct {
	fn       func(*call) (any, *apiError)
	unsigned bool
}

// ServeHTTP answers the AWS Query protocol (STS Version 2011-06-15, IAM
// Version 2010-05-08) on every path but /federation, which is the console
// sign-in federation endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/federation" {
		s.serveFederation(w, r)
		return
	}
	requestID := newRequestID(s.rand())
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, stsNamespace, requestID, newError("ValidationError", "Request body is larger than %d bytes", maxBody))
		return
	}
	params, badParams := queryParams(r, body)
	service, ns := "sts", stsNamespace
	if params.Get("Version") == iamVersion {
		service, ns = "iam", iamNamespace
	}
	result, apiErr := s.answer(r, body, params, badParams, service)
	if apiErr != nil {
		writeError(w, ns, requestID, apiErr)
		return
	}
	writeResult(w, ns, params.Get("Action"), requestID, result)
}

// answer authenticates the request (before anything else is read of it,
// so that whatever was altered in transit is a signature failure) and
// runs its action.
func (s *Server) answer(r *http.Request, body []byte, params url.Values, badParams *apiError, service string) (any, *apiError) {
	c := &call{s: s, sn: s.cur.Load(), params: params, now: s.now(), region: "us-east-1"}
	c.clientNow = c.now
	if s.Advanced != nil {
		c.clientNow = c.now.Add(-s.Advanced())
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		c.sourceIP = host
	}
	if signed(r) {
		sig, apiErr := parseSigV4(r)
		if apiErr != nil {
			return nil, apiErr
		}
		if apiErr := sig.checkScope(service, c.clientNow, s.skew()); apiErr != nil {
			return nil, apiErr
		}
		c.caller, apiErr = authenticate(c.sn, sig, c.now, func(secret string) *apiError { return sig.verify(r, body, secret) })
		if apiErr != nil {
			return nil, apiErr
		}
		c.region = sig.region
		if c.caller.longTerm {
			s.used.Store(sig.keyID, KeyUse{Date: c.now.UTC().Truncate(time.Second), Service: service, Region: sig.region})
		}
	}
	if badParams != nil {
		return nil, badParams
	}
	action, version := params.Get("Action"), params.Get("Version")
	actions := stsActions
	if service == "iam" {
		actions = iamActions
	}
	h, ok := actions[action]
	if !ok || (version != stsVersion && version != iamVersion) {
		return nil, newError("InvalidAction", "Could not find operation %s for version %s", clip(action, 64), clip(version, 16))
	}
	if c.caller == nil {
		if !h.unsigned {
			return nil, newError("MissingAuthenticationToken", "Request is missing Authentication Token")
		}
		return h.fn(c)
	}
	if apiErr := c.sessionLimits(service, action); apiErr != nil {
		return nil, apiErr
	}
	return h.fn(c)
}

// queryParams are the request's parameters: the form body of a POST, and
// the query (less a presigned URL's X-Amz-* fields).
func queryParams(r *http.Request, body []byte) (url.Values, *apiError) {
	params := url.Values{}
	for k, v := range r.URL.Query() {
		if !strings.HasPrefix(k, "X-Amz-") {
			params[k] = v
		}
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			return params, newError("ValidationError", "Content-Type must be application/x-www-form-urlencoded")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return params, newError("ValidationError", "The request body is not a valid form")
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	return params, nil
}

// asAPIError turns an update's error into an answer: its own *apiError,
// or InternalFailure (the state could not be written).
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return newError("InternalFailure", "The request processing has failed because of an unknown error, exception or failure.")
}
