package sandbox

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/credbroker/credbroker/policy"
)

// requestContext holds the global condition keys every request carries
// (IAM User Guide, "AWS global condition context keys"): the time, the
// source address, the requested region, TLS (never: the sandbox is plain
// HTTP on loopback), and for sessions whether and when MFA was used. A
// request signed with a long-lived key has no aws:MultiFactorAuthPresent
// at all ("If the requester made a request using their IAM user access
// keys ... the key is not present").
func (c *call) requestContext() *policy.Context {
	ctx := policy.NewContext()
	ctx.Set("aws:CurrentTime", c.now.UTC().Format(time.RFC3339))
	ctx.Set("aws:EpochTime", strconv.FormatInt(c.now.Unix(), 10))
	ctx.Set("aws:SecureTransport", "false")
	ctx.Set("aws:RequestedRegion", c.region)
	if c.sourceIP != "" {
		ctx.Set("aws:SourceIp", c.sourceIP)
	}
	if cl := c.caller; cl != nil {
		ctx.Set("aws:userid", cl.userID)
		if cl.session != nil {
			ctx.Set("aws:TokenIssueTime", time.Unix(cl.session.Issued, 0).UTC().Format(time.RFC3339))
			if at, ok := cl.mfa(); ok {
				ctx.Set("aws:MultiFactorAuthPresent", "true")
				ctx.Set("aws:MultiFactorAuthAge", strconv.FormatInt(int64(c.now.Sub(at)/time.Second), 10))
			} else {
				ctx.Set("aws:MultiFactorAuthPresent", "false")
			}
		}
	}
	return ctx
}

// identity is the caller's identity-based policies, never nil: a nil list
// tells policy.CanAssume not to evaluate the caller's side at all.
func (c *call) identity() []*policy.Policy {
	if p := c.caller.identityPolicies(); p != nil {
		return p
	}
	return []*policy.Policy{}
}

// authorize decides whether the caller may perform action on resource:
// its identity-based policies, limited by its session policies, through
// the policy engine. A refusal is AccessDenied in IAM's words, with an
// encoded authorization message DecodeAuthorizationMessage reads.
func (c *call) authorize(action, resource string) *apiError {
	ctx := c.requestContext()
	set := policy.PolicySet{Identity: c.identity(), Session: c.caller.sessionPolicies}
	res := set.Evaluate(&policy.Request{Principal: c.caller.principal, Action: action, Resource: resource, Context: ctx})
	if res.Decision == policy.Allowed {
		return nil
	}
	why := " because no identity-based policy allows the " + action + " action"
	switch {
	case res.Decision == policy.ExplicitDeny && len(res.Matched) > 0 && res.Matched[0].Kind == policy.SessionPolicy:
		why = " with an explicit deny in a session policy"
	case res.Decision == policy.ExplicitDeny:
		why = " with an explicit deny in an identity-based policy"
	case strings.Contains(res.Reason, "session policy"):
		why = " because no session policy allows the " + action + " action"
	}
	return c.denied(action, resource, why, res, ctx)
}

// denied is AccessDenied as AWS words it ("User: ARN is not authorized to
// perform: ACTION on resource: RESOURCE..."), followed by an encoded
// authorization message (AWS adds one for some services; the sandbox for
// every refusal the policy engine decides, so that
// DecodeAuthorizationMessage has something to decode).
func (c *call) denied(action, resource, why string, res policy.Result, ctx *policy.Context) *apiError {
	msg := "User: " + c.caller.arn + " is not authorized to perform: " + action + " on resource: " + resource + why
	if enc, err := c.encodeAuthorization(action, resource, res, ctx); err == nil {
		msg += ". Encoded authorization failure message: " + enc
	}
	return &apiError{"AccessDenied", msg}
}

// authorizationMessage is the decoded form of an encoded authorization
// message, in the shape AWS's DecodeAuthorizationMessage answers.
type authorizationMessage struct {
	Allowed           bool          `json:"allowed"`
	ExplicitDeny      bool          `json:"explicitDeny"`
	MatchedStatements itemList[any] `json:"matchedStatements"`
	Failures          itemList[any] `json:"failures"`
	Context           struct {
		Principal struct {
			ID   string `json:"id"`
			Name string `json:"name,omitempty"`
			ARN  string `json:"arn"`
		} `json:"principal"`
		Action     string                   `json:"action"`
		Resource   string                   `json:"resource"`
		Conditions itemList[conditionEntry] `json:"conditions"`
	} `json:"context"`
}

type itemList[T any] struct {
	Items []T `json:"items"`
}

type conditionEntry struct {
	Key    string               `json:"key"`
	Values itemList[valueEntry] `json:"values"`
}

type valueEntry struct {
	Value string `json:"value"`
}

type matchedStatement struct {
	StatementID string `json:"statementId"`
	Effect      string `json:"effect"`
	Policy      string `json:"policy"`
}

// sealedAuthorization is what the encoded message seals: the message and
// the account it was issued to.
type sealedAuthorization struct {
	Account string               `json:"account"`
	Message authorizationMessage `json:"message"`
}

func (c *call) encodeAuthorization(action, resource string, res policy.Result, ctx *policy.Context) (string, error) {
	var m authorizationMessage
	m.ExplicitDeny = res.Decision == policy.ExplicitDeny
	m.MatchedStatements.Items, m.Failures.Items = []any{}, []any{}
	for _, st := range res.Matched {
		m.MatchedStatements.Items = append(m.MatchedStatements.Items, matchedStatement{StatementID: st.Sid, Effect: strings.ToUpper(string(st.Effect)), Policy: st.Policy})
	}
	m.Context.Principal.ID, m.Context.Principal.ARN = c.caller.userID, c.caller.arn
	m.Context.Principal.Name = c.caller.principal.Name
	m.Context.Action, m.Context.Resource = action, resource
	m.Context.Conditions.Items = []conditionEntry{}
	for _, k := range ctx.Keys() {
		values, _, _ := ctx.Get(k)
		e := conditionEntry{Key: k, Values: itemList[valueEntry]{Items: []valueEntry{}}}
		for _, v := range values {
			e.Values.Items = append(e.Values.Items, valueEntry{v})
		}
		m.Context.Conditions.Items = append(m.Context.Conditions.Items, e)
	}
	return c.sn.seal.seal(c.s.rand(), sealAuthz, sealedAuthorization{Account: c.caller.account, Message: m}, base64.RawURLEncoding)
}

// sessionLimits applies what AWS allows each kind of temporary
// credentials to call (STS User Guide, "Compare AWS STS credentials"):
// GetSessionToken credentials call no STS operation but AssumeRole and
// GetCallerIdentity, and IAM only when the session was made with MFA;
// GetFederationToken credentials call no STS operation but
// GetCallerIdentity, and no IAM operation.
func (c *call) sessionLimits(service, action string) *apiError {
	switch c.caller.sessionKind() {
	case kindUserSession:
		if service == "sts" && action != "AssumeRole" && action != "GetCallerIdentity" {
			return newError("AccessDenied", "Cannot call %s with session credentials", action)
		}
		if _, mfa := c.caller.mfa(); service == "iam" && !mfa {
			// STS: "You cannot call any IAM API operations unless MFA
			// authentication information is included in the request."
			return errInvalidToken()
		}
	case kindFederated:
		if service == "sts" && action != "GetCallerIdentity" {
			return newError("AccessDenied", "Cannot call %s with session credentials", action)
		}
		if service == "iam" {
			return newError("AccessDenied", "Cannot call IAM operations with federated user session credentials")
		}
	}
	return nil
}
