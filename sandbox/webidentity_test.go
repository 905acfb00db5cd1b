package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"testing"
	"time"
)

const (
	issuer   = "https://token.example.com"
	ciRole   = "arn:aws:iam::222222222222:role/CI"
	clientID = "sts.amazonaws.com"
)

// oidcKey is a test identity provider's signing key.
var oidcKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func addOIDC(st *State) {
	pub := oidcKey.PublicKey
	st.OIDCProviders = append(st.OIDCProviders, OIDCProvider{Account: ProdAccount, URL: issuer, ClientIDs: []string{clientID},
		Keys: []JWK{{Kty: "RSA", Kid: "k1", N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()), E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}}})
	st.Roles = append(st.Roles, Role{Account: ProdAccount, Name: "CI", ID: "AROACI00000000000000", TrustPolicy: json.RawMessage(`{
	  "Version": "2012-10-17",
	  "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::222222222222:oidc-provider/token.example.com"},
	    "Action": "sts:AssumeRoleWithWebIdentity",
	    "Condition": {"StringEquals": {"token.example.com:aud": "sts.amazonaws.com"}, "StringLike": {"token.example.com:sub": "repo:credbroker/*"}}}]
	}`)})
}

// jwt makes an RS256 ID token signed with key.
func jwt(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	w := newWorld(t, addOIDC)
	now := w.clock.Now().Unix()
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"iss": issuer, "sub": "repo:credbroker/credbroker:ref:refs/heads/main", "aud": clientID, "iat": now, "exp": now + 300}
		if change != nil {
			change(c)
		}
		return c
	}
	call := func(token string) answer {
		return w.call(creds{}, "sts", map[string]string{"Action": "AssumeRoleWithWebIdentity", "RoleArn": ciRole, "RoleSessionName": "build-42", "WebIdentityToken": token})
	}
	var r struct {
		credsResult
		Subject  string `xml:"SubjectFromWebIdentityToken"`
		Provider string `xml:"Provider"`
		Audience string `xml:"Audience"`
	}
	w.ok(call(jwt(t, oidcKey, claims(nil))), &r)
	if r.Arn != "arn:aws:sts::222222222222:assumed-role/CI/build-42" || r.Subject != "repo:credbroker/credbroker:ref:refs/heads/main" || r.Audience != clientID || r.Provider != "token.example.com" {
		t.Fatalf("AssumeRoleWithWebIdentity: %+v", r)
	}
	// NumericDates may have a fraction (RFC 7519 2), and an nbf passed
	// is no obstacle.
	w.ok(call(jwt(t, oidcKey, claims(func(c map[string]any) { c["exp"] = float64(now) + 300.25; c["nbf"] = float64(now) - 0.5 }))), nil)
	if got := w.whoami(r.creds()); got.Arn != r.Arn {
		t.Errorf("the session is %s", got.Arn)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		name, token   string
		status        int
		code, message string
	}{
		{"another key signed it", jwt(t, other, claims(nil)), http.StatusBadRequest, "InvalidIdentityToken", "Couldn't verify the signature"},
		{"expired", jwt(t, oidcKey, claims(func(c map[string]any) { c["exp"] = now - 1 })), http.StatusBadRequest, "ExpiredTokenException", "Token expired: current date/time"},
		{"expired, a NumericDate with a fraction", jwt(t, oidcKey, claims(func(c map[string]any) { c["exp"] = float64(now) - 0.5 })), http.StatusBadRequest, "ExpiredTokenException", "Token expired: current date/time"},
		{"not valid yet (nbf)", jwt(t, oidcKey, claims(func(c map[string]any) { c["nbf"] = now + 600 })), http.StatusBadRequest, "InvalidIdentityToken", "Token not yet valid: current date/time"},
		{"another audience", jwt(t, oidcKey, claims(func(c map[string]any) { c["aud"] = "someone-else" })), http.StatusBadRequest, "InvalidIdentityToken", "Incorrect token audience"},
		{"an issuer nobody registered", jwt(t, oidcKey, claims(func(c map[string]any) { c["iss"] = "https://evil.example.com" })), http.StatusBadRequest, "InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://evil.example.com"},
		{"a subject the trust policy does not allow", jwt(t, oidcKey, claims(func(c map[string]any) { c["sub"] = "repo:someone/else" })), http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"not a JWT", "not-a-jwt", http.StatusBadRequest, "InvalidIdentityToken", "The ID Token provided is not a valid JWT."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.refused(call(tc.token), tc.status, tc.code, tc.message)
		})
	}
	w.t = t
	w.clock.Add(time.Hour)
	w.refused(call(jwt(t, oidcKey, claims(nil))), http.StatusBadRequest, "ExpiredTokenException", "")
}
