package policy

import "strings"

// family is what an operator compares: it decides how the policy's values
// and the request's values are read.
type family uint8

const (
	familyString family = iota
	familyNumeric
	familyDate
	familyBool
	familyBinary
	familyIP
	familyArn
	familyNull
)

func (f family) String() string {
	return [...]string{"string", "numeric", "date", "boolean", "binary", "IP address", "ARN", "null check"}[f]
}

// comparison is the relation a numeric or date operator tests.
type comparison uint8

const (
	cmpEq comparison = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// operator is one of IAM's condition operators without its qualifiers
// (IAM User Guide, "IAM JSON policy elements: Condition operators").
type operator struct {
	name    string
	family  family
	negated bool // StringNotEquals, NotIpAddress, ...: true when the key is missing
	like    bool // wildcards * and ? in the policy's values
	fold    bool // ...IgnoreCase
	cmp     comparison
	// vars: "You can use a policy variable with the String condition
	// operator ... ARN condition operator ... Boolean condition operator";
	// not with Numeric, Date, Binary, IpAddress or Null.
	vars bool
}

var operators = func() map[string]*operator {
	ops := []*operator{
		{name: "StringEquals", family: familyString, vars: true},
		{name: "StringNotEquals", family: familyString, negated: true, vars: true},
		{name: "StringEqualsIgnoreCase", family: familyString, fold: true, vars: true},
		{name: "StringNotEqualsIgnoreCase", family: familyString, negated: true, fold: true, vars: true},
		{name: "StringLike", family: familyString, like: true, vars: true},
		{name: "StringNotLike", family: familyString, negated: true, like: true, vars: true},
		{name: "NumericEquals", family: familyNumeric, cmp: cmpEq},
		{name: "NumericNotEquals", family: familyNumeric, cmp: cmpEq, negated: true},
		{name: "NumericLessThan", family: familyNumeric, cmp: cmpLt},
		{name: "NumericLessThanEquals", family: familyNumeric, cmp: cmpLe},
		{name: "NumericGreaterThan", family: familyNumeric, cmp: cmpGt},
		{name: "NumericGreaterThanEquals", family: familyNumeric, cmp: cmpGe},
		{name: "DateEquals", family: familyDate, cmp: cmpEq},
		{name: "DateNotEquals", family: familyDate, cmp: cmpEq, negated: true},
		{name: "DateLessThan", family: familyDate, cmp: cmpLt},
		{name: "DateLessThanEquals", family: familyDate, cmp: cmpLe},
		{name: "DateGreaterThan", family: familyDate, cmp: cmpGt},
		{name: "DateGreaterThanEquals", family: familyDate, cmp: cmpGe},
		{name: "Bool", family: familyBool, vars: true},
		{name: "BinaryEquals", family: familyBinary},
		{name: "IpAddress", family: familyIP},
		{name: "NotIpAddress", family: familyIP, negated: true},
		// "The ArnEquals and ArnLike condition operators behave
		// identically", and so do ArnNotEquals and ArnNotLike.
		{name: "ArnEquals", family: familyArn, like: true, vars: true},
		{name: "ArnLike", family: familyArn, like: true, vars: true},
		{name: "ArnNotEquals", family: familyArn, like: true, negated: true, vars: true},
		{name: "ArnNotLike", family: familyArn, like: true, negated: true, vars: true},
		{name: "Null", family: familyNull},
	}
	m := make(map[string]*operator, len(ops))
	for _, op := range ops {
		m[strings.ToLower(op.name)] = op
	}
	return m
}()

// setQualifier is ForAllValues: or ForAnyValue:.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setForAllValues
	setForAnyValue
)

func (q setQualifier) String() string {
	return [...]string{"", "ForAllValues:", "ForAnyValue:"}[q]
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
// An unknown name is an error, never a condition that silently passes.
func parseOperator(name string) (op *operator, set setQualifier, ifExists bool, ok bool) {
	rest := name
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "forallvalues:"):
		set, rest = setForAllValues, rest[len("ForAllValues:"):]
	case strings.HasPrefix(lower, "foranyvalue:"):
		set, rest = setForAnyValue, rest[len("ForAnyValue:"):]
	}
	base := strings.ToLower(rest)
	if op, ok := operators[base]; ok {
		return op, set, false, true
	}
	// "You can add IfExists to the end of any condition operator name
	// except the Null condition."
	if b, found := strings.CutSuffix(base, "ifexists"); found {
		if op, ok := operators[b]; ok && op.family != familyNull {
			return op, set, true, true
		}
	}
	return nil, 0, false, false
}
