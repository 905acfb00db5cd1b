package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// debugVar turns the trace of --debug on for every credbroker command of
// a process tree (a script, a credential_process an SDK runs).
const debugVar = "CREDBROKER_DEBUG"

// debugOn reports whether --debug or CREDBROKER_DEBUG asks for a trace of
// what is called where.
func (a *app) debugOn() bool {
	if a.debug {
		return true
	}
	on, err := strconv.ParseBool(a.getenv(debugVar))
	return err == nil && on
}

// debugf writes one "credbroker: debug:" line on stderr when debugOn.
// What it is given names things (sockets, endpoints, actions, profiles,
// the last four characters of a key id), never a secret: the trace is for
// pasting into a bug report.
func (a *app) debugf(format string, args ...any) {
	if a.debugOn() {
		fmt.Fprintf(a.stderr, "credbroker: debug: "+format+"\n", args...)
	}
}

// traceDaemon makes c say on stderr which daemon it asks, and each request
// and its answer (the endpoint and the HTTP status, never a body: bodies
// carry passphrases, MFA codes and credentials).
func (a *app) traceDaemon(c *wire.Client) {
	if !a.debugOn() {
		return
	}
	why := "this user's daemon"
	switch {
	case a.getenv("CREDBROKER_SOCKET") != "":
		why = "from CREDBROKER_SOCKET"
	case filepath.Clean(c.Socket) == wire.SystemSocket:
		why = "the system daemon: this user has none"
	case wire.KeyringID(a.getenv) != "":
		why = "this user's daemon for the keyring these settings choose"
	}
	a.debugf("daemon socket %s (%s)", c.Socket, why)
	last := ""
	c.Trace = func(method, endpoint string, status int, err error) {
		line := fmt.Sprintf("daemon: %s %s: HTTP %d", method, endpoint, status)
		if err != nil {
			line = fmt.Sprintf("daemon: %s %s: %v", method, endpoint, err)
		}
		if line != last { // waiting for a daemon to start asks again and again
			a.debugf("%s", line)
		}
		last = line
	}
}

// traceChain says how the daemon makes profile name's credentials when it
// has none fresh in its cache: the chain as this process's config and
// settings resolve it (the daemon resolves it with the same, which every
// request carries), each STS call in order, and where it goes.
func (a *app) traceChain(name string) {
	if !a.debugOn() {
		return
	}
	r, err := a.resolver()
	if err != nil {
		a.debugf("profile %s: config not read here (%v)", name, err)
		return
	}
	chain, err := r.Resolve(name)
	if err != nil {
		a.debugf("profile %s: not resolved here (%v)", name, err)
		return
	}
	ep, err := broker.STSEndpoint(chain.Region, chain.Endpoint)
	if err != nil {
		a.debugf("profile %s: %v", name, err)
		return
	}
	a.debugf("profile %s: chain %s; STS %s (%s), region %s", name, strings.Join(chain.Path, " -> "), ep.URL, ep.Source, chain.Region)
	n := 1
	if chain.SessionToken {
		mfa := "without MFA"
		if chain.MFASerial != "" {
			mfa = "with MFA device " + chain.MFASerial
		}
		a.debugf("profile %s: step %d: GetSessionToken %s for %s, signed with the stored key of %s (cached as %s)",
			name, n, mfa, chain.SessionDuration, chain.Source, broker.SessionEntries(chain)[0])
		n++
	}
	signer := "the stored key of " + chain.Source
	if chain.SessionToken {
		signer = "that session"
	}
	for _, st := range chain.Steps {
		session := "session " + st.SessionName
		if st.SessionName == "" {
			session = "a session named after the key's IAM user"
		}
		mfa := ""
		if st.MFA {
			mfa = " with MFA device " + chain.MFASerial
		}
		a.debugf("profile %s: step %d: AssumeRole %s%s as %s for %s, signed with %s (cached as %s/role)",
			name, n, st.RoleARN, mfa, session, st.Duration, signer, st.Profile)
		signer = "the role session of " + st.Profile
		n++
	}
	a.debugf("profile %s: the daemon makes a step's call only when it has no fresh credentials of it", name)
}

// resolver resolves profiles with this process's config and settings,
// without opening the keyring (the daemon has it).
func (a *app) resolver() (*profile.Resolver, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return &profile.Resolver{Config: cfg, Getenv: a.getenv, Stored: func() ([]string, error) { return nil, nil }}, nil
}

// traceSTS is an option of an STS call that says on stderr, when debugOn,
// each HTTP request the SDK makes for it (each attempt): the action, the
// URL, the region and the last four characters of the signing key id,
// then the HTTP status and AWS's request id. Never a header or a body:
// they carry the signature, the session token and the answer's
// credentials.
func (a *app) traceSTS(keyID string) func(*sts.Options) {
	return func(o *sts.Options) {
		if !a.debugOn() {
			return
		}
		region := o.Region
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			// First in the deserialize step: once per attempt, the request
			// signed, the answer's request id read when it returns.
			return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("credbrokerTrace",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					op := middleware.GetOperationName(ctx)
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						a.debugf("STS %s: %s %s, region %s, signed with key %s", op, req.Method, req.URL.Redacted(), region, keyID)
					}
					start := time.Now()
					out, md, err := next.HandleDeserialize(ctx, in)
					status := "no answer"
					if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
						status = "HTTP " + strconv.Itoa(resp.StatusCode)
					}
					id, _ := awsmiddleware.GetRequestIDMetadata(md)
					a.debugf("STS %s: %s in %s, request id %s", op, status, time.Since(start).Round(time.Millisecond), dash(id))
					return out, md, err
				}), middleware.Before)
		})
	}
}
