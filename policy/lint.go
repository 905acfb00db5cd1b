package policy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Severity ranks a Finding.
//
//   - SeverityError: the policy does not do what it says (IAM rejects it, a
//     variable can never resolve, a statement can never match), or it hands
//     access to principals or roles nobody chose (anyone may assume the
//     role; any role may be passed). A CLI exits non-zero on one.
//   - SeverityWarning: the policy works as written but grants more than it
//     likely needs, or leans on legacy or easily misread behaviour (least
//     privilege, NotAction with Allow, an old Version, a trust policy
//     without MFA or an external ID).
type Severity uint8

// Severities, in increasing order.
const (
	SeverityWarning Severity = iota + 1
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return fmt.Sprintf("Severity(%d)", s)
}

// Finding is one problem Lint found.
type Finding struct {
	Name string // the policy's name (file)
	Pos  Position
	// Statement counts from 1; 0 for the policy as a whole.
	Statement int
	Severity  Severity
	// Rule is a short stable identifier, such as "wildcard-action".
	Rule    string
	Message string
	Fix     string

	// grantRisk marks findings about what a policy grants, which cannot
	// arise in a session policy: it only ever narrows.
	grantRisk bool
}

// String formats f as FILE:LINE:COL: severity: message (fix: ...).
func (f Finding) String() string {
	var b strings.Builder
	if f.Name != "" {
		b.WriteString(f.Name)
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%d:%d: %s: ", f.Pos.Line, f.Pos.Col, f.Severity)
	if f.Statement > 0 {
		fmt.Fprintf(&b, "statement %d: ", f.Statement)
	}
	b.WriteString(f.Message)
	if f.Fix != "" {
		fmt.Fprintf(&b, " (fix: %s)", f.Fix)
	}
	return b.String()
}

// LintOptions tunes Lint.
type LintOptions struct {
	// RoleAccount is the account that owns the role when doc is a trust
	// policy; with it, Lint can tell which account principals are
	// other accounts (which should present an external ID).
	RoleAccount string
}

// HasErrors reports whether any finding has SeverityError.
func HasErrors(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Lint checks a policy document and returns its findings in document
// order. A document that does not parse yields one error finding at the
// parse error's position.
func Lint(name string, doc []byte, opts LintOptions) []Finding {
	pol, root, err := parse(name, doc)
	if err != nil {
		f := Finding{Name: name, Severity: SeverityError, Rule: "parse", Message: err.Error()}
		var pe *ParseError
		if errors.As(err, &pe) {
			f.Pos, f.Statement, f.Message = pe.Pos, pe.Statement, pe.Msg
		}
		f.Fix = "correct the policy so that IAM accepts it"
		return []Finding{f}
	}
	l := &linter{name: name, pol: pol, opts: opts}
	l.run(root)
	slices.SortStableFunc(l.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return l.findings
}

type linter struct {
	name     string
	pol      *Policy
	opts     LintOptions
	stmt     int
	findings []Finding
}

func (l *linter) add(pos Position, sev Severity, rule, fix, format string, args ...any) *Finding {
	l.findings = append(l.findings, Finding{Name: l.name, Pos: pos, Statement: l.stmt, Severity: sev, Rule: rule, Message: fmt.Sprintf(format, args...), Fix: fix})
	return &l.findings[len(l.findings)-1]
}

func (l *linter) run(root *jsonValue) {
	usesVars := strings.Contains(string(stringsOf(root)), "${")
	switch {
	case l.pol.Version == "" && usesVars:
		l.add(root.pos, SeverityError, "variable-literal", `add "Version": "2012-10-17"`,
			"policy uses ${...} but has no Version: without Version 2012-10-17 a policy variable is literal text")
	case l.pol.Version == "":
		l.add(root.pos, SeverityWarning, "version-missing", `add "Version": "2012-10-17"`,
			"policy has no Version: it is read as version 2008-10-17, where policy variables are literal text")
	case l.pol.Version == Version2008 && usesVars:
		l.add(root.member("Version").pos, SeverityError, "variable-literal", `use "Version": "2012-10-17"`,
			"policy uses ${...} under Version 2008-10-17, where a policy variable is literal text")
	case l.pol.Version == Version2008:
		l.add(root.member("Version").pos, SeverityWarning, "version-old", `use "Version": "2012-10-17"`,
			"Version 2008-10-17 is the old policy language (no policy variables); AWS says not to use it for new policies")
	}
	st := root.member("Statement")
	nodes := []*jsonValue{st}
	if st.kind == jsonArray {
		nodes = st.arr
	}
	for i, s := range l.pol.Statements {
		l.stmt = i + 1
		l.statement(s, nodes[i])
	}
	l.stmt = 0
}

// stringsOf returns the string values in a JSON tree, NUL-separated:
// enough to find "${" anywhere a policy can hold one.
func stringsOf(v *jsonValue) []byte {
	var b []byte
	var walk func(*jsonValue)
	walk = func(v *jsonValue) {
		switch v.kind {
		case jsonString:
			b = append(b, v.str...)
			b = append(b, 0)
		case jsonArray:
			for _, e := range v.arr {
				walk(e)
			}
		case jsonObject:
			for _, m := range v.obj {
				walk(m.val)
			}
		}
	}
	walk(v)
	return b
}

// values returns the string nodes of an element (a string or an array).
func values(v *jsonValue) []*jsonValue {
	if v == nil {
		return nil
	}
	if v.kind == jsonArray {
		return v.arr
	}
	return []*jsonValue{v}
}

var assumeRoleActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"}

func (l *linter) statement(s *Statement, node *jsonValue) {
	allow := s.Effect == Allow
	if s.anyResource && s.principals == nil {
		l.add(s.Pos, SeverityError, "no-resource", `add "Resource" naming the ARNs the statement covers`,
			"statement has no Resource or NotResource: IAM rejects an identity-based policy statement without one")
	}
	if allow {
		l.actionsLint(s, node)
		if n := node.member("NotAction"); n != nil {
			f := l.add(n.pos, SeverityWarning, "allow-not-action", "list the allowed actions in Action instead, or use NotAction only with Deny",
				"NotAction with Allow grants every action not listed, including actions AWS adds later")
			f.grantRisk = true
		}
		if n := node.member("NotResource"); n != nil {
			f := l.add(n.pos, SeverityWarning, "allow-not-resource", "list the allowed resources in Resource instead, or use NotResource only with Deny",
				"NotResource with Allow grants every resource not listed, including resources created later")
			f.grantRisk = true
		}
		if n := node.member("NotPrincipal"); n != nil {
			f := l.add(n.pos, SeverityWarning, "allow-not-principal", "name the principals in Principal",
				"NotPrincipal with Allow grants every principal not listed, anonymous users included")
			f.grantRisk = true
		}
		l.trustLint(s, node)
	}
	l.variablesLint(s, node)
}

func (l *linter) actionsLint(s *Statement, node *jsonValue) {
	an := values(node.member("Action"))
	for i, a := range s.Action {
		pos := an[i].pos
		svc, act, _ := strings.Cut(a, ":")
		switch {
		case a == "*" || (svc == "*" && act == "*"):
			f := l.add(pos, SeverityWarning, "wildcard-action", "list the actions the principal needs (IAM best practice: grant least privilege)",
				"Allow with Action %q grants every action of every service", a)
			f.grantRisk = true
		case act == "*" && !strings.ContainsAny(svc, "*?"):
			f := l.add(pos, SeverityWarning, "wildcard-action", "list the "+svc+" actions the principal needs (IAM best practice: grant least privilege)",
				"Allow with Action %q grants every %s action, including ones AWS adds later", a, svc)
			f.grantRisk = true
		}
		// iam:PassRole on every role lets the holder hand any role,
		// an administrator's included, to a service it controls.
		if p := s.actions[i]; a != "*" && !strings.EqualFold(a, "iam:*") && p.match("iam:PassRole", nil) == matched {
			for j, r := range s.Resource {
				if r != "*" {
					continue
				}
				rn := values(node.member("Resource"))[j]
				if hasConditionKey(s, "iam:PassedToService") {
					f := l.add(rn.pos, SeverityWarning, "passrole-any-role", "name the roles that may be passed in Resource",
						"%s on Resource \"*\" lets the principal pass any role (limited only by iam:PassedToService)", a)
					f.grantRisk = true
				} else {
					f := l.add(rn.pos, SeverityError, "passrole-any-role", "name the roles that may be passed in Resource, and add an iam:PassedToService condition",
						"%s on Resource \"*\" lets the principal pass any role, an administrator role included, to a service it controls", a)
					f.grantRisk = true
				}
			}
		}
	}
}

func hasConditionKey(s *Statement, key string) bool {
	for _, c := range s.Condition {
		if strings.EqualFold(c.Key, key) {
			return true
		}
	}
	return false
}

// Condition keys that narrow who may use a role trusted to "*".
var narrowingKeys = []string{"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalArn", "aws:PrincipalAccount",
	"aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:userid", "aws:username", "sts:ExternalId"}

func (l *linter) trustLint(s *Statement, node *jsonValue) {
	if s.Principal == nil {
		return
	}
	assume := false
	for _, p := range s.actions {
		for _, a := range assumeRoleActions {
			if p.match(a, nil) == matched {
				assume = true
			}
		}
	}
	if !assume {
		return
	}
	pn := node.member("Principal")
	everyone := s.principals.all
	var accounts []string
	for _, id := range s.Principal.AWS {
		switch {
		case isAccountID(id):
			accounts = append(accounts, id)
		case strings.HasSuffix(id, ":root"):
			if a, ok := splitARN(id); ok {
				accounts = append(accounts, a.account)
			}
		}
	}
	if !everyone && len(accounts) == 0 {
		return // names roles, users, sessions or services only
	}
	if everyone {
		narrowed := false
		for _, k := range narrowingKeys {
			narrowed = narrowed || hasConditionKey(s, k)
		}
		if !narrowed {
			f := l.add(pn.pos, SeverityError, "trust-everyone", "name the trusted accounts or roles in Principal, or add an aws:PrincipalOrgID or aws:PrincipalArn condition",
				"trust policy lets any AWS principal in any account assume the role")
			f.grantRisk = true
		}
	}
	mfa := hasConditionKey(s, "aws:MultiFactorAuthPresent") || hasConditionKey(s, "aws:MultiFactorAuthAge")
	if !mfa {
		who := "a whole account"
		if everyone {
			who = "every principal"
		}
		f := l.add(pn.pos, SeverityWarning, "trust-no-mfa", `add "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}`,
			"trust policy lets %s assume the role without MFA", who)
		f.grantRisk = true
	}
	cross := everyone
	for _, a := range accounts {
		cross = cross || (l.opts.RoleAccount != "" && a != l.opts.RoleAccount)
	}
	if cross && !hasConditionKey(s, "sts:ExternalId") {
		f := l.add(pn.pos, SeverityWarning, "trust-no-external-id", `add "Condition": {"StringEquals": {"sts:ExternalId": "<id agreed with the other account>"}}`,
			"trust policy lets another account assume the role without sts:ExternalId (the confused deputy problem)")
		f.grantRisk = true
	}
}

// Global condition keys (IAM User Guide, "AWS global condition context
// keys"), lowercased; the ones ending in "/" take a tag key.
var globalKeys = map[string]bool{}

// multivaluedKeys cannot be policy variables.
var multivaluedKeys = map[string]bool{}

func init() {
	for _, k := range []string{
		"aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime", "aws:EpochTime", "aws:FederatedProvider",
		"aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:PrincipalAccount", "aws:PrincipalArn",
		"aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalServiceName", "aws:PrincipalTag/",
		"aws:PrincipalType", "aws:Referer", "aws:RequestTag/", "aws:RequestedRegion", "aws:ResourceAccount",
		"aws:ResourceOrgID", "aws:ResourceTag/", "aws:SecureTransport", "aws:SourceAccount", "aws:SourceArn",
		"aws:SourceIdentity", "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:TokenIssueTime",
		"aws:UserAgent", "aws:ViaAWSService", "aws:VpcSourceIp", "aws:userid", "aws:username",
		"aws:SourceOrgID", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4", "aws:SourceVpcArn",
		"aws:VpceAccount", "aws:VpceOrgID", "aws:AssumedRoot", "aws:ChatbotSourceArn",
	} {
		globalKeys[strings.ToLower(k)] = true
	}
	for _, k := range []string{"aws:CalledVia", "aws:PrincipalOrgPaths", "aws:PrincipalServiceNamesList", "aws:ResourceOrgPaths",
		"aws:SourceOrgPaths", "aws:TagKeys", "aws:VpceOrgPaths"} {
		globalKeys[strings.ToLower(k)] = true
		multivaluedKeys[strings.ToLower(k)] = true
	}
}

// knownGlobalKey reports whether an aws: key exists.
func knownGlobalKey(lower string) bool {
	if globalKeys[lower] {
		return true
	}
	for _, p := range []string{"aws:principaltag/", "aws:requesttag/", "aws:resourcetag/"} {
		if strings.HasPrefix(lower, p) && len(lower) > len(p) {
			return true
		}
	}
	return false
}

// variablesLint finds policy variables that can never resolve.
func (l *linter) variablesLint(s *Statement, node *jsonValue) {
	if !l.pol.variablesEnabled() {
		return // reported once for the whole policy
	}
	for _, elem := range []string{"Action", "NotAction"} {
		for _, v := range values(node.member(elem)) {
			if strings.Contains(v.str, "${") {
				l.add(v.pos, SeverityError, "variable-not-allowed", "write the action names out",
					"%s %q: policy variables are not allowed in %s, so ${...} is literal text", elem, v.str, elem)
			}
		}
	}
	for _, elem := range []string{"Principal", "NotPrincipal"} {
		if pn := node.member(elem); pn != nil && strings.Contains(string(stringsOf(pn)), "${") {
			l.add(pn.pos, SeverityError, "variable-not-allowed", "name the principals literally, or use a Condition on aws:PrincipalArn",
				"policy variables are not allowed in %s, so ${...} is literal text", elem)
		}
	}
	for _, elem := range []string{"Resource", "NotResource"} {
		for _, v := range values(node.member(elem)) {
			l.variables(v, true)
		}
	}
	cn := node.member("Condition")
	if cn == nil {
		return
	}
	for _, om := range cn.obj {
		op, set, _, _ := parseOperator(om.key)
		for _, km := range om.val.obj {
			if op.family != familyNull && set == setForAllValues && s.Effect == Allow {
				f := l.add(km.keyPos, SeverityWarning, "forallvalues-allow", "add a condition that requires the key (for example Null false), or use ForAnyValue",
					"ForAllValues with Allow is true when the request has no %s values at all; AWS advises against it", km.key)
				f.grantRisk = true
			}
			for _, v := range values(km.val) {
				if v.kind != jsonString || !strings.Contains(v.str, "${") {
					continue
				}
				if op.vars { // the others are parse errors
					l.variables(v, false)
				}
			}
		}
	}
}

// variables checks the ${...} in one Resource or condition value.
func (l *linter) variables(v *jsonValue, resource bool) {
	s := v.str
	colons := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			colons++
			continue
		}
		if s[i] != '$' || i+1 >= len(s) || s[i+1] != '{' {
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			l.add(v.pos, SeverityError, "variable-malformed", "close the variable with }, or write $ as ${$}",
				"%q: \"${\" is not closed, so it is literal text", s)
			return
		}
		body := s[i+2 : i+2+end]
		i += 2 + end
		switch body {
		case "*", "?", "$":
			continue
		}
		key, _, hasDef := splitVariable(body)
		lower := strings.ToLower(key)
		switch {
		case key == "" || strings.ContainsAny(key, " ,'"):
			l.add(v.pos, SeverityError, "variable-malformed", "write ${key} or ${key, 'default'}",
				"%q: ${%s} is not a valid policy variable", s, body)
		case resource && colons < 5:
			l.add(v.pos, SeverityError, "variable-in-arn-prefix", "put variables only in the resource part, after the fifth colon",
				"%q: a policy variable can replace only the resource part of an ARN, after the fifth colon", s)
		case multivaluedKeys[lower]:
			l.add(v.pos, SeverityError, "variable-multivalued", "test the key with ForAnyValue or ForAllValues in a Condition instead",
				"%q: %s is multivalued and cannot be a policy variable, so the statement never applies", s, key)
		case strings.HasPrefix(lower, "aws:") && !knownGlobalKey(lower):
			msg := "%q: %s is not a known global condition key, so the variable never resolves"
			if hasDef {
				msg = "%q: %s is not a known global condition key, so only its default is ever used"
			}
			l.add(v.pos, SeverityError, "variable-unknown-key", "check the spelling against the IAM global condition keys", msg, s, key)
		}
	}
}
