package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// clock is a test's movable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testStart is mid time step, so that a test's own step arithmetic never
// straddles a boundary by accident.
var testStart = time.Date(2026, 11, 27, 10, 0, 15, 0, time.UTC)

// world is a sandbox serving the demo state (plus what a test adds), on
// a clock the test moves.
type world struct {
	t     *testing.T
	srv   *Server
	clock *clock
	alice creds
	seed  string
	admin string // prod Admin role ARN
	ro    string // prod ReadOnly role ARN
}

type creds struct{ id, secret, token string }

// newWorld serves the demo state after edit (nil: as is).
func newWorld(t *testing.T, edit func(st *State)) *world {
	t.Helper()
	clk := &clock{t: testStart}
	st, err := demoState(rand.Reader, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, clock: clk,
		alice: creds{id: st.Users[0].AccessKeys[0].ID, secret: st.Users[0].AccessKeys[0].Secret},
		seed:  st.MFADevices[0].Seed,
		admin: "arn:aws:iam::222222222222:role/Admin", ro: "arn:aws:iam::222222222222:role/ReadOnly",
	}
	if edit != nil {
		edit(st)
	}
	w.srv, err = New(st)
	if err != nil {
		t.Fatal(err)
	}
	w.srv.Now = clk.Now
	return w
}

// code is the MFA code of alice's device at the clock's step plus delta.
func (w *world) code(delta int64) string {
	w.t.Helper()
	c, err := codeAt(w.seed, w.clock.Now().Unix()/totpPeriod+delta)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// answer is an API answer: its status and parsed XML.
type answer struct {
	status int
	body   string
	err    errorResponse
}

// call signs params with c at the clock's time (service sts or iam) and
// serves the request in process.
func (w *world) call(c creds, service string, params map[string]string) answer {
	w.t.Helper()
	return w.callAt(c, service, params, w.clock.Now())
}

func (w *world) callAt(c creds, service string, params map[string]string, at time.Time) answer {
	w.t.Helper()
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	if form.Get("Version") == "" {
		form.Set("Version", stsVersion)
		if service == "iam" {
			form.Set("Version", iamVersion)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if c.id != "" {
		signRequest(w.t, req, c, service, at)
	}
	return w.serve(req)
}

func (w *world) serve(req *http.Request) answer {
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, req)
	a := answer{status: rec.Code, body: rec.Body.String()}
	if rec.Code != http.StatusOK {
		if err := xml.Unmarshal(rec.Body.Bytes(), &a.err); err != nil {
			w.t.Fatalf("error answer %d is not an ErrorResponse: %v: %s", rec.Code, err, rec.Body)
		}
	}
	return a
}

// signRequest signs req (its body is read and put back) with the SDK's
// signer, as a client does.
func signRequest(t testing.TB, req *http.Request, c creds, service string, at time.Time) {
	t.Helper()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(strings.NewReader(string(body)))
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.id, SecretAccessKey: c.secret, SessionToken: c.token},
		req, hex.EncodeToString(sum[:]), service, "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
}

// ok checks a 200 answer in the Query protocol's envelope and decodes its
// ACTIONResult element into v (nil: not decoded).
func (w *world) ok(a answer, v any) {
	w.t.Helper()
	if !w.checkOK(a, v) && v != nil {
		w.t.Fatalf("no result element: %s", a.body)
	}
}

// okNoResult checks a 200 answer of an operation without output (no
// ACTIONResult element, as IAM answers DeleteAccessKey).
func (w *world) okNoResult(a answer) {
	w.t.Helper()
	if w.checkOK(a, nil) {
		w.t.Fatalf("a result element in: %s", a.body)
	}
}

func (w *world) checkOK(a answer, v any) (found bool) {
	w.t.Helper()
	if a.status != http.StatusOK {
		w.t.Fatalf("status %d %s: %s", a.status, a.err.Code, a.err.Message)
	}
	var env struct {
		XMLName   xml.Name
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal([]byte(a.body), &env); err != nil || !strings.HasSuffix(env.XMLName.Local, "Response") ||
		(env.XMLName.Space != stsNamespace && env.XMLName.Space != iamNamespace) || len(env.RequestID) != 36 {
		w.t.Fatalf("answer not in the Query envelope (%v): %s", err, a.body)
	}
	dec := xml.NewDecoder(strings.NewReader(a.body))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && strings.HasSuffix(se.Name.Local, "Result") {
			found = true
			if v != nil {
				if err := dec.DecodeElement(v, &se); err != nil {
					w.t.Fatalf("result not understood: %v: %s", err, a.body)
				}
			}
			break
		}
	}
	return found
}

// refused checks an error answer's status, code and (if not "") that its
// message starts with msg.
func (w *world) refused(a answer, status int, code, msg string) {
	w.t.Helper()
	if a.status != status || a.err.Code != code || !strings.HasPrefix(a.err.Message, msg) {
		w.t.Fatalf("got %d %s %q; want %d %s %q", a.status, a.err.Code, a.err.Message, status, code, msg)
	}
	if a.err.RequestID == "" || a.err.Type != errorClasses[code].fault {
		w.t.Fatalf("error envelope lacks RequestId or has Type %q: %s", a.err.Type, a.body)
	}
}

// credsResult reads the Credentials of any STS answer.
type credsResult struct {
	Creds struct {
		ID         string `xml:"AccessKeyId"`
		Secret     string `xml:"SecretAccessKey"`
		Token      string `xml:"SessionToken"`
		Expiration string `xml:"Expiration"`
	} `xml:"Credentials"`
	Arn    string `xml:"AssumedRoleUser>Arn"`
	RoleID string `xml:"AssumedRoleUser>AssumedRoleId"`
}

func (r credsResult) creds() creds { return creds{r.Creds.ID, r.Creds.Secret, r.Creds.Token} }

// session runs an STS call that issues credentials and returns them.
func (w *world) session(c creds, params map[string]string) (creds, credsResult) {
	w.t.Helper()
	var r credsResult
	w.ok(w.call(c, "sts", params), &r)
	return r.creds(), r
}

// mfaSession is alice's GetSessionToken session with MFA.
func (w *world) mfaSession() creds {
	w.t.Helper()
	c, _ := w.session(w.alice, map[string]string{"Action": "GetSessionToken", "SerialNumber": "arn:aws:iam::111111111111:mfa/alice", "TokenCode": w.code(0)})
	return c
}

type identityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func (w *world) whoami(c creds) identityResult {
	w.t.Helper()
	var r identityResult
	w.ok(w.call(c, "sts", map[string]string{"Action": "GetCallerIdentity"}), &r)
	return r
}
