package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credbroker/credbroker/wire"
)

// fakeSource is a credential source that counts its calls.
type fakeSource struct {
	mu    sync.Mutex
	calls int
	out   wire.ProcessOutput
	err   error
}

func (f *fakeSource) source(context.Context) (wire.ProcessOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.out, f.err
}

var testCreds = wire.ProcessOutput{Version: 1, AccessKeyID: "ASIAEXAMPLEKEY000001", SecretAccessKey: "secret-key-of-the-test-0123456789abcdef",
	SessionToken: "session-token-of-the-test", Expiration: "2030-01-02T03:04:05Z", AccountID: "210987654321"}

func serveOnce(t *testing.T, h http.Handler, method, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:9999"+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(body)
}

func TestECSHandler(t *testing.T) {
	t.Parallel()
	const token = "the-token-the-server-printed"
	for _, tc := range []struct {
		name, method, path, auth string
		err                      error
		status                   int
		want                     string
	}{
		{"no token", "GET", ecsPath, "", nil, 401, "AWS_CONTAINER_AUTHORIZATION_TOKEN"},
		{"wrong token", "GET", ecsPath, token + "x", nil, 401, "Unauthorized"},
		{"token's prefix", "GET", ecsPath, token[:10], nil, 401, "Unauthorized"},
		{"no token, other path", "GET", "/other", "", nil, 401, "Unauthorized"},
		{"other path", "GET", "/other", token, nil, 404, "served at /credentials"},
		{"POST", "POST", ecsPath, token, nil, 405, "GET only"},
		{"daemon fails", "GET", ecsPath, token, errors.New("profile prod: no such profile"), 500, "no such profile"},
		{"credentials", "GET", ecsPath, token, nil, 200, testCreds.SessionToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := &fakeSource{out: testCreds, err: tc.err}
			h := &ecsHandler{token: []byte(token), creds: src.source, warn: func(string) {}}
			resp, body := serveOnce(t, h, tc.method, tc.path, map[string]string{"Authorization": tc.auth})
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("%s %s = %d %q; want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.want)
			}
			if tc.status == 401 && src.calls != 0 {
				t.Fatalf("the daemon was asked %d times for a request without the token", src.calls)
			}
			if tc.status != 200 {
				var e struct{ Code, Message string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code == "" || e.Message == "" {
					t.Fatalf("error body %q is not {Code, Message}", body)
				}
				return
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"AccessKeyId": testCreds.AccessKeyID, "SecretAccessKey": testCreds.SecretAccessKey,
				"Token": testCreds.SessionToken, "Expiration": testCreds.Expiration, "AccountId": testCreds.AccountID}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("answer has keys %v, want exactly %v", keys(got), keys(want))
			}
		})
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// imdsTestHandler is an IMDS handler with a clock the test moves.
func imdsTestHandler(src *fakeSource, now *time.Time) *imdsHandler {
	return &imdsHandler{role: "Admin", region: "eu-west-1", creds: src.source, warn: func(string) {},
		now: func() time.Time { return *now }, rand: strings.NewReader(strings.Repeat("r", 32*2000)),
		started: *now, tokens: map[string]time.Time{}}
}

func TestIMDSTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &fakeSource{out: testCreds}
	for _, tc := range []struct {
		name, method string
		header       map[string]string
		status       int
	}{
		{"no ttl", "PUT", nil, 400},
		{"ttl 0", "PUT", map[string]string{imdsTokenTTLHeader: "0"}, 400},
		{"ttl over 6 h", "PUT", map[string]string{imdsTokenTTLHeader: "21601"}, 400},
		{"ttl not a number", "PUT", map[string]string{imdsTokenTTLHeader: "1h"}, 400},
		{"GET", "GET", map[string]string{imdsTokenTTLHeader: "60"}, 405},
		{"through a proxy", "PUT", map[string]string{imdsTokenTTLHeader: "60", "X-Forwarded-For": "10.0.0.1"}, 403},
		{"ttl 1", "PUT", map[string]string{imdsTokenTTLHeader: "1"}, 200},
		{"ttl 6 h", "PUT", map[string]string{imdsTokenTTLHeader: "21600"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := imdsTestHandler(src, &now)
			resp, body := serveOnce(t, h, tc.method, "/latest/api/token", tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s /latest/api/token = %d %q, want %d", tc.method, resp.StatusCode, body, tc.status)
			}
			if tc.status == 200 && (len(body) != 43 || resp.Header.Get(imdsTokenTTLHeader) != tc.header[imdsTokenTTLHeader]) {
				t.Fatalf("token %q (%d characters), TTL header %q", body, len(body), resp.Header.Get(imdsTokenTTLHeader))
			}
		})
	}
	if src.calls != 0 {
		t.Fatalf("token requests asked the daemon %d times", src.calls)
	}
}

