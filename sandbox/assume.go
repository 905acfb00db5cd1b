package sandbox

import (
	"time"

	"github.com/credbroker/credbroker/policy"
)

type assumedRoleUserXML struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleXML struct {
	Credentials      credentialsXML     `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUserXML `xml:"AssumedRoleUser"`
	PackedPolicySize int                `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string             `xml:"SourceIdentity,omitempty"`
}

// roleSessionParams reads what every AssumeRole* call names: the role and
// the session's name.
func (c *call) roleSessionParams() (roleARN, session string, apiErr *apiError) {
	if roleARN, apiErr = c.stringParam("RoleArn", "roleArn", true, 20, 2048, "", nil); apiErr != nil {
		return "", "", apiErr
	}
	session, apiErr = c.stringParam("RoleSessionName", "roleSessionName", true, 2, 64, `[\w+=,.@-]*`, nameChar)
	return roleARN, session, apiErr
}

// assumeRole checks the role's trust policy and the caller's permission
// through policy.CanAssume, with aws:MultiFactorAuthPresent and
// aws:MultiFactorAuthAge from the caller's session (or from SerialNumber
// and TokenCode in this call), sts:ExternalId, sts:SourceIdentity,
// sts:RoleSessionName and session tags in the context; then the duration
// rules: 900 s to the role's MaxSessionDuration, and at most one hour for
// role chaining (a role session assuming a role).
func (c *call) assumeRole() (any, *apiError) {
	roleARN, session, apiErr := c.roleSessionParams()
	if apiErr != nil {
		return nil, apiErr
	}
	d, apiErr := c.durationParam(time.Hour, 900, 43200)
	if apiErr != nil {
		return nil, apiErr
	}
	externalID, apiErr := c.stringParam("ExternalId", "externalId", false, 2, 1224, `[\w+=,.@:\/-]*`, externalIDChar)
	if apiErr != nil {
		return nil, apiErr
	}
	sourceIdentity, apiErr := c.stringParam("SourceIdentity", "sourceIdentity", false, 2, 64, `[\w+=,.@-]*`, nameChar)
	if apiErr != nil {
		return nil, apiErr
	}
	doc, packed, apiErr := c.sessionPolicyParam()
	if apiErr != nil {
		return nil, apiErr
	}
	tags, apiErr := c.tagsParam()
	if apiErr != nil {
		return nil, apiErr
	}
	if tags != nil && packed == 0 {
		packed = 1
	}
	serial, code, apiErr := c.mfaParams()
	if apiErr != nil {
		return nil, apiErr
	}
	if c.caller.isRoot() {
		return nil, newError("AccessDenied", "Roles may not be assumed by root accounts.")
	}
	if c.caller.session != nil && c.caller.session.SourceIdentity != "" {
		// A source identity, once set, goes with every session made
		// from this one (role chaining) and cannot be changed.
		switch inherited := c.caller.session.SourceIdentity; {
		case sourceIdentity == "":
			sourceIdentity = inherited
		case sourceIdentity != inherited:
			return nil, newError("AccessDenied", "The source identity of a role session cannot be changed: this session's is %s.", inherited)
		}
	}
	mfaAt, mfa := c.caller.mfa()
	if serial != "" {
		if apiErr := c.useMFA(serial, code); apiErr != nil {
			return nil, apiErr
		}
		mfaAt, mfa = c.now, true
	}
	role := c.sn.ix.roles[roleARN]
	ctx := c.requestContext()
	req := policy.AssumeRoleRequest{
		Principal: c.caller.principal, RoleARN: roleARN,
		MFAPresent: mfa, LongTermKey: c.caller.longTerm && !mfa,
		ExternalID: externalID, SourceIdentity: sourceIdentity, RoleSessionName: session, Tags: tags,
		SourceIP: c.sourceIP, Now: c.now, Context: ctx,
		Identity: c.identity(), Session: c.caller.sessionPolicies,
	}
	if mfa {
		req.MFAAge = c.now.Sub(mfaAt)
	}
	if role == nil {
		// STS does not say whether a role exists: the same refusal.
		res := policy.Result{Decision: policy.ImplicitDeny, Reason: "no such role"}
		return nil, c.denied("sts:AssumeRole", roleARN, "", res, ctx)
	}
	if res := policy.CanAssume(role.trust, req); res.Decision != policy.Allowed {
		return nil, c.denied("sts:AssumeRole", roleARN, "", res, ctx)
	}
	chained := c.caller.sessionKind() == kindRole
	switch {
	case chained && d > time.Hour:
		return nil, newError("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case d > role.role.MaxSession():
		return nil, newError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	cl := &sessionClaims{
		Kind: kindRole, Account: role.role.Account, RoleARN: roleARN,
		ARN:    "arn:aws:sts::" + role.role.Account + ":assumed-role/" + role.role.Name + "/" + session,
		UserID: role.role.ID + ":" + session, Policy: doc, SourceIdentity: sourceIdentity,
		Chained: chained,
	}
	if mfa {
		cl.MFAAuth = mfaAt.Unix()
	}
	creds, apiErr := c.issue(cl, d)
	if apiErr != nil {
		return nil, apiErr
	}
	return assumeRoleXML{
		Credentials:      creds,
		AssumedRoleUser:  assumedRoleUserXML{AssumedRoleID: cl.UserID, Arn: cl.ARN},
		PackedPolicySize: packed,
		SourceIdentity:   sourceIdentity,
	}, nil
}
