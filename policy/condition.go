package policy

import (
	"strings"
)

// eval decides one condition (one operator and one key) for r. The rules,
// from the IAM User Guide:
//
//   - Condition operators: "If the key that you specify in a policy
//     condition is not present in the request context, the values do not
//     match and the condition is false. If the policy condition requires
//     that the key is not matched, such as StringNotLike or ArnNotLike, and
//     the right key is not present, the condition is true."
//   - ...IfExists: "If the key is not present, evaluate the condition
//     element as true."
//   - Multiple values: "If a single condition operator includes multiple
//     values for one key, that condition operator is evaluated using a
//     logical OR", and for negated operators "the string cannot match any
//     of the ... values listed".
//   - ForAllValues "returns true if there are no keys in the request, or
//     if the key values resolve to a null data set"; ForAnyValue "For no
//     matching key or a null dataset, the condition returns false."
//   - Set operators are required for a multivalued key: without one, a
//     request value that is a set does not match.
//
// A policy variable that cannot be resolved makes the result unresolved.
func (c *condition) eval(r *Request) matchResult {
	if c.hasVar {
		for i := range c.values {
			if p := c.values[i].pat; p != nil && p.hasVar {
				for j := range p.toks {
					if t := &p.toks[j]; t.kind == tokVar && !t.hasDf {
						if _, ok := r.variable(t.text); !ok {
							return unresolved
						}
					}
				}
			}
		}
	}
	one, many, st := r.lookup(c.key)
	if c.op.family == familyNull {
		// "Use a Null condition operator to check if a condition key is
		// absent at the time of authorization ... true (the key doesn't
		// exist — it is null) or false (the key exists and its value is
		// not null)."
		absent := st == keyAbsent || (st == keyMulti && len(many) == 0)
		for i := range c.values {
			if c.values[i].b == absent {
				return matched
			}
		}
		return noMatch
	}
	absent := st == keyAbsent || (st == keyMulti && len(many) == 0)
	switch c.set {
	case setForAllValues:
		if absent {
			return matched
		}
		if st == keySingle {
			return boolResult(c.single(one, r))
		}
		for _, v := range many {
			if !c.single(v, r) {
				return noMatch
			}
		}
		return matched
	case setForAnyValue:
		if absent {
			return boolResult(c.ifExists)
		}
		if st == keySingle {
			return boolResult(c.single(one, r))
		}
		for _, v := range many {
			if c.single(v, r) {
				return matched
			}
		}
		return noMatch
	}
	if absent {
		return boolResult(c.ifExists || c.op.negated)
	}
	if st == keyMulti {
		return noMatch
	}
	return boolResult(c.single(one, r))
}

// single tests one request value: for a positive operator, whether any
// policy value matches; for a negated one, whether none does.
func (c *condition) single(v string, r *Request) bool {
	hit := false
	for i := range c.values {
		if c.valueMatches(&c.values[i], v, r) {
			hit = true
			break
		}
	}
	return hit != c.op.negated
}

func (c *condition) valueMatches(pv *condValue, v string, r *Request) bool {
	switch c.op.family {
	case familyString, familyArn:
		return pv.pat.match(v, r) == matched
	case familyBool:
		b, ok := parseBool(v)
		if !ok {
			return false
		}
		if pv.pat != nil {
			want, ok := parseBool(resolveLiteral(pv.pat, r))
			return ok && want == b
		}
		return pv.b == b
	case familyNumeric:
		d, ok := parseDecimal(strings.TrimSpace(v))
		if !ok {
			return false
		}
		return compares(compareDecimal(d, pv.dec), c.op.cmp)
	case familyDate:
		t, ok := parseDate(strings.TrimSpace(v))
		if !ok {
			return false
		}
		return compares(compareInstant(t, pv.at), c.op.cmp)
	case familyIP:
		return prefixContains(pv.cidr, v)
	case familyBinary:
		return v == pv.bin
	}
	return false
}

// compares applies cmp to the result of comparing the request's value with
// the policy's: NumericLessThan is "request value < policy value".
func compares(c int, cmp comparison) bool {
	switch cmp {
	case cmpEq:
		return c == 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	}
	return false
}

// resolveLiteral substitutes the variables of a literal pattern (a Bool
// value such as "${aws:MultiFactorAuthPresent}"); it allocates only when
// the pattern has more than one piece.
func resolveLiteral(p *pattern, r *Request) string {
	if len(p.toks) == 1 {
		t := &p.toks[0]
		if t.kind == tokVar {
			if v, ok := r.variable(t.text); ok {
				return v
			}
			return t.def
		}
		return t.text
	}
	var b strings.Builder
	for i := range p.toks {
		t := &p.toks[i]
		if t.kind == tokVar {
			v, ok := r.variable(t.text)
			if !ok {
				v = t.def
			}
			b.WriteString(v)
		} else {
			b.WriteString(t.text)
		}
	}
	return b.String()
}
