package sandbox

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/credbroker/credbroker/policy"
)

// publicKey reads an RSA JWK.
func (k JWK) publicKey() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" {
		return nil, errors.New("only RSA keys are supported")
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil || len(n) < 256 {
		return nil, errors.New("n is not base64url of a modulus of at least 2048 bits")
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("e is not base64url of an exponent")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
}

// idToken is the part of an OpenID Connect ID token STS reads.
type idToken struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"` // a string or an array
	// Expires and NotBefore are NumericDates (RFC 7519 2): seconds,
	// which may have a fraction.
	Expires float64 `json:"exp"`
	// NotBefore is the optional nbf claim (RFC 7519 4.1.5): before it the
	// token is not to be accepted.
	NotBefore float64 `json:"nbf"`
}

func (t *idToken) audiences() []string {
	var one string
	if json.Unmarshal(t.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(t.Audience, &many)
	return many
}

// verifyIDToken checks a JWT as STS does before trusting its claims: RS256
// signed by a key of the provider its iss names (registered in the state),
// not expired, for one of the provider's client ids. It returns the
// token's claims and its provider.
func (c *call) verifyIDToken(jwt string) (*idToken, *OIDCProvider, string, *apiError) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, nil, "", newError("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var tok idToken
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if errors.Join(err1, err2, err3) != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(pb, &tok) != nil {
		return nil, nil, "", newError("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	pe := c.sn.ix.providers[tok.Issuer]
	if pe == nil {
		return nil, nil, "", newError("InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s", clip(tok.Issuer, 128))
	}
	p := pe.provider
	if header.Alg != "RS256" {
		return nil, nil, "", newError("InvalidIdentityToken", "Unsupported signing algorithm %s: the sandbox accepts RS256", clip(header.Alg, 16))
	}
	verified := false
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	for i, k := range p.Keys {
		if header.Kid != "" && k.Kid != header.Kid {
			continue
		}
		if rsa.VerifyPKCS1v15(pe.pub[i], crypto.SHA256, sum[:], sig) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, nil, "", newError("InvalidIdentityToken", "Couldn't verify the signature of the web identity token with the keys of %s", p.URL)
	}
	if now := c.now.Unix(); tok.Expires <= float64(now) {
		return nil, nil, "", newError("ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %d", now, int64(tok.Expires))
	}
	if now := c.now.Unix(); tok.NotBefore > float64(now) {
		return nil, nil, "", newError("InvalidIdentityToken", "Token not yet valid: current date/time %d must be on or after the not-before date/time %d", now, int64(tok.NotBefore))
	}
	if tok.Subject == "" {
		return nil, nil, "", newError("InvalidIdentityToken", "The ID Token provided has no sub claim")
	}
	for _, aud := range tok.audiences() {
		if slices.Contains(p.ClientIDs, aud) {
			return &tok, p, aud, nil
		}
	}
	return nil, nil, "", newError("InvalidIdentityToken", "Incorrect token audience")
}

type webIdentityXML struct {
	Credentials                 credentialsXML     `xml:"Credentials"`
	SubjectFromWebIdentityToken string             `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUserXML `xml:"AssumedRoleUser"`
	PackedPolicySize            int                `xml:"PackedPolicySize,omitempty"`
	Provider                    string             `xml:"Provider"`
	Audience                    string             `xml:"Audience"`
}

// assumeRoleWithWebIdentity needs no signature: the ID token is the
// credential. The trust policy must allow the provider (Principal
// Federated, its ARN) for sts:AssumeRoleWithWebIdentity, with the
// provider's HOST:aud and HOST:sub condition keys in the context.
func (c *call) assumeRoleWithWebIdentity() (any, *apiError) {
	roleARN, session, apiErr := c.roleSessionParams()
	if apiErr != nil {
		return nil, apiErr
	}
	jwt, apiErr := c.stringParam("WebIdentityToken", "webIdentityToken", true, 4, 20000, "", nil)
	if apiErr != nil {
		return nil, apiErr
	}
	d, apiErr := c.durationParam(time.Hour, 900, 43200)
	if apiErr != nil {
		return nil, apiErr
	}
	doc, packed, apiErr := c.sessionPolicyParam()
	if apiErr != nil {
		return nil, apiErr
	}
	tok, p, aud, apiErr := c.verifyIDToken(jwt)
	if apiErr != nil {
		return nil, apiErr
	}
	role := c.sn.ix.roles[roleARN]
	denied := newError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	if role == nil || role.role.Account != p.Account {
		return nil, denied
	}
	ctx := c.requestContext()
	ctx.Set(p.host()+":aud", aud)
	ctx.Set(p.host()+":sub", tok.Subject)
	res := policy.CanAssume(role.trust, policy.AssumeRoleRequest{
		Principal: policy.Principal{Kind: policy.PrincipalIdentityProvider, Provider: p.ARN()},
		RoleARN:   roleARN, Action: "sts:AssumeRoleWithWebIdentity", RoleSessionName: session,
		SourceIP: c.sourceIP, Now: c.now, Context: ctx,
	})
	if res.Decision != policy.Allowed {
		return nil, denied
	}
	if d > role.role.MaxSession() {
		return nil, newError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	cl := &sessionClaims{
		Kind: kindRole, Account: role.role.Account, RoleARN: roleARN,
		ARN:    "arn:aws:sts::" + role.role.Account + ":assumed-role/" + role.role.Name + "/" + session,
		UserID: role.role.ID + ":" + session, Policy: doc,
	}
	creds, apiErr := c.issue(cl, d)
	if apiErr != nil {
		return nil, apiErr
	}
	return webIdentityXML{
		Credentials: creds, SubjectFromWebIdentityToken: tok.Subject,
		AssumedRoleUser:  assumedRoleUserXML{AssumedRoleID: cl.UserID, Arn: cl.ARN},
		PackedPolicySize: packed, Provider: p.host(), Audience: aud,
	}, nil
}
