package policy_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/credbroker/credbroker/policy"
)

func ExamplePolicySet_Evaluate() {
	role, err := policy.Parse("role.json", []byte(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadBucket", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my_bucket/*"}
  ]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	bucket, err := policy.Parse("bucket.json", []byte(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::my_bucket/*"}
  ]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	caller, _ := policy.ParsePrincipal("arn:aws:sts::111122223333:assumed-role/Reader/app")
	set := policy.PolicySet{Identity: []*policy.Policy{role}, Resource: bucket}
	for _, action := range []string{"s3:GetObject", "s3:DeleteObject", "s3:PutObject"} {
		r := set.Evaluate(&policy.Request{Principal: caller, Action: action, Resource: "arn:aws:s3:::my_bucket/a.txt"})
		fmt.Println(action, r.Decision, r.Matched)
	}
	// Output:
	// s3:GetObject allowed [{role.json identity-based policy ReadBucket 0 Allow 4:5}]
	// s3:DeleteObject explicitDeny [{bucket.json resource-based policy NoDeletes 0 Deny 4:5}]
	// s3:PutObject implicitDeny []
}

func ExampleCanAssume() {
	trust, _ := policy.Parse("trust.json", []byte(`{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
  }]
}`))
	alice, _ := policy.ParsePrincipal("arn:aws:iam::111122223333:user/alice")
	for _, mfa := range []bool{false, true} {
		r := policy.CanAssume(trust, policy.AssumeRoleRequest{Principal: alice, RoleARN: "arn:aws:iam::111122223333:role/Admin", MFAPresent: mfa, LongTermKey: true})
		fmt.Println("MFA", mfa, r.Decision)
	}
	// Output:
	// MFA false implicitDeny
	// MFA true allowed
}

func ExampleLint() {
	doc := []byte(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}`)
	for _, f := range policy.Lint("passrole.json", doc, policy.LintOptions{}) {
		fmt.Println(f)
	}
	// Output:
	// passrole.json:1:99: error: statement 1: iam:PassRole on Resource "*" lets the principal pass any role, an administrator role included, to a service it controls (fix: name the roles that may be passed in Resource, and add an iam:PassedToService condition)
}

// TestEvaluateConcurrently backs the promise that a parsed Policy and a
// filled Context can serve any number of evaluations at once: under -race
// it fails if evaluation writes to either.
func TestEvaluateConcurrently(t *testing.T) {
	pol, err := policy.Parse("p.json", []byte(`{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
	  {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*", "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": "lock*"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := policy.NewContext()
	ctx.Set("aws:SourceIp", "10.1.2.3")
	ctx.SetMulti("aws:TagKeys", "env", "locked")
	caller, _ := policy.ParsePrincipal("arn:aws:iam::111122223333:user/alice")
	set := &policy.PolicySet{Identity: []*policy.Policy{pol}, Resource: pol, Boundary: pol}
	want := map[string]policy.Decision{"s3:GetObject": policy.Allowed, "s3:DeleteObject": policy.ExplicitDeny}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				action := "s3:GetObject"
				if (i+j)%2 == 0 {
					action = "s3:DeleteObject"
				}
				r := set.Evaluate(&policy.Request{Principal: caller, Action: action, Resource: "arn:aws:s3:::b/alice/k", Context: ctx})
				if r.Decision != want[action] {
					t.Errorf("%s: %s", action, r.Decision)
					return
				}
			}
		})
	}
	wg.Wait()
}
