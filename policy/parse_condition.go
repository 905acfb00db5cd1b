package policy

import (
	"encoding/base64"
	"strings"
)

func (p *parser) conditions(v *jsonValue, s *Statement) bool {
	cv := v.member("Condition")
	if cv == nil {
		return true
	}
	if cv.kind != jsonObject {
		p.fail(cv.pos, "Condition must be an object, not %s", cv.kind)
		return false
	}
	for _, om := range cv.obj {
		op, set, ifExists, ok := parseOperator(om.key)
		if !ok {
			// Never evaluate an unknown operator as true or false:
			// that is failing open (or shut) silently.
			p.fail(om.keyPos, "unknown condition operator %q", om.key)
			return false
		}
		if om.val.kind != jsonObject || len(om.val.obj) == 0 {
			p.fail(om.val.pos, "condition operator %s must map condition keys to values", om.key)
			return false
		}
		for _, km := range om.val.obj {
			c, raw := p.condition(op, set, ifExists, om.key, km)
			if c == nil {
				return false
			}
			s.conds = append(s.conds, c)
			s.Condition = append(s.Condition, raw)
		}
	}
	return true
}

func (p *parser) condition(op *operator, set setQualifier, ifExists bool, opName string, km jsonMember) (*condition, Condition) {
	if strings.TrimSpace(km.key) == "" {
		p.fail(km.keyPos, "empty condition key")
		return nil, Condition{}
	}
	c := &condition{op: op, set: set, ifExists: ifExists, key: strings.ToLower(km.key)}
	raw := Condition{Operator: opName, Key: km.key, Pos: km.keyPos}
	var vals []*jsonValue
	switch km.val.kind {
	case jsonArray:
		if len(km.val.arr) == 0 {
			p.fail(km.val.pos, "condition %s %q has no values", opName, km.key)
			return nil, Condition{}
		}
		vals = km.val.arr
	default:
		vals = []*jsonValue{km.val}
	}
	for _, jv := range vals {
		// IAM User Guide, grammar: <condition_value> = ("string" |
		// "number" | "Boolean").
		if jv.kind != jsonString && jv.kind != jsonNumber && jv.kind != jsonBool {
			p.fail(jv.pos, "condition value must be a string, number or boolean, not %s", jv.kind)
			return nil, Condition{}
		}
		cv, ok := p.conditionValue(op, jv)
		if !ok {
			return nil, Condition{}
		}
		if cv.pat != nil && cv.pat.hasVar {
			c.hasVar = true
		}
		c.values = append(c.values, cv)
		raw.Values = append(raw.Values, jv.str)
	}
	return c, raw
}

func (p *parser) conditionValue(op *operator, jv *jsonValue) (condValue, bool) {
	var v condValue
	vars := p.vars && op.vars
	bad := func(what string) (condValue, bool) {
		if p.vars && !op.vars && strings.Contains(jv.str, "${") {
			// IAM User Guide, Policy variables: "You can't use a
			// policy variable with other operators, such as Numeric,
			// Date, Boolean, Binary, IP Address, or Null operators."
			p.fail(jv.pos, "%s value %q: policy variables cannot be used with %s operators", op.name, jv.str, op.family)
			return condValue{}, false
		}
		p.fail(jv.pos, "%s value %q is not %s", op.name, jv.str, what)
		return condValue{}, false
	}
	switch op.family {
	case familyString:
		flavour := flavourLiteral
		if op.like {
			flavour = flavourGlob
		}
		v.pat = compilePattern(jv.str, flavour, op.fold, vars)
	case familyArn:
		if jv.str == "*" {
			v.pat = compilePattern("*", flavourGlob, false, false)
		} else {
			v.pat = compilePattern(jv.str, flavourArn, false, vars)
		}
	case familyBool, familyNull:
		if vars && strings.Contains(jv.str, "${") { // Bool only: Null takes no variables
			v.pat = compilePattern(jv.str, flavourLiteral, true, true)
			break
		}
		b, ok := parseBool(jv.str)
		if !ok {
			return bad(`"true" or "false"`)
		}
		v.b = b
	case familyNumeric:
		d, ok := parseDecimal(jv.str)
		if !ok {
			return bad("a decimal number")
		}
		v.dec = d
	case familyDate:
		t, ok := parseDate(jv.str)
		if !ok {
			return bad("an ISO 8601 date or epoch seconds")
		}
		v.at = t
	case familyIP:
		pr, ok := parseCIDR(jv.str)
		if !ok {
			return bad("an IP address or CIDR block")
		}
		v.cidr = pr
	case familyBinary:
		// "It compares the value of the specified key byte for byte
		// against a base-64 encoded representation of the binary value
		// in the policy."
		b, err := base64.StdEncoding.DecodeString(jv.str)
		if err != nil {
			return bad("base64")
		}
		v.bin = string(b)
	}
	return v, true
}
