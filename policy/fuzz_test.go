package policy

import (
	"errors"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	rwRolePolicy, homeFolderPolicy, passRolePolicy, ec2TrustPolicy, benchmarkPolicy,
	bucketPolicyFor("Deny"),
	doc(stmt(`"Effect":"Deny"`, `"NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/alice"]}`, `"NotAction":"s3:Get*"`, `"NotResource":"arn:aws:s3:::b/*"`)),
	allowIf("ForAnyValue:StringLikeIfExists", "aws:TagKeys", `["a*","${aws:username}"]`),
	allowIf("DateLessThan", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`),
	allowIf("IpAddress", "aws:SourceIp", `["10.0.0.0/8","2001:db8::/32"]`),
	`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:username}"}}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/x, 'd'}${*}"}]}`,
	`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow" "Action": "*"}]}`,
	`[[[[`, `{"a":"\ud800"}`, "",
}

// FuzzParse checks that no document makes Parse, Lint or
// CheckSessionPolicy panic, that Lint reports a parse failure exactly when
// Parse fails, and that a parse error always has a position.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pol, err := Parse("f.json", data)
		findings := Lint("f.json", data, LintOptions{RoleAccount: account})
		parseFinding := len(findings) == 1 && findings[0].Rule == "parse"
		if (err != nil) != parseFinding {
			t.Fatalf("Parse error %v, but Lint findings %v", err, findings)
		}
		_ = CheckSessionPolicy(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos.Line < 1 || pe.Pos.Col < 1 {
				t.Fatalf("error %v has no position", err)
			}
			return
		}
		set := PolicySet{Identity: []*Policy{pol}, Resource: pol, Boundary: pol, Session: []*Policy{pol}}
		for _, caller := range []string{alice, aliceSession, bob, "ec2.amazonaws.com", "*"} {
			r := set.Evaluate(&Request{Principal: mustPrincipal(t, caller), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"})
			checkResult(t, r)
		}
	})
}

// FuzzEvaluate evaluates arbitrary requests against a fuzzed policy and
// checks that the result explains itself and does not change between
// runs; it also checks the wildcard matcher against a regexp reference.
func FuzzEvaluate(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "s3:GetObject", "arn:aws:s3:::my_bucket/home/alice/x", []string{alice, aliceSession, bob, carolFed}[i%4], "aws:username", "alice")
	}
	f.Add(doc(allowStmt("s3:Get*", "arn:aws:s3:*")), "s3:getobject", "arn:aws:s3:::b", alice, "s3:*ob?ect", "s3:GetObject")
	f.Add(doc(allowStmt("*", "arn:aws:sqs:us-*2:1:q")), "sqs:Send", "arn:aws:sqs:us-east-1:1:x2:1:q", alice, "arn:aws:sqs:us-*2:1:q", "arn:aws:sqs:us-east-1:1:x2:1:q")
	f.Fuzz(func(t *testing.T, policyDoc, action, resource, caller, key, value string) {
		if utf8.ValidString(key) && utf8.ValidString(value) && len(key) <= 24 && len(value) <= 48 {
			for _, fold := range []bool{false, true} {
				got := compilePattern(key, flavourGlob, fold, false).match(value, nil) == matched
				if want := referenceGlob(key, value, fold); got != want {
					t.Fatalf("glob %q ~ %q (fold %v) = %v, reference says %v", key, value, fold, got, want)
				}
			}
			for _, res := range []bool{false, true} {
				flavour := flavourArn
				if res {
					flavour = flavourResource
				}
				got := compilePattern(key, flavour, false, false).match(value, nil) == matched
				if want := referenceResource(key, value, res); got != want {
					t.Fatalf("resource=%v %q ~ %q = %v, reference says %v", res, key, value, got, want)
				}
			}
		}
		pol, err := Parse("f.json", []byte(policyDoc))
		if err != nil {
			return
		}
		p, err := ParsePrincipal(caller)
		if err != nil {
			return
		}
		ctx := NewContext()
		ctx.Set(key, value)
		ctx.SetMulti("aws:TagKeys", key, value)
		req := &Request{Principal: p, Action: action, Resource: resource, Context: ctx}
		for _, set := range []PolicySet{
			{Identity: []*Policy{pol}},
			{Resource: pol},
			{Identity: []*Policy{pol}, Resource: pol, Boundary: pol, Session: []*Policy{pol}, ResourcePolicyRequired: true},
		} {
			r1 := set.Evaluate(req)
			checkResult(t, r1)
			if r2 := set.Evaluate(req); r2.Decision != r1.Decision || len(r2.Matched) != len(r1.Matched) {
				t.Fatalf("not deterministic: %v then %v", r1, r2)
			}
		}
	})
}

func checkResult(t *testing.T, r Result) {
	t.Helper()
	switch r.Decision {
	case Allowed:
		for _, m := range r.Matched {
			if m.Effect != Allow {
				t.Fatalf("allowed with a %s statement: %v", m.Effect, r)
			}
		}
	case ExplicitDeny:
		if len(r.Matched) == 0 {
			t.Fatalf("explicitDeny without a statement")
		}
		for _, m := range r.Matched {
			if m.Effect != Deny {
				t.Fatalf("explicitDeny with an %s statement: %v", m.Effect, r)
			}
		}
	case ImplicitDeny:
		if len(r.Matched) != 0 {
			t.Fatalf("implicitDeny with statements: %v", r)
		}
	default:
		t.Fatalf("decision %q", r.Decision)
	}
	if r.Reason == "" {
		t.Fatalf("no reason: %v", r)
	}
}
