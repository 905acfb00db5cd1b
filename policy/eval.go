package policy

// Decision is the outcome of an evaluation, in the vocabulary of IAM's
// SimulatePrincipalPolicy (EvalDecision allowed, explicitDeny,
// implicitDeny).
type Decision string

// The three decisions.
const (
	Allowed      Decision = "allowed"
	ExplicitDeny Decision = "explicitDeny"
	ImplicitDeny Decision = "implicitDeny"
)

// PolicyKind is the role a policy plays in an evaluation.
type PolicyKind uint8

// Policy kinds.
const (
	IdentityPolicy PolicyKind = iota
	ResourcePolicy
	PermissionsBoundary
	SessionPolicy
)

func (k PolicyKind) String() string {
	return [...]string{"identity-based policy", "resource-based policy", "permissions boundary", "session policy"}[k]
}

// PolicySet is every policy that applies to a request.
type PolicySet struct {
	// Identity holds the caller's identity-based policies (its user's,
	// its groups', or its role's).
	Identity []*Policy
	// Resource is the resource-based policy of the resource, nil if
	// none.
	Resource *Policy
	// Boundary is the caller's permissions boundary, nil if none.
	Boundary *Policy
	// Session holds the session policies passed when the session was
	// created (inline and managed); empty if none.
	Session []*Policy
	// ResourcePolicyRequired marks a resource whose own policy must name
	// the caller even in its own account. IAM User Guide, policy
	// evaluation: "IAM role trust policies and KMS key policies are
	// exceptions to this logic, because they must explicitly allow
	// access for principals."
	ResourcePolicyRequired bool

	// identityUnknown: the caller's side is not being evaluated (a trust
	// check without the caller's policies); it is taken to allow.
	identityUnknown bool
}

// MatchedStatement is a statement that decided a result.
type MatchedStatement struct {
	Policy string     // the policy's Name
	Kind   PolicyKind // what the policy was in this evaluation
	Sid    string
	Index  int // 0-based position in the Statement array
	Effect Effect
	Pos    Position
}

// Result is a decision with what decided it.
type Result struct {
	Decision Decision
	// Matched holds the statements that decided: every Deny that
	// applied for explicitDeny; the Allow statements of every policy
	// that had to allow for allowed; none for implicitDeny (as IAM's
	// simulator reports).
	Matched []MatchedStatement
	// Reason says in one line why, for a person reading the result.
	Reason string
}

// stmtRef is a statement that applied, recorded during the scan.
type stmtRef struct {
	pol  *Policy
	st   *Statement
	kind PolicyKind
}

// refList records applied statements without allocating for the first
// sixteen: an evaluation's hot path.
type refList struct {
	fixed [16]stmtRef
	n     int
	more  []stmtRef
}

func (l *refList) add(r stmtRef) {
	if l.n < len(l.fixed) {
		l.fixed[l.n] = r
		l.n++
		return
	}
	l.more = append(l.more, r)
}

func (l *refList) len() int { return l.n + len(l.more) }

func (l *refList) at(i int) *stmtRef {
	if i < l.n {
		return &l.fixed[i]
	}
	return &l.more[i-l.n]
}

// applies reports whether statement s applies to r: action, resource,
// (for resource-based policies) principal, and every condition. An
// unresolvable policy variable makes the statement not apply.
func (s *Statement) applies(r *Request, kind PolicyKind, hasBoundary bool) (bool, grant) {
	if !s.matchAction(r.Action) {
		return false, grantNone
	}
	if !s.matchResource(r) {
		return false, grantNone
	}
	g := grantDirect
	if kind == ResourcePolicy {
		if s.principals == nil {
			// A resource-based policy statement names no one.
			return false, grantNone
		}
		if s.notPrinc {
			// IAM User Guide, Permissions boundaries: "The NotPrincipal
			// element with a Deny effect will always deny any IAM
			// principal that has a permissions boundary policy
			// attached, regardless of the values specified in the
			// NotPrincipal element."
			if !(s.Effect == Deny && hasBoundary && r.Principal.isIAM()) && s.principals.coversAll(&r.Principal) {
				return false, grantNone
			}
		} else if g = s.principals.match(&r.Principal); g == grantNone {
			return false, grantNone
		}
	}
	for _, c := range s.conds {
		if c.eval(r) != matched {
			return false, grantNone
		}
	}
	return true, g
}

