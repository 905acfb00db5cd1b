package policy

import (
	"fmt"
	"strings"
)

// PrincipalKind is who makes a request.
type PrincipalKind uint8

const (
	// PrincipalAnonymous is an unsigned request.
	PrincipalAnonymous PrincipalKind = iota
	// PrincipalRoot is an account's root user, arn:aws:iam::ACCOUNT:root.
	PrincipalRoot
	// PrincipalUser is an IAM user.
	PrincipalUser
	// PrincipalRoleSession is an assumed-role session,
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
	PrincipalRoleSession
	// PrincipalFederatedUser is a GetFederationToken session,
	// arn:aws:sts::ACCOUNT:federated-user/NAME.
	PrincipalFederatedUser
	// PrincipalService is an AWS service such as ec2.amazonaws.com.
	PrincipalService
	// PrincipalIdentityProvider is a web identity or SAML provider, as a
	// trust policy's "Federated" names it.
	PrincipalIdentityProvider
	// PrincipalCanonicalUser is an Amazon S3 canonical user ID.
	PrincipalCanonicalUser
)

var principalKindNames = [...]string{"anonymous", "root user", "IAM user", "role session", "federated user", "service", "identity provider", "canonical user"}

func (k PrincipalKind) String() string {
	if int(k) < len(principalKindNames) {
		return principalKindNames[k]
	}
	return fmt.Sprintf("PrincipalKind(%d)", k)
}

// Principal is the caller of a request. ParsePrincipal fills it from an ARN;
// the fields that do not apply to a kind are empty.
type Principal struct {
	Kind PrincipalKind
	// ARN is the caller's own ARN: the user, the root user, the role
	// session or the federated user. It is empty for a role session whose
	// session name is not known (ParsePrincipal of a role ARN).
	ARN       string
	Partition string
	Account   string
	// Name is the user name (without path), the role name of a session,
	// or the federated user name.
	Name string
	// Session is a role session's name.
	Session string
	// RoleARN is the role behind a role session, with its path if known.
	// A session ARN carries no path, so ParsePrincipal derives
	// arn:PARTITION:iam::ACCOUNT:role/NAME; set it to the real ARN for a
	// role with a path.
	RoleARN string
	// UserARN is the IAM user who called GetFederationToken, for a
	// federated user session, if known.
	UserARN string
	// Service is a service principal's name (ec2.amazonaws.com).
	Service string
	// Provider is a web identity or SAML provider (accounts.google.com,
	// arn:aws:iam::ACCOUNT:saml-provider/NAME).
	Provider string
	// CanonicalUser is an S3 canonical user ID.
	CanonicalUser string
}

// ParsePrincipal reads a caller: an IAM user, root user, role, assumed-role
// session or federated user ARN, a bare 12-digit account ID (the account's
// root user), a service principal (ec2.amazonaws.com), or "" or "*" for an
// anonymous caller. A role ARN stands for a session of that role whose
// session name is not known.
func ParsePrincipal(s string) (Principal, error) {
	switch {
	case s == "" || s == "*":
		return Principal{Kind: PrincipalAnonymous}, nil
	case isAccountID(s):
		return Principal{Kind: PrincipalRoot, Partition: "aws", Account: s, ARN: "arn:aws:iam::" + s + ":root"}, nil
	case !strings.HasPrefix(s, "arn:"):
		if !strings.Contains(s, ":") && strings.Contains(s, ".") && !strings.ContainsAny(s, " /*") {
			return Principal{Kind: PrincipalService, Service: s}, nil
		}
		return Principal{}, fmt.Errorf("principal %q is not an ARN, an account ID or a service principal", s)
	}
	a, ok := splitARN(s)
	if !ok {
		return Principal{}, fmt.Errorf("principal %q is not a valid ARN", s)
	}
	if !isAccountID(a.account) {
		return Principal{}, fmt.Errorf("principal %q has no 12-digit account ID", s)
	}
	p := Principal{Partition: a.partition, Account: a.account}
	typ, rest, _ := strings.Cut(a.resource, "/")
	switch {
	case a.service == "iam" && a.resource == "root":
		p.Kind, p.ARN = PrincipalRoot, s
	case a.service == "iam" && typ == "user" && rest != "":
		p.Kind, p.ARN, p.Name = PrincipalUser, s, lastPathElement(rest)
	case a.service == "iam" && typ == "role" && rest != "":
		p.Kind, p.RoleARN, p.Name = PrincipalRoleSession, s, lastPathElement(rest)
	case a.service == "sts" && typ == "assumed-role":
		role, session, ok := strings.Cut(rest, "/")
		if !ok || role == "" || session == "" {
			return Principal{}, fmt.Errorf("principal %q: an assumed-role ARN ends in ROLE/SESSION", s)
		}
		p.Kind, p.ARN, p.Name, p.Session = PrincipalRoleSession, s, role, session
		p.RoleARN = "arn:" + a.partition + ":iam::" + a.account + ":role/" + role
	case a.service == "sts" && typ == "federated-user" && rest != "":
		p.Kind, p.ARN, p.Name = PrincipalFederatedUser, s, rest
	default:
		return Principal{}, fmt.Errorf("principal %q is not a user, root user, role, assumed-role or federated-user ARN", s)
	}
	return p, nil
}

func lastPathElement(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// isIAM reports whether the caller is an identity in an account, which has
// identity-based policies (or, for the root user, full access).
func (p *Principal) isIAM() bool {
	switch p.Kind {
	case PrincipalRoot, PrincipalUser, PrincipalRoleSession, PrincipalFederatedUser:
		return true
	}
	return false
}

// principalArnKey is the value of aws:PrincipalArn. IAM User Guide, global
// condition keys: for a role session "the request context returns the ARN
// of the role, not the ARN of the user that assumed the role".
func (p *Principal) principalArnKey() string {
	if p.Kind == PrincipalRoleSession {
		return p.RoleARN
	}
	return p.ARN
}

// principalType is the value of aws:PrincipalType (IAM User Guide, Policy
// variables, "Principal key values").
func (p *Principal) principalType() string {
	switch p.Kind {
	case PrincipalRoot:
		return "Account"
	case PrincipalUser:
		return "User"
	case PrincipalRoleSession:
		return "AssumedRole"
	case PrincipalFederatedUser:
		return "FederatedUser"
	case PrincipalAnonymous:
		return "Anonymous"
	}
	return ""
}

func isAccountID(s string) bool { return len(s) == 12 && allDigits(s) }

// arnParts is an ARN split at its first five colons.
type arnParts struct {
	partition, service, region, account, resource string
}

func splitARN(s string) (arnParts, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		return arnParts{}, false
	}
	return arnParts{parts[1], parts[2], parts[3], parts[4], parts[5]}, true
}

// arnAccount returns the account field of an ARN without allocating.
func arnAccount(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return ""
	}
	rest := s
	for range 4 {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			return ""
		}
		rest = rest[i+1:]
	}
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		return rest[:i]
	}
	return ""
}
