package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Parse reads an IAM JSON policy document. name labels the policy in
// errors and results. Anything IAM would reject, or that this package
// cannot evaluate exactly, is a *ParseError with its position: malformed
// JSON, a duplicate key, an unknown element, a bad Effect, Action together
// with NotAction, an unknown condition operator, a value an operator
// cannot read.
func Parse(name string, doc []byte) (*Policy, error) {
	pol, _, err := parse(name, doc)
	return pol, err
}

// parse is Parse that also returns the JSON it read (for Lint).
func parse(name string, doc []byte) (*Policy, *jsonValue, error) {
	root, err := parseJSON(doc)
	if err != nil {
		var se *jsonSyntaxError
		if errors.As(err, &se) {
			return nil, nil, &ParseError{Name: name, Pos: se.pos, Msg: "invalid JSON: " + se.msg}
		}
		return nil, nil, &ParseError{Name: name, Msg: err.Error()}
	}
	p := &parser{name: name}
	pol := p.policy(root)
	if p.err != nil {
		return nil, nil, p.err
	}
	return pol, root, nil
}

type parser struct {
	name string
	stmt int // 1-based statement being parsed, 0 outside
	vars bool
	err  *ParseError
}

func (p *parser) fail(pos Position, format string, args ...any) {
	if p.err == nil {
		p.err = &ParseError{Name: p.name, Pos: pos, Statement: p.stmt, Msg: fmt.Sprintf(format, args...)}
	}
}

var (
	policyElements    = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
	principalTypes    = []string{"AWS", "Service", "Federated", "CanonicalUser"}
)

func (p *parser) policy(v *jsonValue) *Policy {
	pol := &Policy{Name: p.name}
	if v.kind != jsonObject {
		p.fail(v.pos, "a policy must be a JSON object, not %s", v.kind)
		return nil
	}
	for _, m := range v.obj {
		if !p.known(m, policyElements, "policy") {
			return nil
		}
	}
	if ver := v.member("Version"); ver != nil {
		s, ok := p.str(ver, "Version")
		if !ok {
			return nil
		}
		// IAM User Guide, Version: the element takes 2012-10-17 or
		// 2008-10-17; IAM rejects anything else.
		if s != Version2012 && s != Version2008 {
			p.fail(ver.pos, "Version %q is not %q or %q", s, Version2012, Version2008)
			return nil
		}
		pol.Version = s
	}
	p.vars = pol.variablesEnabled()
	if id := v.member("Id"); id != nil {
		if pol.ID, _ = p.str(id, "Id"); p.err != nil {
			return nil
		}
	}
	st := v.member("Statement")
	if st == nil {
		p.fail(v.pos, "policy has no Statement element")
		return nil
	}
	switch st.kind {
	case jsonObject:
		// IAM accepts a single statement object as well as an array.
		p.stmt = 1
		if s := p.statement(st, 0); s != nil {
			pol.Statements = append(pol.Statements, s)
		}
	case jsonArray:
		if len(st.arr) == 0 {
			p.fail(st.pos, "Statement must not be empty")
		}
		for i, sv := range st.arr {
			p.stmt = i + 1
			s := p.statement(sv, i)
			if p.err != nil {
				return nil
			}
			pol.Statements = append(pol.Statements, s)
		}
	default:
		p.fail(st.pos, "Statement must be an object or an array of objects, not %s", st.kind)
	}
	if p.err != nil {
		return nil
	}
	return pol
}