func TestIMDSCredentials(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &fakeSource{out: testCreds}
	h := imdsTestHandler(src, &now)
	resp, token := serveOnce(t, h, "PUT", "/latest/api/token", map[string]string{imdsTokenTTLHeader: "60"})
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %s", resp.StatusCode, token)
	}
	withToken := map[string]string{imdsTokenHeader: token}

	for _, path := range []string{imdsCredsPath, imdsCredsPath + "/", imdsExtendedPath + "/"} {
		if resp, body := serveOnce(t, h, "GET", path, nil); resp.StatusCode != 401 {
			t.Errorf("GET %s without a token = %d %q, want 401", path, resp.StatusCode, body)
		}
		if resp, body := serveOnce(t, h, "GET", path, map[string]string{imdsTokenHeader: token + "x"}); resp.StatusCode != 401 {
			t.Errorf("GET %s with a wrong token = %d %q, want 401", path, resp.StatusCode, body)
		}
		if resp, body := serveOnce(t, h, "GET", path, withToken); resp.StatusCode != 200 || body != "Admin" || resp.Header.Get(imdsTokenTTLHeader) != "60" {
			t.Errorf("GET %s = %d %q (TTL %q), want 200 Admin (60)", path, resp.StatusCode, body, resp.Header.Get(imdsTokenTTLHeader))
		}
	}
	if src.calls != 0 {
		t.Fatalf("listing the role asked the daemon %d times", src.calls)
	}

	for _, tc := range []struct {
		path    string
		account string
	}{
		{imdsCredsPath + "/Admin", ""},
		{imdsCredsPath + "/Admin/", ""},
		{imdsExtendedPath + "/Admin", testCreds.AccountID},
	} {
		resp, body := serveOnce(t, h, "GET", tc.path, withToken)
		var doc map[string]string
		if err := json.Unmarshal([]byte(body), &doc); resp.StatusCode != 200 || err != nil {
			t.Fatalf("GET %s = %d, %v", tc.path, resp.StatusCode, err)
		}
		want := map[string]string{"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2030-01-01T00:00:00Z",
			"AccessKeyId": testCreds.AccessKeyID, "SecretAccessKey": testCreds.SecretAccessKey, "Token": testCreds.SessionToken,
			"Expiration": testCreds.Expiration}
		if tc.account != "" {
			want["AccountId"] = tc.account
		}
		for k, v := range want {
			if doc[k] != v {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, k, doc[k], v)
			}
		}
		if len(doc) != len(want) {
			t.Errorf("GET %s: keys %v, want %v", tc.path, keys(doc), keys(want))
		}
	}
	if resp, _ := serveOnce(t, h, "GET", imdsCredsPath+"/Other", withToken); resp.StatusCode != 404 {
		t.Errorf("another role's credentials: %d, want 404", resp.StatusCode)
	}

	resp, body := serveOnce(t, h, "GET", "/latest/dynamic/instance-identity/document", withToken)
	var doc instanceIdentity
	if err := json.Unmarshal([]byte(body), &doc); resp.StatusCode != 200 || err != nil || doc.AccountID != testCreds.AccountID || doc.Region != "eu-west-1" {
		t.Errorf("identity document = %d %q", resp.StatusCode, body)
	}
	if resp, body := serveOnce(t, h, "GET", "/latest/meta-data/placement/region", withToken); resp.StatusCode != 200 || body != "eu-west-1" {
		t.Errorf("region = %d %q", resp.StatusCode, body)
	}

	// New credentials from the daemon: LastUpdated moves with them.
	now = now.Add(30 * time.Second)
	src.mu.Lock()
	src.out.AccessKeyID = "ASIAEXAMPLEKEY000002"
	src.mu.Unlock()
	_, body = serveOnce(t, h, "GET", imdsCredsPath+"/Admin", withToken)
	if !strings.Contains(body, `"LastUpdated":"2030-01-01T00:00:30Z"`) || !strings.Contains(body, "ASIAEXAMPLEKEY000002") {
		t.Errorf("after new credentials: %s", body)
	}

	// The token lapses after its TTL.
	now = now.Add(30 * time.Second)
	if resp, _ := serveOnce(t, h, "GET", imdsCredsPath+"/", withToken); resp.StatusCode != 401 {
		t.Errorf("GET with an expired token = %d, want 401", resp.StatusCode)
	}
}

// The daemon's failure is said in the document's Code and Message, as EC2
// says its own.
func TestIMDSCredentialsFailure(t *testing.T) {
	t.Parallel()
	now := time.Now()
	src := &fakeSource{err: &wire.Error{ErrorBody: wire.ErrorBody{Code: "mfa_required", Message: "profile prod needs an MFA code", Hint: "run: credbroker unlock prod"}}}
	h := imdsTestHandler(src, &now)
	_, token := serveOnce(t, h, "PUT", "/latest/api/token", map[string]string{imdsTokenTTLHeader: "60"})
	resp, body := serveOnce(t, h, "GET", imdsCredsPath+"/Admin", map[string]string{imdsTokenHeader: token})
	var doc imdsCredentials
	if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != 200 || doc.Code != "mfa_required" ||
		doc.Message != "profile prod needs an MFA code; run: credbroker unlock prod" || doc.AccessKeyID != "" {
		t.Fatalf("failure = %d %q", resp.StatusCode, body)
	}
}

