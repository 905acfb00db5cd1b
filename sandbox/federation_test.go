package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFederationSignin(t *testing.T) {
	w := newWorld(t, addTestRoles)
	fed := func(params url.Values) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		w.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566/federation?"+params.Encode(), nil))
		return rec
	}
	session := func(c creds) string {
		b, _ := json.Marshal(map[string]string{"sessionId": c.id, "sessionKey": c.secret, "sessionToken": c.token})
		return string(b)
	}
	ro, _ := w.session(w.alice, map[string]string{"Action": "AssumeRole", "RoleArn": w.ro, "RoleSessionName": "console"})
	mfa := w.mfaSession()
	rec := fed(url.Values{"Action": {"getSigninToken"}, "SessionDuration": {"43200"}, "Session": {session(ro)}})
	var tok struct{ SigninToken string }
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || json.Unmarshal(rec.Body.Bytes(), &tok) != nil || tok.SigninToken == "" {
		t.Fatalf("getSigninToken: %d %s", rec.Code, rec.Body)
	}
	dest := "https://console.aws.amazon.com/iam/home"
	login := url.Values{"Action": {"login"}, "Issuer": {"example.org"}, "Destination": {dest}, "SigninToken": {tok.SigninToken}}
	if rec := fed(login); rec.Code != http.StatusFound || rec.Header().Get("Location") != dest {
		t.Fatalf("login: %d %v", rec.Code, rec.Header())
	}
	for _, tc := range []struct {
		name   string
		params url.Values
		status int
		msg    string
	}{
		{"a GetSessionToken session", url.Values{"Action": {"getSigninToken"}, "Session": {session(mfa)}}, http.StatusForbidden, "credentials from GetSessionToken cannot sign in"},
		{"a wrong secret", url.Values{"Action": {"getSigninToken"}, "Session": {session(creds{ro.id, strings.Repeat("x", 40), ro.token})}}, http.StatusForbidden, "the session credentials are not valid"},
		{"a long-lived key", url.Values{"Action": {"getSigninToken"}, "Session": {session(creds{w.alice.id, w.alice.secret, "x"})}}, http.StatusForbidden, "the session credentials are not valid"},
		{"a SessionDuration out of bounds", url.Values{"Action": {"getSigninToken"}, "SessionDuration": {"43201"}, "Session": {session(ro)}}, http.StatusBadRequest, "SessionDuration must be 900 to 43200 seconds"},
		{"no Session", url.Values{"Action": {"getSigninToken"}}, http.StatusBadRequest, "Session must be the JSON"},
		{"a Destination that is not a URL", url.Values{"Action": {"login"}, "Destination": {"console"}, "SigninToken": {tok.SigninToken}}, http.StatusBadRequest, "Destination must be an absolute http(s) URL"},
		{"an altered sign-in token", url.Values{"Action": {"login"}, "Destination": {dest}, "SigninToken": {tok.SigninToken + "A"}}, http.StatusForbidden, "the sign-in token is not valid"},
		{"another action", url.Values{"Action": {"logout"}}, http.StatusBadRequest, "Action must be getSigninToken or login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := fed(tc.params); rec.Code != tc.status || !strings.HasPrefix(rec.Body.String(), tc.msg) {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.msg)
			}
		})
	}
	// Role chaining: no SessionDuration.
	admin, _ := w.session(mfa, map[string]string{"Action": "AssumeRole", "RoleArn": w.admin, "RoleSessionName": "admin"})
	chained, _ := w.session(admin, map[string]string{"Action": "AssumeRole", "RoleArn": chainRole, "RoleSessionName": "chained"})
	if rec := fed(url.Values{"Action": {"getSigninToken"}, "SessionDuration": {"3600"}, "Session": {session(chained)}}); rec.Code != http.StatusBadRequest {
		t.Errorf("SessionDuration with a chained role session: %d %s", rec.Code, rec.Body)
	}
	if rec := fed(url.Values{"Action": {"getSigninToken"}, "Session": {session(chained)}}); rec.Code != http.StatusOK {
		t.Errorf("a chained role session without SessionDuration: %d %s", rec.Code, rec.Body)
	}
	// A federated user signs in; sign-in tokens last 15 minutes.
	fu, _ := w.session(w.alice, map[string]string{"Action": "GetFederationToken", "Name": "visitor"})
	if rec := fed(url.Values{"Action": {"getSigninToken"}, "Session": {session(fu)}}); rec.Code != http.StatusOK {
		t.Errorf("a federated user: %d %s", rec.Code, rec.Body)
	}
	w.clock.Add(15 * time.Minute)
	if rec := fed(login); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "expired") {
		t.Errorf("a 15-minute-old sign-in token: %d %s", rec.Code, rec.Body)
	}
}