// known reports whether m's key is one of names, failing with a suggestion
// otherwise.
func (p *parser) known(m jsonMember, names []string, where string) bool {
	for _, n := range names {
		if m.key == n {
			return true
		}
	}
	msg := fmt.Sprintf("unknown element %q in %s", m.key, where)
	if s := suggest(m.key, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	p.fail(m.keyPos, "%s", msg)
	return false
}

// suggest returns the name closest to s when it is close enough to be a
// typo: the same letters in another case, or two edits away at most.
func suggest(s string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if strings.EqualFold(s, n) {
			return n
		}
		if d := editDistance(strings.ToLower(s), strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *parser) str(v *jsonValue, what string) (string, bool) {
	if v.kind != jsonString {
		p.fail(v.pos, "%s must be a string, not %s", what, v.kind)
		return "", false
	}
	return v.str, true
}

// strings reads a string or a non-empty array of strings: "string or array
// wherever AWS allows both".
func (p *parser) stringList(v *jsonValue, what string) ([]string, []Position, bool) {
	switch v.kind {
	case jsonString:
		return []string{v.str}, []Position{v.pos}, true
	case jsonArray:
		if len(v.arr) == 0 {
			p.fail(v.pos, "%s must not be an empty array", what)
			return nil, nil, false
		}
		out := make([]string, 0, len(v.arr))
		pos := make([]Position, 0, len(v.arr))
		for _, e := range v.arr {
			s, ok := p.str(e, what+" entry")
			if !ok {
				return nil, nil, false
			}
			out = append(out, s)
			pos = append(pos, e.pos)
		}
		return out, pos, true
	}
	p.fail(v.pos, "%s must be a string or an array of strings, not %s", what, v.kind)
	return nil, nil, false
}

func (p *parser) statement(v *jsonValue, index int) *Statement {
	if v.kind != jsonObject {
		p.fail(v.pos, "a statement must be an object, not %s", v.kind)
		return nil
	}
	s := &Statement{Index: index, Pos: v.pos}
	for _, m := range v.obj {
		if !p.known(m, statementElements, "statement") {
			return nil
		}
	}
	for _, pair := range [][2]string{{"Action", "NotAction"}, {"Resource", "NotResource"}, {"Principal", "NotPrincipal"}} {
		if a, b := v.member(pair[0]), v.member(pair[1]); a != nil && b != nil {
			p.fail(b.pos, "statement has both %s and %s", pair[0], pair[1])
			return nil
		}
	}
	if sid := v.member("Sid"); sid != nil {
		if s.Sid, _ = p.str(sid, "Sid"); p.err != nil {
			return nil
		}
	}
	eff := v.member("Effect")
	if eff == nil {
		p.fail(v.pos, "statement has no Effect")
		return nil
	}
	e, ok := p.str(eff, "Effect")
	if !ok {
		return nil
	}
	// IAM User Guide, Effect: "Valid values for Effect are Allow and
	// Deny. The Effect value is case sensitive."
	switch Effect(e) {
	case Allow, Deny:
		s.Effect = Effect(e)
	default:
		msg := fmt.Sprintf("Effect %q is not \"Allow\" or \"Deny\"", e)
		if sg := suggest(e, []string{"Allow", "Deny"}); sg != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sg)
		}
		p.fail(eff.pos, "%s", msg)
		return nil
	}
	if !p.actions(v, s) || !p.resources(v, s) || !p.principals(v, s) || !p.conditions(v, s) {
		return nil
	}
	return s
}

func (p *parser) actions(v *jsonValue, s *Statement) bool {
	av, elem := v.member("Action"), "Action"
	if av == nil {
		av, elem, s.notAction = v.member("NotAction"), "NotAction", true
	}
	if av == nil {
		p.fail(v.pos, "statement has no Action or NotAction")
		return false
	}
	list, pos, ok := p.stringList(av, elem)
	if !ok {
		return false
	}
	for i, a := range list {
		// IAM User Guide, grammar: an action_string "consists of a
		// service namespace, a colon, and the name of an action".
		svc, act, found := strings.Cut(a, ":")
		if a != "*" && (!found || svc == "" || act == "") {
			p.fail(pos[i], "%s %q is not \"*\" or service:action", elem, a)
			return false
		}
		// Actions match case-insensitively: IAM User Guide, Action:
		// "Action names are case-insensitive" (wildcards allowed, no
		// policy variables).
		s.actions = append(s.actions, compilePattern(a, flavourGlob, true, false))
	}
	if s.notAction {
		s.NotAction = list
	} else {
		s.Action = list
	}
	return true
}

