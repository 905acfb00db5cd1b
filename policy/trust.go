package policy

import (
	"strconv"
	"time"
)

// AssumeRoleRequest is a call to sts:AssumeRole (or AssumeRoleWithSAML,
// AssumeRoleWithWebIdentity) to check against the role's trust policy:
// what an STS needs before it issues a session.
type AssumeRoleRequest struct {
	// Principal is the caller: a user, a role session (role chaining), a
	// service such as ec2.amazonaws.com, or an identity provider.
	Principal Principal
	// RoleARN is the role to assume.
	RoleARN string
	// Action is "sts:AssumeRole" when empty.
	Action string

	// MFAPresent is whether the caller authenticated with MFA (in this
	// call or in the session it calls with) and MFAAge how long ago.
	MFAPresent bool
	MFAAge     time.Duration
	// LongTermKey is whether the call is signed with an IAM user's
	// access key. IAM User Guide, aws:MultiFactorAuthPresent: "If the
	// requester made a request using their IAM user access keys in the
	// AWS CLI or AWS API, the key is not present" unless MFA was used;
	// with temporary credentials obtained without MFA it is "false".
	LongTermKey bool

	// ExternalID is the sts:ExternalId parameter.
	ExternalID string
	// SourceIdentity is the sts:SourceIdentity parameter.
	SourceIdentity string
	// RoleSessionName is the sts:RoleSessionName parameter.
	RoleSessionName string
	// Tags are session tags: aws:RequestTag/KEY and aws:TagKeys.
	Tags map[string]string
	// SourceIP is the caller's address, aws:SourceIp.
	SourceIP string
	// Now sets aws:CurrentTime and aws:EpochTime when not zero.
	Now time.Time
	// Context holds further keys (aws:PrincipalTag/..., aws:PrincipalOrgID);
	// the fields above take precedence over it.
	Context *Context

	// Identity holds the caller's identity-based policies, Boundary its
	// permissions boundary and Session its session policies. With
	// Identity nil only the role's side is checked, as if the caller's
	// own account allowed the call.
	Identity []*Policy
	Boundary *Policy
	Session  []*Policy
}

// CanAssume decides whether req may assume the role whose trust policy is
// trust. A role trust policy must itself allow the caller, even in the
// role's own account (IAM User Guide, policy evaluation: "IAM role trust
// policies and KMS key policies are exceptions to this logic, because they
// must explicitly allow access for principals"). A trust policy that names
// the caller's account delegates to the caller's identity-based policies,
// which must then allow sts:AssumeRole on the role; one that names the
// user or session does not, within the account.
func CanAssume(trust *Policy, req AssumeRoleRequest) Result {
	if req.Principal.Kind == PrincipalRoot {
		// IAM User Guide, Switching to an IAM role (AWS API): "You
		// cannot assume a role when you are signed in as the AWS account
		// root user."
		return Result{Decision: ImplicitDeny, Reason: "the account root user cannot assume a role"}
	}
	action := req.Action
	if action == "" {
		action = "sts:AssumeRole"
	}
	ctx := req.Context.Clone()
	switch {
	case req.MFAPresent:
		ctx.Set("aws:MultiFactorAuthPresent", "true")
		ctx.Set("aws:MultiFactorAuthAge", strconv.FormatInt(int64(req.MFAAge/time.Second), 10))
	case req.LongTermKey:
		ctx.Delete("aws:MultiFactorAuthPresent")
		ctx.Delete("aws:MultiFactorAuthAge")
	default:
		ctx.Set("aws:MultiFactorAuthPresent", "false")
		ctx.Delete("aws:MultiFactorAuthAge")
	}
	if req.ExternalID != "" {
		ctx.Set("sts:ExternalId", req.ExternalID)
	}
	if req.SourceIdentity != "" {
		ctx.Set("sts:SourceIdentity", req.SourceIdentity)
	}
	if req.RoleSessionName != "" {
		ctx.Set("sts:RoleSessionName", req.RoleSessionName)
	}
	if req.Tags != nil {
		keys := make([]string, 0, len(req.Tags))
		for k, v := range req.Tags {
			ctx.Set("aws:RequestTag/"+k, v)
			keys = append(keys, k)
		}
		ctx.SetMulti("aws:TagKeys", keys...)
	}
	if req.SourceIP != "" {
		ctx.Set("aws:SourceIp", req.SourceIP)
	}
	if !req.Now.IsZero() {
		ctx.Set("aws:CurrentTime", req.Now.UTC().Format(time.RFC3339))
		ctx.Set("aws:EpochTime", strconv.FormatInt(req.Now.Unix(), 10))
	}
	set := PolicySet{
		Identity:               req.Identity,
		Resource:               trust,
		Boundary:               req.Boundary,
		Session:                req.Session,
		ResourcePolicyRequired: true,
		identityUnknown:        req.Identity == nil,
	}
	return set.Evaluate(&Request{Principal: req.Principal, Action: action, Resource: req.RoleARN, Context: ctx})
}