// Tokens are bounded: past imdsMaxTokens, the one that expires first goes.
func TestIMDSTokenBound(t *testing.T) {
	t.Parallel()
	now := time.Now()
	h := imdsTestHandler(&fakeSource{out: testCreds}, &now)
	h.rand = rand.Reader
	_, first := serveOnce(t, h, "PUT", "/latest/api/token", map[string]string{imdsTokenTTLHeader: "10"})
	for range imdsMaxTokens {
		serveOnce(t, h, "PUT", "/latest/api/token", map[string]string{imdsTokenTTLHeader: "600"})
	}
	if len(h.tokens) != imdsMaxTokens {
		t.Fatalf("%d tokens kept, want %d", len(h.tokens), imdsMaxTokens)
	}
	if resp, _ := serveOnce(t, h, "GET", imdsCredsPath, map[string]string{imdsTokenHeader: first}); resp.StatusCode != 401 {
		t.Fatalf("the token that expires first was kept (%d)", resp.StatusCode)
	}
}

func TestQuietRepeats(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var said []string
	warn := quietRepeats(func(s string) { said = append(said, s) }, func() time.Time { return now })
	for _, step := range []struct {
		after time.Duration
		msg   string
	}{{0, "a"}, {time.Second, "a"}, {time.Second, "b"}, {time.Second, "a"}, {30 * time.Second, "a"}, {time.Minute, "a"}} {
		now = now.Add(step.after)
		warn(step.msg)
	}
	if want := []string{"a", "b", "a", "a"}; !slices.Equal(said, want) {
		t.Fatalf("said %q, want %q", said, want)
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{
		"127.0.0.1:0": true, "127.0.0.1:8080": true, "[::1]:0": true, "localhost:9911": true, "127.1.2.3:0": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:0": false, "192.168.1.10:80": false, "example.com:80": false, "127.0.0.1": false,
	} {
		if err := loopbackOnly(addr); (err == nil) != ok {
			t.Errorf("loopbackOnly(%q) = %v, want accepted: %v", addr, err, ok)
		}
	}
}

// The gate: the server's own uid passes; another uid, a connection whose
// owner cannot be told, and a request addressed to a name that is not
// loopback (a rebound DNS name) do not.
func TestOwnerGate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		uid    uint32
		err    error
		host   string
		status int
	}{
		{"own uid", 1000, nil, "127.0.0.1:9911", 200},
		{"own uid, localhost", 1000, nil, "localhost:9911", 200},
		{"own uid, ::1", 1000, nil, "[::1]:9911", 200},
		{"other uid", 1001, nil, "127.0.0.1:9911", 403},
		{"root", 0, nil, "127.0.0.1:9911", 403},
		{"owner unknown", 1000, errors.New("no live socket"), "127.0.0.1:9911", 403},
		{"rebound name", 1000, nil, "attacker.example:9911", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var warned []string
			g := &ownerGate{uid: 1000, peerUID: func(net.Conn) (uint32, error) { return tc.uid, tc.err },
				warn: func(s string) { warned = append(warned, s) }, reported: map[uint32]bool{}}
			h := g.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "served") }))
			for range 2 {
				req := httptest.NewRequest("GET", "http://"+tc.host+"/credentials", nil)
				req = req.WithContext(g.connContext(req.Context(), nil))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tc.status {
					t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tc.status)
				}
			}
			if tc.status == 403 && tc.host == "127.0.0.1:9911" && tc.err == nil && len(warned) != 1 {
				t.Fatalf("refusals of one uid said %d times, want once: %q", len(warned), warned)
			}
		})
	}
}

// The gate on a real loopback connection: this process's own requests
// pass (the refusal of another uid is a script, serve_ecs.txtar).
func TestOwnerGateSelf(t *testing.T) {
	t.Parallel()
	src := &fakeSource{out: testCreds}
	ln, err := listenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := startEndpoint(ln, &ecsHandler{token: []byte("tok"), creds: src.source, warn: func(string) {}}, newOwnerGate(func(string) {}), io.Discard)
	defer e.close()
	req, _ := http.NewRequest("GET", e.baseURL()+ecsPath, nil)
	req.Header.Set("Authorization", "tok")
	for range 3 {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), testCreds.AccessKeyID) {
			t.Fatalf("own request = %d %s", resp.StatusCode, body)
		}
	}
	if src.calls != 3 {
		t.Fatalf("the daemon was asked %d times for 3 requests, want 3 (it caches; the server does not)", src.calls)
	}
}

func TestExecServerEnv(t *testing.T) {
	t.Parallel()
	caller := []string{"PATH=/bin", "AWS_ACCESS_KEY_ID=AKIAOLD", "AWS_SECRET_ACCESS_KEY=old", "AWS_SESSION_TOKEN=old",
		"AWS_PROFILE=other", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/run/token",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=old", "AWS_REGION=us-east-1", wire.PassphraseVar + "=pass"}
	endpoint := []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1234/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN=new"}
	got := execServerEnv(caller, endpoint, "prod", "eu-west-1")
	want := []string{"PATH=/bin", endpoint[0], endpoint[1], execMarker + "=prod", "AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1"}
	if !slices.Equal(got, want) {
		t.Fatalf("execServerEnv =\n%q\nwant\n%q", got, want)
	}
}
