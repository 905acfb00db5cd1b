package policy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
)

// ContextEntry is one request context key as a command line gives it:
// KEY=TYPE:VALUE[,VALUE...].
type ContextEntry struct {
	Key string
	// Type is string, numeric, boolean, date, ip, arn or binary, with
	// the suffix List for a multivalued key (as IAM's SimulatePolicy
	// ContextKeyType names them: stringList, ...). Several values also
	// make a key multivalued.
	Type   string
	Values []string
	Multi  bool
}

var contextTypes = []string{"string", "numeric", "boolean", "date", "ip", "arn", "binary"}

// ParseContextFlag reads KEY=TYPE:VALUE[,VALUE...]. A comma inside a value
// is written \, and a backslash \\. Values are checked against their
// type; binary values are base64 and are decoded.
func ParseContextFlag(flag string) (ContextEntry, error) {
	key, rest, ok := strings.Cut(flag, "=")
	if !ok || strings.TrimSpace(key) == "" {
		return ContextEntry{}, fmt.Errorf("context %q: want KEY=TYPE:VALUE[,VALUE...]", flag)
	}
	typ, list, ok := strings.Cut(rest, ":")
	if !ok {
		return ContextEntry{}, fmt.Errorf("context %q: want KEY=TYPE:VALUE[,VALUE...] with TYPE one of %s", flag, strings.Join(contextTypes, ", "))
	}
	e := ContextEntry{Key: strings.TrimSpace(key), Type: typ}
	base, isList := strings.CutSuffix(typ, "List")
	known := false
	for _, t := range contextTypes {
		known = known || t == base
	}
	if !known {
		return ContextEntry{}, fmt.Errorf("context %q: unknown type %q (want one of %s, or one of them with List)", flag, typ, strings.Join(contextTypes, ", "))
	}
	vals, err := splitEscaped(list)
	if err != nil {
		return ContextEntry{}, fmt.Errorf("context %q: %v", flag, err)
	}
	e.Multi = isList || len(vals) > 1
	if isList && list == "" {
		vals = nil // an empty set
	}
	for i, v := range vals {
		nv, err := checkContextValue(base, v)
		if err != nil {
			return ContextEntry{}, fmt.Errorf("context %s: value %q: %v", e.Key, v, err)
		}
		vals[i] = nv
	}
	e.Values = vals
	return e, nil
}

