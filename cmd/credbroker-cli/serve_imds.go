package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/wire"
)

func newServeIMDSCmd(a *app) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "imds --profile PROFILE [--listen 127.0.0.1:PORT]",
		Short: "Serve PROFILE's credentials as an IMDSv2 endpoint",
		Long: `Serve PROFILE's temporary credentials as the EC2 instance metadata service
(IMDSv2) does, for SDKs pointed at it with AWS_EC2_METADATA_SERVICE_ENDPOINT.
The first lines on stdout are the environment a client needs.

A client first asks for a session token (PUT /latest/api/token with the
X-aws-ec2-metadata-token-ttl-seconds header, 1 to 21600), then sends it in
X-aws-ec2-metadata-token with every request for
/latest/meta-data/iam/security-credentials/[ROLE] (also -extended, with the
account), /latest/dynamic/instance-identity/document and
/latest/meta-data/placement/region. Unlike the container endpoint, anyone who
can connect may get a session token: so the server starts only where the
owner of a loopback connection can be told (Linux), and answers its own user
only. It runs until interrupted.`,
		Args: cobraNoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := f.check(c); err != nil {
				return err
			}
			if !peercred.LoopbackPeerUIDKnown() {
				return fmt.Errorf("serve imds cannot tell on %s which local user connects, and its session tokens are free to ask for; use credbroker serve ecs, whose token guards it", runtime.GOOS)
			}
			if _, err := a.firstCredentials(c.Context(), f.profile); err != nil {
				return err
			}
			ln, err := listenLoopback(f.listen)
			if err != nil {
				return err
			}
			h := &imdsHandler{role: a.roleName(f.profile), region: a.regionOrEnv(f.profile), creds: a.daemonSource(f.profile),
				warn: quietRepeats(a.warn, time.Now), now: time.Now, rand: rand.Reader, started: time.Now(), tokens: map[string]time.Time{}}
			e := startEndpoint(ln, h, newOwnerGate(a.warn), a.stderr)
			// The SDKs append paths to the endpoint: botocore adds a
			// separator, the Go SDK resolves against it.
			fmt.Fprintln(a.stdout, "AWS_EC2_METADATA_SERVICE_ENDPOINT="+e.baseURL()+"/")
			fmt.Fprintln(a.stdout, "AWS_EC2_METADATA_DISABLED=false")
			fmt.Fprintf(a.stderr, "credbroker: serving profile %s's credentials at %s/ (IMDSv2, role %s); interrupt to stop\n",
				f.profile, e.baseURL(), h.role)
			return e.serveUntilSignal(c.Context())
		},
	}
	f.register(c)
	return c
}

// IMDSv2's session tokens, as EC2 documents them: asked for with PUT and
// a TTL of 1 second to 6 hours, sent back in a header with every request.
const (
	imdsTokenHeader    = "X-Aws-Ec2-Metadata-Token"
	imdsTokenTTLHeader = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	imdsMaxTokenTTL    = 21600
	// imdsMaxTokens bounds the tokens kept: past it, the one that
	// expires first goes (SDKs ask for one per client, and keep it).
	imdsMaxTokens = 1024
)

const (
	imdsCredsPath    = "/latest/meta-data/iam/security-credentials"
	imdsExtendedPath = "/latest/meta-data/iam/security-credentials-extended"
)

// imdsHandler answers the part of IMDSv2 that SDKs use for credentials:
// the role's name and credentials (botocore, the Go SDK v2's ec2rolecreds;
// the -extended paths with AccountId, which newer SDKs try first), the
// instance identity document and the region.
type imdsHandler struct {
	role, region string
	creds        credentialSource
	warn         func(string)
	now          func() time.Time
	rand         io.Reader
	started      time.Time

	mu     sync.Mutex
	tokens map[string]time.Time
	// lastKey and lastUpdated give LastUpdated: when this server first
	// handed out the credentials it hands out now.
	lastKey     string
	lastUpdated time.Time
}

