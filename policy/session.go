package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSessionPolicyChars is AWS's limit on an inline session policy. AWS STS
// API Reference, AssumeRole, Policy: "The plaintext that you use for both
// inline and managed session policies can't exceed 2,048 characters."
// The limit is on the parameter as sent, so whitespace counts.
const MaxSessionPolicyChars = 2048

// Errors CheckSessionPolicy wraps, for callers that branch on them.
var (
	ErrSessionPolicyTooLong = errors.New("session policy is longer than 2048 characters")
	ErrSessionPolicyInvalid = errors.New("session policy is not valid")
)

// CheckSessionPolicy checks an inline session policy before it is sent
// with AssumeRole: it must be at most MaxSessionPolicyChars characters of
// the characters STS accepts (tab, line feed, carriage return and U+0020
// through U+00FF: the AssumeRole Policy parameter's pattern
// [\u0009\u000A\u000D\u0020-\u00FF]+), parse, have no Principal (it is an
// identity-based policy), and have no lint errors other than ones about
// what it grants: a session policy cannot grant, only narrow ("You cannot
// use session policies to grant more permissions than those allowed by the
// identity-based policy of the role that is being assumed").
//
// AWS also packs the session policy, managed policy ARNs and session tags
// into a binary form with a separate limit, reported as PackedPolicySize.
// That format is not published, so it cannot be checked offline: a policy
// that passes here can still be refused with PackedPolicyTooLarge.
func CheckSessionPolicy(doc []byte) error {
	if !utf8.Valid(doc) {
		return fmt.Errorf("%w: not valid UTF-8", ErrSessionPolicyInvalid)
	}
	n := utf8.RuneCount(doc)
	if n > MaxSessionPolicyChars {
		return fmt.Errorf("%w: it has %d characters, whitespace included (minify the JSON or use a managed policy)", ErrSessionPolicyTooLong, n)
	}
	line, lineStart := 1, 0
	for i, r := range string(doc) {
		if !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xFF)) {
			return fmt.Errorf("%w: %d:%d: character %U is outside what STS accepts (U+0020 to U+00FF, tab, line feed, carriage return)", ErrSessionPolicyInvalid, line, i-lineStart+1, r)
		}
		if r == '\n' {
			line, lineStart = line+1, i+1
		}
	}
	pol, err := Parse("", doc)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSessionPolicyInvalid, err)
	}
	for _, s := range pol.Statements {
		if s.Principal != nil || s.NotPrincipal != nil {
			return fmt.Errorf("%w: %s: statement %d: a session policy cannot have a Principal or NotPrincipal", ErrSessionPolicyInvalid, s.Pos, s.Index+1)
		}
	}
	var errs []string
	for _, f := range Lint("", doc, LintOptions{}) {
		if f.Severity == SeverityError && !f.grantRisk {
			errs = append(errs, f.String())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrSessionPolicyInvalid, strings.Join(errs, "; "))
	}
	return nil
}