func splitEscaped(s string) ([]string, error) {
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+1 >= len(s) || (s[i+1] != ',' && s[i+1] != '\\') {
				return nil, errors.New(`a backslash must be followed by , or \`)
			}
			b.WriteByte(s[i+1])
			i++
		case c == ',':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String()), nil
}

func checkContextValue(typ, v string) (string, error) {
	switch typ {
	case "numeric":
		if _, ok := parseDecimal(v); !ok {
			return "", errors.New("not a decimal number")
		}
	case "boolean":
		b, ok := parseBool(v)
		if !ok {
			return "", errors.New(`not "true" or "false"`)
		}
		if b {
			return "true", nil
		}
		return "false", nil
	case "date":
		if _, ok := parseDate(v); !ok {
			return "", errors.New("not an ISO 8601 date or epoch seconds")
		}
	case "ip":
		if _, err := netip.ParseAddr(v); err != nil {
			return "", errors.New("not an IP address")
		}
	case "arn":
		if _, ok := splitARN(v); !ok {
			return "", errors.New("not an ARN")
		}
	case "binary":
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return "", errors.New("not base64")
		}
		return string(b), nil
	}
	return v, nil
}

// Add puts e into c.
func (c *Context) Add(e ContextEntry) {
	if e.Multi {
		c.SetMulti(e.Key, e.Values...)
	} else if len(e.Values) == 1 {
		c.Set(e.Key, e.Values[0])
	}
}

// ParseFile reads and parses a policy file, named by its path.
func ParseFile(path string) (*Policy, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(path, doc)
}

// Simulation is a what-if question over a set of policies, as the policy
// simulate command asks it: for each action, is Principal allowed on
// Resource?
type Simulation struct {
	Identity []*Policy
	Resource *Policy
	Session  *Policy
	Boundary *Policy
	Actions  []string
	// ResourceARN is "*" when empty.
	ResourceARN     string
	Principal       string
	ResourceAccount string
	// Context holds --context flags, KEY=TYPE:VALUE[,VALUE...].
	Context []string
}

// SimulationReport is a simulation's results; its JSON form is
// {"results":[{"action","resource","decision","matchedStatements":[{"policy","sid","index"}]}]}.
type SimulationReport struct {
	Results []SimulationResult `json:"results"`
}

// SimulationResult is the decision for one action.
type SimulationResult struct {
	Action            string              `json:"action"`
	Resource          string              `json:"resource"`
	Decision          Decision            `json:"decision"`
	MatchedStatements []ReportedStatement `json:"matchedStatements"`
	Reason            string              `json:"-"`
}

// ReportedStatement names a statement that decided.
type ReportedStatement struct {
	Policy string `json:"policy"`
	Sid    string `json:"sid"`
	Index  int    `json:"index"`
}

// Run answers the simulation. Only bad input is an error; every decision,
// denials included, is a result.
func (s Simulation) Run() (*SimulationReport, error) {
	if len(s.Actions) == 0 {
		return nil, errors.New("no action to simulate: give --action")
	}
	if s.Principal == "" {
		return nil, errors.New("no caller: give --principal with the caller's ARN")
	}
	caller, err := ParsePrincipal(s.Principal)
	if err != nil {
		return nil, err
	}
	for _, a := range s.Actions {
		if svc, act, ok := strings.Cut(a, ":"); !ok || svc == "" || act == "" || strings.ContainsAny(a, "*?") {
			return nil, fmt.Errorf("action %q is not service:action", a)
		}
	}
	resource := s.ResourceARN
	if resource == "" {
		resource = "*"
	}
	if resource != "*" {
		if _, ok := splitARN(resource); !ok {
			return nil, fmt.Errorf("resource %q is not an ARN or *", resource)
		}
	}
	if s.ResourceAccount != "" && !isAccountID(s.ResourceAccount) {
		return nil, fmt.Errorf("resource account %q is not a 12-digit account ID", s.ResourceAccount)
	}
	ctx := NewContext()
	for _, f := range s.Context {
		e, err := ParseContextFlag(f)
		if err != nil {
			return nil, err
		}
		ctx.Add(e)
	}
	set := PolicySet{Identity: s.Identity, Resource: s.Resource, Boundary: s.Boundary}
	if s.Session != nil {
		set.Session = []*Policy{s.Session}
	}
	rep := &SimulationReport{Results: []SimulationResult{}}
	for _, a := range s.Actions {
		res := set.Evaluate(&Request{Principal: caller, Action: a, Resource: resource, ResourceAccount: s.ResourceAccount, Context: ctx})
		sr := SimulationResult{Action: a, Resource: resource, Decision: res.Decision, MatchedStatements: []ReportedStatement{}, Reason: res.Reason}
		for _, m := range res.Matched {
			sr.MatchedStatements = append(sr.MatchedStatements, ReportedStatement{Policy: m.Policy, Sid: m.Sid, Index: m.Index})
		}
		rep.Results = append(rep.Results, sr)
	}
	return rep, nil
}

// WriteJSON writes the report as one line of JSON.
func (r *SimulationReport) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

// WriteText writes the report for a person: per action the decision, why,
// and the statements that decided.
func (r *SimulationReport) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%s on %s: %s (%s)\n", res.Action, res.Resource, res.Decision, res.Reason)
		for _, m := range res.MatchedStatements {
			sid := ""
			if m.Sid != "" {
				sid = fmt.Sprintf(" Sid %q", m.Sid)
			}
			fmt.Fprintf(&b, "  %s statement %d%s\n", m.Policy, m.Index+1, sid)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