// imdsCredentials is an IMDS role credentials document.
type imdsCredentials struct {
	Code            string `json:"Code"`
	Message         string `json:"Message,omitempty"`
	LastUpdated     string `json:"LastUpdated"`
	Type            string `json:"Type,omitempty"`
	AccessKeyID     string `json:"AccessKeyId,omitempty"`
	SecretAccessKey string `json:"SecretAccessKey,omitempty"`
	Token           string `json:"Token,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
	AccountID       string `json:"AccountId,omitempty"`
}

func (h *imdsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/latest/api/token" || r.URL.Path == "/latest/api/token/" {
		h.issueToken(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ttl, ok := h.validToken(r.Header.Get(imdsTokenHeader))
	if !ok {
		http.Error(w, "unauthorized: IMDSv2 only; send the session token of PUT /latest/api/token in "+imdsTokenHeader, http.StatusUnauthorized)
		return
	}
	w.Header().Set(imdsTokenTTLHeader, strconv.Itoa(ttl))
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch path {
	case imdsCredsPath, imdsExtendedPath:
		writeText(w, h.role)
	case imdsCredsPath + "/" + h.role:
		h.writeCredentials(w, r, false)
	case imdsExtendedPath + "/" + h.role:
		h.writeCredentials(w, r, true)
	case "/latest/dynamic/instance-identity/document":
		h.writeIdentity(w, r)
	case "/latest/meta-data/placement/region":
		if h.region == "" {
			http.NotFound(w, r)
			return
		}
		writeText(w, h.region)
	default:
		http.NotFound(w, r)
	}
}

// issueToken answers PUT /latest/api/token.
func (h *imdsHandler) issueToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		http.Error(w, "method not allowed: PUT a token request", http.StatusMethodNotAllowed)
		return
	}
	// EC2 refuses a token request that went through a proxy: a server
	// tricked into forwarding requests (SSRF) must not get a token.
	if r.Header.Get("X-Forwarded-For") != "" {
		http.Error(w, "forbidden: a token request with X-Forwarded-For", http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(imdsTokenTTLHeader))
	if err != nil || ttl < 1 || ttl > imdsMaxTokenTTL {
		http.Error(w, "bad request: "+imdsTokenTTLHeader+" must be a number of seconds from 1 to 21600", http.StatusBadRequest)
		return
	}
	token, err := randomToken(h.rand)
	if err != nil {
		http.Error(w, "no token: "+err.Error(), http.StatusInternalServerError)
		return
	}
	now := h.now()
	h.mu.Lock()
	for t, exp := range h.tokens {
		if !now.Before(exp) {
			delete(h.tokens, t)
		}
	}
	if len(h.tokens) >= imdsMaxTokens {
		var first string
		for t, exp := range h.tokens {
			if first == "" || exp.Before(h.tokens[first]) {
				first = t
			}
		}
		delete(h.tokens, first)
	}
	h.tokens[token] = now.Add(time.Duration(ttl) * time.Second)
	h.mu.Unlock()
	w.Header().Set(imdsTokenTTLHeader, strconv.Itoa(ttl))
	writeText(w, token)
}

// validToken reports whether token is a live session token, and the
// seconds it has left.
func (h *imdsHandler) validToken(token string) (ttl int, ok bool) {
	if token == "" {
		return 0, false
	}
	now := h.now()
	h.mu.Lock()
	exp, found := h.tokens[token]
	h.mu.Unlock()
	if !found || !now.Before(exp) {
		return 0, false
	}
	return int(exp.Sub(now) / time.Second), true
}

// writeCredentials answers with the role's credentials; a failure is said
// as EC2 says it, in the document's Code and Message.
func (h *imdsHandler) writeCredentials(w http.ResponseWriter, r *http.Request, extended bool) {
	out, err := h.creds(r.Context())
	now := h.now().UTC()
	doc := imdsCredentials{LastUpdated: now.Format(time.RFC3339)}
	if err != nil {
		msg := credentialsError(err)
		h.warn("a client got no credentials: " + msg)
		doc.Code, doc.Message = imdsErrorCode(err), msg
		writeJSON(w, doc)
		return
	}
	h.mu.Lock()
	if out.AccessKeyID != h.lastKey {
		h.lastKey, h.lastUpdated = out.AccessKeyID, now
	}
	doc.LastUpdated = h.lastUpdated.Format(time.RFC3339)
	h.mu.Unlock()
	doc.Code, doc.Type = "Success", "AWS-HMAC"
	doc.AccessKeyID, doc.SecretAccessKey, doc.Token, doc.Expiration = out.AccessKeyID, out.SecretAccessKey, out.SessionToken, out.Expiration
	if extended {
		doc.AccountID = out.AccountID
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, doc)
}

// imdsErrorCode is the daemon's error code when it gave one.
func imdsErrorCode(err error) string {
	var de *wire.Error
	if errors.As(err, &de) && de.Code != "" {
		return string(de.Code)
	}
	return "CredentialsUnavailable"
}

// instanceIdentity is the part of the instance identity document that
// credbroker knows: the account of the credentials and the region; the
// rest of EC2's fields describe an instance there is none of.
type instanceIdentity struct {
	AccountID    string `json:"accountId"`
	Architecture string `json:"architecture"`
	PendingTime  string `json:"pendingTime"`
	Region       string `json:"region,omitempty"`
	Version      string `json:"version"`
}

func (h *imdsHandler) writeIdentity(w http.ResponseWriter, r *http.Request) {
	out, err := h.creds(r.Context())
	if err != nil {
		msg := credentialsError(err)
		h.warn("a client got no identity document: " + msg)
		http.Error(w, "no identity document: "+msg, http.StatusInternalServerError)
		return
	}
	writeJSON(w, instanceIdentity{
		AccountID:    out.AccountID,
		Architecture: ec2Architecture(runtime.GOARCH),
		PendingTime:  h.started.UTC().Format(time.RFC3339),
		Region:       h.region,
		Version:      "2017-09-30",
	})
}

// ec2Architecture names GOARCH as EC2 names architectures.
func ec2Architecture(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "386":
		return "i386"
	}
	return goarch
}

func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, s)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
