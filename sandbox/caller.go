package sandbox

import (
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"

	"github.com/credbroker/credbroker/policy"
)

// Kinds of session a session token stands for.
const (
	kindUserSession = "session"   // GetSessionToken by an IAM user or root user
	kindRole        = "role"      // AssumeRole, AssumeRoleWithWebIdentity
	kindFederated   = "federated" // GetFederationToken
)

// sessionClaims is what a session token holds. Tokens are sealed (see
// sealer): the sandbox stores no session and reads everything back from
// the token, which binds the session to its access key id.
type sessionClaims struct {
	Kind        string `json:"k"`
	AccessKeyID string `json:"a"`
	Account     string `json:"acct"`
	// ARN is the session's identity as GetCallerIdentity answers it:
	// the user (or root) for a GetSessionToken session, the
	// assumed-role or federated-user ARN otherwise.
	ARN string `json:"arn"`
	// UserID is GetCallerIdentity's UserId.
	UserID string `json:"uid"`
	// User is the IAM user behind a user or federated session ("" for
	// the root user and for roles).
	User string `json:"u,omitempty"`
	// RoleARN is the role of a role session.
	RoleARN string `json:"r,omitempty"`
	Issued  int64  `json:"iat"`
	Expires int64  `json:"exp"`
	// MFAAuth is when MFA was used to make this session (or the one it
	// was made from), 0 without MFA.
	MFAAuth int64 `json:"mfa,omitempty"`
	// Policy is the inline session policy.
	Policy         string `json:"p,omitempty"`
	SourceIdentity string `json:"si,omitempty"`
	// Chained: a role session made by another role session (role
	// chaining); its console sign-in cannot take a SessionDuration.
	Chained bool `json:"ch,omitempty"`
}

// caller is who signed a request, resolved from its key (and token).
type caller struct {
	principal policy.Principal
	account   string
	arn       string         // GetCallerIdentity's Arn
	userID    string         // GetCallerIdentity's UserId
	longTerm  bool           // signed with a long-lived key
	user      *userEntry     // the IAM user behind it, if any
	role      *roleEntry     // the role of a role session
	session   *sessionClaims // nil for a long-lived key
	// sessionPolicies limit a session (its inline session policy).
	sessionPolicies []*policy.Policy
}

func (c *caller) isRoot() bool { return c.principal.Kind == policy.PrincipalRoot }
func (c *caller) sessionKind() string {
	if c.session == nil {
		return ""
	}
	return c.session.Kind
}

// mfa reports whether the caller authenticated with MFA, and when.
func (c *caller) mfa() (time.Time, bool) {
	if c.session == nil || c.session.MFAAuth == 0 {
		return time.Time{}, false
	}
	return time.Unix(c.session.MFAAuth, 0), true
}

// identityPolicies are the caller's identity-based policies: its user's
// or its role's (nil for the root user, who needs none in its account).
func (c *caller) identityPolicies() []*policy.Policy {
	switch {
	case c.role != nil:
		return c.role.policies
	case c.user != nil:
		return c.user.policies
	}
	return nil
}

// authenticate resolves the caller of a signed request and checks its
// signature. Order and codes follow STS: a key nobody issued (or an
// inactive one) is InvalidClientTokenId; a temporary key needs its own
// session token, which must be this sandbox's, for this key, and not
// expired at now (ExpiredToken); then the signature.
func authenticate(sn *snapshot, sig *sigV4, now time.Time, verify func(secret string) *apiError) (*caller, *apiError) {
	ix := sn.ix
	if strings.HasPrefix(sig.keyID, "ASIA") {
		if sig.token == "" {
			return nil, errInvalidToken()
		}
		cl, ok := sn.openSession(sig.keyID, sig.token)
		if !ok {
			return nil, errInvalidToken()
		}
		if !now.Before(time.Unix(cl.Expires, 0)) {
			return nil, &apiError{"ExpiredToken", msgExpiredToken}
		}
		c, err := sessionCaller(ix, cl)
		if err != nil {
			return nil, err
		}
		if err := verify(temporarySecret(sn.st.SealKey, sig.keyID)); err != nil {
			return nil, err
		}
		return c, nil
	}
	owner, ok := ix.keys[sig.keyID]
	if !ok || owner.key.Status != statusActive || sig.token != "" {
		return nil, errInvalidToken()
	}
	if err := verify(owner.key.Secret); err != nil {
		return nil, err
	}
	c := &caller{account: owner.account.ID, longTerm: true}
	if owner.user == nil {
		c.arn, c.userID = "arn:aws:iam::"+c.account+":root", c.account
		c.principal = policy.Principal{Kind: policy.PrincipalRoot, Partition: "aws", Account: c.account, ARN: c.arn}
		return c, nil
	}
	c.user = ix.users[userKey(owner.user.Account, owner.user.Name)]
	c.arn, c.userID = owner.user.ARN(), owner.user.ID
	c.principal = policy.Principal{Kind: policy.PrincipalUser, Partition: "aws", Account: c.account, ARN: c.arn, Name: owner.user.Name}
	return c, nil
}

// openSession reads a session token: sealed by this sandbox, and for
// keyID (not a token lent to other keys).
func (sn *snapshot) openSession(keyID, token string) (*sessionClaims, bool) {
	var cl sessionClaims
	if sn.seal.open(sealSession, token, &cl, base64.StdEncoding) != nil ||
		subtle.ConstantTimeCompare([]byte(cl.AccessKeyID), []byte(keyID)) != 1 {
		return nil, false
	}
	return &cl, true
}

// sessionCaller is the caller a valid session token stands for. A session
// whose user or role has since been deleted is no longer valid.
func sessionCaller(ix *index, cl *sessionClaims) (*caller, *apiError) {
	c := &caller{account: cl.Account, arn: cl.ARN, userID: cl.UserID, session: cl}
	if cl.User != "" {
		if c.user = ix.users[userKey(cl.Account, cl.User)]; c.user == nil {
			return nil, errInvalidToken()
		}
	}
	if cl.Policy != "" {
		p, err := policy.Parse("session policy", []byte(cl.Policy))
		if err != nil {
			return nil, errInvalidToken()
		}
		c.sessionPolicies = []*policy.Policy{p}
	}
	switch cl.Kind {
	case kindUserSession:
		if cl.User == "" {
			c.principal = policy.Principal{Kind: policy.PrincipalRoot, Partition: "aws", Account: cl.Account, ARN: cl.ARN}
		} else {
			c.principal = policy.Principal{Kind: policy.PrincipalUser, Partition: "aws", Account: cl.Account, ARN: cl.ARN, Name: cl.User}
		}
	case kindFederated:
		p, err := policy.ParsePrincipal(cl.ARN)
		if err != nil || c.user == nil {
			return nil, errInvalidToken()
		}
		p.UserARN = c.user.user.ARN()
		c.principal = p
	case kindRole:
		if c.role = ix.roles[cl.RoleARN]; c.role == nil {
			return nil, errInvalidToken()
		}
		p, err := policy.ParsePrincipal(cl.ARN)
		if err != nil {
			return nil, errInvalidToken()
		}
		p.RoleARN = cl.RoleARN
		c.principal = p
	default:
		return nil, errInvalidToken()
	}
	return c, nil
}