func (p *parser) resources(v *jsonValue, s *Statement) bool {
	rv, elem := v.member("Resource"), "Resource"
	if rv == nil {
		rv, elem, s.notResource = v.member("NotResource"), "NotResource", true
	}
	if rv == nil {
		// A role trust policy has no Resource: the role is the
		// resource. Lint reports its absence elsewhere.
		s.anyResource = true
		return true
	}
	list, pos, ok := p.stringList(rv, elem)
	if !ok {
		return false
	}
	for i, r := range list {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			p.fail(pos[i], "%s %q is not \"*\" or an ARN", elem, r)
			return false
		}
		// Resource ARNs are case-sensitive: IAM User Guide, Resource:
		// "In the Resource element, the IAM user name is case
		// sensitive."
		pat := compilePattern(r, flavourResource, false, p.vars)
		s.resources = append(s.resources, pat)
		s.resourceVars = s.resourceVars || pat.hasVar
	}
	if s.notResource {
		s.NotResource = list
	} else {
		s.Resource = list
	}
	return true
}

func (p *parser) principals(v *jsonValue, s *Statement) bool {
	pv, elem := v.member("Principal"), "Principal"
	if pv == nil {
		pv, elem, s.notPrinc = v.member("NotPrincipal"), "NotPrincipal", true
	}
	if pv == nil {
		return true
	}
	pr := &Principals{}
	set := &principalSet{}
	switch pv.kind {
	case jsonString:
		if pv.str != "*" {
			p.fail(pv.pos, "%s must be \"*\" or an object such as {\"AWS\": ...}, not the string %q", elem, pv.str)
			return false
		}
		pr.All, set.all = true, true
	case jsonObject:
		if len(pv.obj) == 0 {
			p.fail(pv.pos, "%s must not be empty", elem)
			return false
		}
		for _, m := range pv.obj {
			if !p.known(m, principalTypes, elem) {
				return false
			}
			list, pos, ok := p.stringList(m.val, elem+" "+m.key)
			if !ok {
				return false
			}
			for i, id := range list {
				if !p.principalID(m.key, id, pos[i], set) {
					return false
				}
			}
			switch m.key {
			case "AWS":
				pr.AWS = list
			case "Service":
				pr.Service = list
			case "Federated":
				pr.Federated = list
			case "CanonicalUser":
				pr.CanonicalUser = list
			}
		}
	default:
		p.fail(pv.pos, "%s must be \"*\" or an object, not %s", elem, pv.kind)
		return false
	}
	if s.notPrinc {
		s.NotPrincipal = pr
	} else {
		s.Principal = pr
	}
	s.principals = set
	return true
}

func addTo(m *map[string]bool, k string) {
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[k] = true
}

func (p *parser) principalID(typ, id string, pos Position, set *principalSet) bool {
	// IAM User Guide, Principal: "You cannot use a wildcard to match part
	// of a principal name or ARN", and * alone means everyone only as
	// "*" or {"AWS": "*"}.
	if id == "*" && typ == "AWS" {
		set.all = true
		return true
	}
	if strings.ContainsAny(id, "*?") || id == "" {
		p.fail(pos, "%s principal %q: a principal cannot contain wildcards (use a Condition with aws:PrincipalArn)", typ, id)
		return false
	}
	switch typ {
	case "AWS":
		if isAccountID(id) {
			addTo(&set.accounts, id)
			return true
		}
		a, ok := splitARN(id)
		if !ok || !isAccountID(a.account) || (a.service != "iam" && a.service != "sts") {
			p.fail(pos, "AWS principal %q is not an account ID or an IAM or STS ARN", id)
			return false
		}
		if a.service == "iam" && a.resource == "root" {
			// "Using the account ARN in the Principal element does
			// not limit permissions to only the root user of the
			// account."
			addTo(&set.accounts, a.account)
			return true
		}
		addTo(&set.arns, id)
	case "Service":
		addTo(&set.services, id)
	case "Federated":
		addTo(&set.federated, id)
	case "CanonicalUser":
		addTo(&set.canonical, id)
	}
	return true
}
