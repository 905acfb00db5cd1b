package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// Policy language versions. IAM User Guide, Version: "2012-10-17. This is
// the current version of the policy language ... 2008-10-17. This was an
// earlier version of the policy language. You might see this version on
// older existing policies. Do not use this version for any new policies."
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's Effect.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed IAM JSON policy document. Its statements are compiled
// at parse time: evaluating it does not parse or allocate per pattern.
// A Policy is immutable and safe for concurrent use.
type Policy struct {
	// Name identifies the policy in errors, findings and matched
	// statements: a file name, an ARN, or any label.
	Name string
	// Version is the Version element, "" if absent.
	Version string
	// ID is the Id element.
	ID string
	// Statements in document order.
	Statements []*Statement
}

// variablesEnabled reports whether ${...} is a policy variable: only under
// Version 2012-10-17.
func (p *Policy) variablesEnabled() bool { return p.Version == Version2012 }

// Statement is one statement of a policy. The string slices hold the
// elements as written; a string element reads as a one-element slice.
type Statement struct {
	// Index is the statement's 0-based position in the Statement array
	// (0 when Statement is a single object). Messages count statements
	// from 1, as a reader does.
	Index  int
	Pos    Position
	Sid    string
	Effect Effect

	Action, NotAction     []string
	Resource, NotResource []string
	// Principal and NotPrincipal are nil when absent.
	Principal, NotPrincipal *Principals
	Condition               []Condition

	actions      []*pattern
	notAction    bool
	resources    []*pattern
	notResource  bool
	anyResource  bool // no Resource or NotResource element (trust policies)
	resourceVars bool // a Resource or NotResource entry has a policy variable
	principals   *principalSet
	notPrinc     bool
	conds        []*condition
}

// Principals is a Principal or NotPrincipal element. "Principal": "*"
// sets All; {"AWS": "*"} lists "*" under AWS, which means the same (IAM User
// Guide, Principal: "For anonymous users, the following elements are
// equivalent").
type Principals struct {
	All                                    bool
	AWS, Service, Federated, CanonicalUser []string
}

// Condition is one operator/key pair of a Condition element, as written.
type Condition struct {
	Operator string
	Key      string
	Values   []string
	Pos      Position
}

// condition is a compiled Condition.
type condition struct {
	op       *operator
	set      setQualifier
	ifExists bool
	key      string // lowercased
	values   []condValue
	hasVar   bool
}

type condValue struct {
	pat  *pattern // string and ARN families
	dec  decimal
	at   instant
	b    bool
	cidr netip.Prefix
	bin  string
}

// ParseError is a policy that is not valid JSON or not a valid IAM policy,
// with where: "policy.json:7:5: statement 2: unknown element "Actions"".
type ParseError struct {
	Name string
	Pos  Position
	// Statement counts from 1; 0 when the error is outside a statement.
	Statement int
	Msg       string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Name != "" {
		b.WriteString(e.Name)
		b.WriteByte(':')
	}
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Pos.Line, e.Pos.Col)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Statement > 0 {
		fmt.Fprintf(&b, "statement %d: ", e.Statement)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// principalSet is a compiled Principal or NotPrincipal.
type principalSet struct {
	all       bool
	accounts  map[string]bool
	arns      map[string]bool
	services  map[string]bool
	federated map[string]bool
	canonical map[string]bool
}

// grant is how directly a resource-based policy statement names the
// caller; it decides which implicit denies still limit it.
type grant uint8

const (
	grantNone grant = iota
	// grantAccount: the statement names the caller's account, which
	// "delegates authority to the account" (IAM User Guide, Principal).
	grantAccount
	// grantRole: the statement names the role behind a session or the
	// user behind a federated user session: "Resource-based policies that
	// grant permissions to an IAM role ARN are limited by an implicit deny
	// in a permissions boundary or session policy."
	grantRole
	// grantDirect: the statement names the caller itself (user, role
	// session, federated user session, service, "*").
	grantDirect
)

// match reports how the set names p.
func (s *principalSet) match(p *Principal) grant {
	if s.all {
		return grantDirect
	}
	switch p.Kind {
	case PrincipalService:
		return grantIf(s.services[p.Service], grantDirect)
	case PrincipalIdentityProvider:
		return grantIf(s.federated[p.Provider], grantDirect)
	case PrincipalCanonicalUser:
		return grantIf(s.canonical[p.CanonicalUser], grantDirect)
	case PrincipalAnonymous:
		return grantNone
	}
	if p.ARN != "" && p.Kind != PrincipalRoot && s.arns[p.ARN] {
		return grantDirect
	}
	if p.Kind == PrincipalRoleSession && s.arns[p.RoleARN] {
		return grantRole
	}
	if p.Kind == PrincipalFederatedUser && p.UserARN != "" && s.arns[p.UserARN] {
		return grantRole
	}
	return grantIf(s.accounts[p.Account], grantAccount)
}

func grantIf(ok bool, g grant) grant {
	if ok {
		return g
	}
	return grantNone
}

// coversAll reports whether every identity in p's chain is listed, the
// test NotPrincipal needs. IAM User Guide, NotPrincipal: "If an assumed-role
// user (someone who is using a role) is being evaluated, AWS might validate
// the account first, then the role, and then the assumed-role user", and
// "If the NotPrincipal element contained only Bob's ARN, the effect of the
// policy might be to explicitly deny access to the AWS account that
// contains the user Bob." So a caller escapes a NotPrincipal only when its
// account, its role or user, and its session are all listed.
func (s *principalSet) coversAll(p *Principal) bool {
	if s.all {
		return true
	}
	switch p.Kind {
	case PrincipalService:
		return s.services[p.Service]
	case PrincipalIdentityProvider:
		return s.federated[p.Provider]
	case PrincipalCanonicalUser:
		return s.canonical[p.CanonicalUser]
	case PrincipalAnonymous:
		return false
	}
	if !s.accounts[p.Account] {
		return false
	}
	switch p.Kind {
	case PrincipalUser:
		return s.arns[p.ARN]
	case PrincipalRoleSession:
		return s.arns[p.RoleARN] && (p.ARN == "" || s.arns[p.ARN])
	case PrincipalFederatedUser:
		return s.arns[p.ARN] && (p.UserARN == "" || s.arns[p.UserARN])
	}
	return true // the root user: its account is listed
}