func (s *Statement) matchAction(action string) bool {
	hit := false
	for _, p := range s.actions {
		if p.match(action, nil) == matched {
			hit = true
			break
		}
	}
	return hit != s.notAction
}

func (s *Statement) matchResource(r *Request) bool {
	if s.anyResource {
		return true
	}
	hit := false
	for _, p := range s.resources {
		switch p.match(r.Resource, r) {
		case matched:
			hit = true
			if !s.resourceVars {
				return !s.notResource
			}
		case unresolved:
			// A variable anywhere in the element that cannot be
			// resolved invalidates the statement, so with variables
			// every entry is looked at.
			return false
		}
	}
	return hit != s.notResource
}

// scan evaluates one policy, recording the statements that applied.
// It returns whether an Allow and a Deny applied and the strongest grant
// among the Allows.
func scan(pol *Policy, kind PolicyKind, r *Request, hasBoundary bool, refs *refList) (allow, deny bool, g grant) {
	if pol == nil {
		return
	}
	for _, s := range pol.Statements {
		ok, sg := s.applies(r, kind, hasBoundary)
		if !ok {
			continue
		}
		refs.add(stmtRef{pol, s, kind})
		if s.Effect == Deny {
			deny = true
		} else {
			allow = true
			g = max(g, sg)
		}
	}
	return
}

