package policy

import (
	"fmt"
	"strings"
	"testing"
)

// Callers used throughout the tests.
const (
	account      = "111122223333"
	otherAccount = "444455556666"
	alice        = "arn:aws:iam::111122223333:user/alice"
	aliceSession = "arn:aws:sts::111122223333:assumed-role/S3Access/alice-session"
	roleARN      = "arn:aws:iam::111122223333:role/S3Access"
	bob          = "arn:aws:iam::444455556666:user/bob"
	carolFed     = "arn:aws:sts::111122223333:federated-user/carol"
)

func mustParse(t testing.TB, name, doc string) *Policy {
	t.Helper()
	p, err := Parse(name, []byte(doc))
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", name, err, doc)
	}
	return p
}

func mustPrincipal(t testing.TB, s string) Principal {
	t.Helper()
	p, err := ParsePrincipal(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// doc wraps statements in a 2012-10-17 policy.
func doc(statements ...string) string {
	return `{"Version": "2012-10-17", "Statement": [` + strings.Join(statements, ",") + `]}`
}

// stmt builds a statement from JSON members, e.g. stmt(`"Effect":"Allow"`, ...).
func stmt(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

func allowStmt(action, resource string) string {
	return stmt(`"Effect":"Allow"`, fmt.Sprintf(`"Action":%q`, action), fmt.Sprintf(`"Resource":%q`, resource))
}

func denyStmt(action, resource string) string {
	return stmt(`"Effect":"Deny"`, fmt.Sprintf(`"Action":%q`, action), fmt.Sprintf(`"Resource":%q`, resource))
}

// allowIf is an identity policy allowing s3:GetObject on anything when
// one condition holds: op, key and the values as JSON.
func allowIf(op, key, values string) string {
	return doc(stmt(`"Sid":"Cond"`, `"Effect":"Allow"`, `"Action":"s3:GetObject"`, `"Resource":"*"`,
		fmt.Sprintf(`"Condition":{%q:{%q:%s}}`, op, key, values)))
}

// bucketPolicy is a resource policy with one statement giving principal
// (JSON) action on the bucket's objects.
func bucketPolicy(effect, principal, action string) string {
	return doc(stmt(`"Sid":"Bucket"`, fmt.Sprintf(`"Effect":%q`, effect), `"Principal":`+principal,
		fmt.Sprintf(`"Action":%q`, action), `"Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]`))
}

func describe(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)", r.Decision, r.Reason)
	for _, m := range r.Matched {
		fmt.Fprintf(&b, "\n\t%s %s[%d] %s %q", m.Kind, m.Policy, m.Index, m.Effect, m.Sid)
	}
	return b.String()
}
