package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// stsActions are the STS operations the sandbox answers (Version
// 2011-06-15).
var stsActions = map[string]handler{
	"GetCallerIdentity":          {fn: (*call).getCallerIdentity},
	"GetSessionToken":            {fn: (*call).getSessionToken},
	"AssumeRole":                 {fn: (*call).assumeRole},
	"DecodeAuthorizationMessage": {fn: (*call).decodeAuthorizationMessage},
	"GetFederationToken":         {fn: (*call).getFederationToken},
	"GetAccessKeyInfo":           {fn: (*call).getAccessKeyInfo},
	"AssumeRoleWithWebIdentity":  {fn: (*call).assumeRoleWithWebIdentity, unsigned: true},
}

type callerIdentityXML struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// getCallerIdentity needs no permission: STS API Reference,
// GetCallerIdentity: "No permissions are required to perform this
// operation. If an administrator attaches a policy to your identity that
// explicitly denies access to the sts:GetCallerIdentity action, you can
// still perform this operation."
func (c *call) getCallerIdentity() (any, *apiError) {
	return callerIdentityXML{Arn: c.caller.arn, UserID: c.caller.userID, Account: c.caller.account}, nil
}

type sessionTokenXML struct {
	Credentials credentialsXML `xml:"Credentials"`
}

// getSessionToken: from a long-lived key only; DurationSeconds 900 to
// 129600 (default 43200), and for the root user at most 3600: "Sessions
// for AWS account owners are restricted to a maximum of 3,600 seconds (one
// hour). If the duration is longer than one hour, the session for AWS
// account owners defaults to one hour." With SerialNumber and TokenCode
// the session carries MFA.
func (c *call) getSessionToken() (any, *apiError) {
	if c.caller.session != nil {
		return nil, newError("AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	d, apiErr := c.durationParam(12*time.Hour, 900, 129600)
	if apiErr != nil {
		return nil, apiErr
	}
	if c.caller.isRoot() {
		if c.params.Get("DurationSeconds") == "" || d > time.Hour {
			d = time.Hour
		}
	}
	serial, code, apiErr := c.mfaParams()
	if apiErr != nil {
		return nil, apiErr
	}
	cl := &sessionClaims{Kind: kindUserSession, Account: c.caller.account, ARN: c.caller.arn, UserID: c.caller.userID}
	if c.caller.user != nil {
		cl.User = c.caller.user.user.Name
	}
	if serial != "" {
		if apiErr := c.useMFA(serial, code); apiErr != nil {
			return nil, apiErr
		}
		cl.MFAAuth = c.now.Unix()
	}
	creds, apiErr := c.issue(cl, d)
	if apiErr != nil {
		return nil, apiErr
	}
	return sessionTokenXML{Credentials: creds}, nil
}

type accessKeyInfoXML struct {
	Account string `xml:"Account"`
}

// getAccessKeyInfo names the account of any access key id: a stored key's
// owner, else the account the id itself carries (see newKeyID).
func (c *call) getAccessKeyInfo() (any, *apiError) {
	id, apiErr := c.stringParam("AccessKeyId", "accessKeyId", true, 16, 128, `[\w]*`, wordChar)
	if apiErr != nil {
		return nil, apiErr
	}
	if apiErr := c.authorize("sts:GetAccessKeyInfo", "*"); apiErr != nil {
		return nil, apiErr
	}
	if o, ok := c.sn.ix.keys[id]; ok {
		return accessKeyInfoXML{Account: o.account.ID}, nil
	}
	acct, ok := keyIDAccount(id)
	if !ok {
		return nil, newError("ValidationError", "The access key ID %s is not a key ID of this sandbox", id)
	}
	return accessKeyInfoXML{Account: acct}, nil
}

type decodedMessageXML struct {
	DecodedMessage string `xml:"DecodedMessage"`
}

// decodeAuthorizationMessage decodes an encoded authorization message the
// sandbox issued to the caller's account, for a caller allowed
// sts:DecodeAuthorizationMessage.
func (c *call) decodeAuthorizationMessage() (any, *apiError) {
	enc, apiErr := c.stringParam("EncodedMessage", "encodedMessage", true, 1, 10240, "", nil)
	if apiErr != nil {
		return nil, apiErr
	}
	if apiErr := c.authorize("sts:DecodeAuthorizationMessage", "*"); apiErr != nil {
		return nil, apiErr
	}
	var sealed sealedAuthorization
	if c.sn.seal.open(sealAuthz, enc, &sealed, base64.RawURLEncoding) != nil || sealed.Account != c.caller.account {
		return nil, newError("InvalidAuthorizationMessageException", "The message is not an encoded authorization message issued to this account, or it was altered")
	}
	text, err := json.Marshal(sealed.Message)
	if err != nil {
		return nil, asAPIError(err)
	}
	return decodedMessageXML{DecodedMessage: string(text)}, nil
}

type federationTokenXML struct {
	Credentials   credentialsXML `xml:"Credentials"`
	FederatedUser struct {
		FederatedUserID string `xml:"FederatedUserId"`
		Arn             string `xml:"Arn"`
	} `xml:"FederatedUser"`
	PackedPolicySize int `xml:"PackedPolicySize,omitempty"`
}

// getFederationToken: an IAM user's long-lived key only (the sandbox does
// not issue them to the root user); the session's permissions are what
// both the user's policies and the session policy allow, and with no
// session policy nothing ("If you do not pass a policy to this operation,
// the resulting federated user session has no permissions").
func (c *call) getFederationToken() (any, *apiError) {
	if c.caller.session != nil {
		return nil, newError("AccessDenied", "Cannot call GetFederationToken with session credentials")
	}
	if c.caller.user == nil {
		return nil, newError("AccessDenied", "The sandbox issues federation tokens to IAM users only, not to the root user")
	}
	name, apiErr := c.stringParam("Name", "name", true, 2, 32, `[\w+=,.@-]*`, nameChar)
	if apiErr != nil {
		return nil, apiErr
	}
	d, apiErr := c.durationParam(12*time.Hour, 900, 129600)
	if apiErr != nil {
		return nil, apiErr
	}
	doc, packed, apiErr := c.sessionPolicyParam()
	if apiErr != nil {
		return nil, apiErr
	}
	arn := "arn:aws:sts::" + c.caller.account + ":federated-user/" + name
	if apiErr := c.authorize("sts:GetFederationToken", arn); apiErr != nil {
		return nil, apiErr
	}
	cl := &sessionClaims{Kind: kindFederated, Account: c.caller.account, ARN: arn, UserID: c.caller.account + ":" + name,
		User: c.caller.user.user.Name, Policy: doc}
	creds, apiErr := c.issue(cl, d)
	if apiErr != nil {
		return nil, apiErr
	}
	out := federationTokenXML{Credentials: creds, PackedPolicySize: packed}
	out.FederatedUser.FederatedUserID, out.FederatedUser.Arn = cl.UserID, arn
	return out, nil
}