// Evaluate decides r against the policies, following the IAM User Guide's
// "Policy evaluation logic" and "Cross-account policy evaluation logic":
//
//  1. An explicit Deny in any applicable policy decides: explicitDeny.
//  2. Within one account, an Allow in an identity-based policy or in the
//     resource-based policy suffices, except that permissions boundaries
//     and session policies limit what identity-based policies grant, and
//     a resource-based policy that names the role (not the session) or
//     the user behind a federated session is limited by them too. One
//     that names the user, the role session, the federated user session
//     or "*" is not limited by any implicit deny.
//  3. Across accounts, the identity side (with its boundary and session
//     policies) and the resource-based policy must both allow.
//  4. Otherwise implicitDeny.
//
// The account root user has full access to its own account's resources
// (no identity-based policy or boundary applies to it). Organizations SCPs
// and RCPs are not modelled.
func (ps *PolicySet) Evaluate(r *Request) Result {
	var refs refList
	hasBoundary := ps.Boundary != nil
	hasSession := len(ps.Session) > 0

	idAllow, deny := false, false
	for _, pol := range ps.Identity {
		a, d, _ := scan(pol, IdentityPolicy, r, hasBoundary, &refs)
		idAllow, deny = idAllow || a, deny || d
	}
	bAllow, bDeny, _ := scan(ps.Boundary, PermissionsBoundary, r, hasBoundary, &refs)
	sAllow := false
	for _, pol := range ps.Session {
		a, d, _ := scan(pol, SessionPolicy, r, hasBoundary, &refs)
		sAllow, deny = sAllow || a, deny || d
	}
	rAllow, rDeny, rGrant := scan(ps.Resource, ResourcePolicy, r, hasBoundary, &refs)
	deny = deny || bDeny || rDeny
	if !rAllow {
		rGrant = grantNone
	}

	if deny {
		return Result{Decision: ExplicitDeny, Matched: collect(&refs, Deny, allKinds), Reason: "an explicit Deny applies"}
	}

	p := &r.Principal
	boundaryOK := !hasBoundary || bAllow
	// "If there is no session policy, the code checks whether the
	// principal is a role session. If the principal is a role session,
	// then the request is Allowed. Otherwise, the request is implicitly
	// denied" (a federated user session always has one).
	sessionOK := (hasSession && sAllow) || (!hasSession && p.Kind != PrincipalFederatedUser)
	identityOK := false
	switch {
	case ps.identityUnknown:
		identityOK = true
	case p.Kind == PrincipalRoot:
		identityOK = true
	case p.isIAM():
		identityOK = idAllow && boundaryOK && sessionOK
	}

	if !p.isIAM() {
		// A service, an identity provider, a canonical user or an
		// anonymous caller has no identity-based policies: only the
		// resource-based policy can grant.
		if rGrant == grantDirect {
			return Result{Decision: Allowed, Matched: collect(&refs, Allow, kindSet(ResourcePolicy)), Reason: "the resource-based policy allows this principal"}
		}
		return Result{Decision: ImplicitDeny, Reason: "no resource-based policy statement allows this " + p.Kind.String()}
	}

	if p.Account != r.resourceAccount() {
		// Cross-account: "The request is allowed only if both
		// evaluations return a decision of Allow."
		switch {
		case !identityOK:
			return Result{Decision: ImplicitDeny, Reason: identityReason(idAllow, boundaryOK, sessionOK) + " (cross-account access needs both the identity side and the resource-based policy)"}
		case rGrant == grantNone:
			return Result{Decision: ImplicitDeny, Reason: "the resource is in another account and its resource-based policy does not allow this principal"}
		}
		return Result{Decision: Allowed, Matched: collect(&refs, Allow, allKinds), Reason: "allowed by the caller's account and by the resource-based policy"}
	}

	// Same account.
	if p.Kind == PrincipalRoot && !ps.ResourcePolicyRequired {
		// "By default, all requests are implicitly denied with the
		// exception of the AWS account root user, which has full access."
		return Result{Decision: Allowed, Matched: collect(&refs, Allow, allKinds), Reason: "the account root user has full access to its account's resources"}
	}
	viaResource := false
	switch rGrant {
	case grantDirect:
		viaResource = true
	case grantRole:
		viaResource = boundaryOK && sessionOK
	case grantAccount:
		// Naming the account delegates to the account's own policies.
		viaResource = identityOK
	}
	viaIdentity := identityOK && !ps.ResourcePolicyRequired
	switch {
	case viaIdentity && viaResource:
		return Result{Decision: Allowed, Matched: collect(&refs, Allow, allKinds), Reason: "allowed by identity-based and resource-based policies"}
	case viaIdentity:
		return Result{Decision: Allowed, Matched: collect(&refs, Allow, kindSet(IdentityPolicy, PermissionsBoundary, SessionPolicy)), Reason: "allowed by identity-based policy"}
	case viaResource:
		kinds := kindSet(ResourcePolicy)
		if rGrant != grantDirect {
			kinds = allKinds
		}
		return Result{Decision: Allowed, Matched: collect(&refs, Allow, kinds), Reason: "allowed by the resource-based policy"}
	}
	switch {
	case ps.ResourcePolicyRequired && rGrant == grantNone:
		return Result{Decision: ImplicitDeny, Reason: "the resource-based policy (trust or key policy) does not allow this principal"}
	case rGrant == grantRole && !boundaryOK:
		return Result{Decision: ImplicitDeny, Reason: "the resource-based policy names the role, and the permissions boundary does not allow the action"}
	case rGrant == grantRole && !sessionOK:
		return Result{Decision: ImplicitDeny, Reason: "the resource-based policy names the role, and no session policy allows the action"}
	}
	return Result{Decision: ImplicitDeny, Reason: identityReason(idAllow, boundaryOK, sessionOK)}
}

func identityReason(idAllow, boundaryOK, sessionOK bool) string {
	switch {
	case !idAllow:
		return "no identity-based policy allows the action"
	case !boundaryOK:
		return "the permissions boundary does not allow the action"
	case !sessionOK:
		return "no session policy allows the action"
	}
	return "no policy allows the action"
}

type kindMask uint8

const allKinds kindMask = 0xff

func kindSet(kinds ...PolicyKind) kindMask {
	var m kindMask
	for _, k := range kinds {
		m |= 1 << k
	}
	return m
}

func collect(refs *refList, effect Effect, kinds kindMask) []MatchedStatement {
	n := 0
	for i := range refs.len() {
		if ref := refs.at(i); ref.st.Effect == effect && kinds&(1<<ref.kind) != 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]MatchedStatement, 0, n)
	for i := range refs.len() {
		if ref := refs.at(i); ref.st.Effect == effect && kinds&(1<<ref.kind) != 0 {
			out = append(out, MatchedStatement{Policy: ref.pol.Name, Kind: ref.kind, Sid: ref.st.Sid, Index: ref.st.Index, Effect: ref.st.Effect, Pos: ref.st.Pos})
		}
	}
	return out
}
