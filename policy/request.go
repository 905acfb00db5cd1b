package policy

// Request is one authorization question: may Principal perform Action on
// Resource, given Context?
type Request struct {
	Principal Principal
	// Action is service:action, such as s3:GetObject.
	Action string
	// Resource is the resource's ARN, or "*" for actions that do not
	// support resource-level permissions (s3:ListAllMyBuckets).
	Resource string
	// ResourceAccount owns the resource when its ARN has no account
	// field (S3 buckets, arn:aws:s3:::bucket). When both are empty the
	// resource is taken to be in the caller's account, as IAM's
	// SimulateCustomPolicy assumes when no ResourceOwner is given.
	ResourceAccount string
	// Context holds the request's condition keys; nil is empty.
	Context *Context
}

// resourceAccount is the account that owns the resource.
func (r *Request) resourceAccount() string {
	if a := arnAccount(r.Resource); a != "" {
		return a
	}
	if r.ResourceAccount != "" {
		return r.ResourceAccount
	}
	return r.Principal.Account
}

// lookup finds a condition key: the Context first, then the keys AWS
// always puts in a request from the caller's identity (IAM User Guide,
// global condition context keys and "Principal key values"). An explicit
// Context entry wins, so a test can set any of them.
func (r *Request) lookup(lowerKey string) (string, []string, keyState) {
	if one, many, st := r.Context.lookup(lowerKey); st != keyAbsent {
		return one, many, st
	}
	p := &r.Principal
	var v string
	switch lowerKey {
	case "aws:principalarn":
		v = p.principalArnKey()
	case "aws:principalaccount":
		if p.isIAM() {
			v = p.Account
		}
	case "aws:principaltype":
		v = p.principalType()
	case "aws:username":
		// "aws:username ... IAM user: user-name"; not present for
		// roles, federated users or the root user.
		if p.Kind == PrincipalUser {
			v = p.Name
		}
	case "aws:principalservicename":
		v = p.Service
	case "aws:principalisawsservice":
		if p.Kind == PrincipalService {
			v = "true"
		} else {
			v = "false"
		}
	case "aws:resourceaccount":
		if a := arnAccount(r.Resource); a != "" {
			v = a
		} else {
			v = r.ResourceAccount
		}
	}
	if v == "" {
		return "", nil, keyAbsent
	}
	return v, nil, keySingle
}

// variable resolves ${key}: only a single-valued key resolves. IAM User
// Guide, Policy variables: "You can use any single-valued condition key as
// a variable. You can't use a multivalued condition key as a variable."
func (r *Request) variable(lowerKey string) (string, bool) {
	one, _, st := r.lookup(lowerKey)
	return one, st == keySingle
}
