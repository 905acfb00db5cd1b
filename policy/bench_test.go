package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchmarkPolicy is a developer role's policy as teams write them: ten
// statements, most with conditions (tags, variables, IP ranges, MFA,
// regions). policy/testdata/compare evaluates the same policy and request
// with another evaluator.
const benchmarkPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadAppData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::app-data-*", "arn:aws:s3:::app-data-*/*"],
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "platform"}}},
    {"Sid": "WriteOwnHome", "Effect": "Allow", "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::app-data-prod/home/${aws:username}/*"},
    {"Sid": "AppTables", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
     "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/app-*",
     "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "payload"]}}},
    {"Sid": "DescribeEC2", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
    {"Sid": "StartStopTeamInstances", "Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"],
     "Resource": "arn:aws:ec2:*:111122223333:instance/*",
     "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
    {"Sid": "DecryptViaS3", "Effect": "Allow", "Action": "kms:Decrypt",
     "Resource": "arn:aws:kms:us-east-1:111122223333:key/*",
     "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
    {"Sid": "AppLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
     "Resource": "arn:aws:logs:us-east-1:111122223333:log-group:/app/*:*"},
    {"Sid": "DenyOutsideCorpNetwork", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}, "Bool": {"aws:ViaAWSService": "false"}}},
    {"Sid": "DenyIAMWithoutMFA", "Effect": "Deny", "Action": "iam:*", "Resource": "*",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
    {"Sid": "DenyOtherRegions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "cloudfront:*", "route53:*"], "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}
  ]
}`

func benchmarkRequest(tb testing.TB) (*PolicySet, *Request) {
	set := &PolicySet{Identity: []*Policy{mustParse(tb, "developer.json", benchmarkPolicy)}}
	ctx := NewContext()
	ctx.Set("aws:PrincipalTag/team", "platform")
	ctx.Set("aws:SourceIp", "203.0.113.10")
	ctx.Set("aws:ViaAWSService", "false")
	ctx.Set("aws:RequestedRegion", "us-east-1")
	ctx.Set("aws:MultiFactorAuthPresent", "true")
	return set, &Request{
		Principal: mustPrincipal(tb, "arn:aws:iam::111122223333:user/alice"),
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::app-data-prod/reports/2024.csv",
		Context:   ctx,
	}
}

func TestBenchmarkPolicyDecisions(t *testing.T) {
	set, req := benchmarkRequest(t)
	if r := set.Evaluate(req); r.Decision != Allowed || len(r.Matched) != 1 || r.Matched[0].Sid != "ReadAppData" {
		t.Fatalf("got %s", describe(r))
	}
	other := *req
	other.Context = req.Context.Clone()
	other.Context.Set("aws:SourceIp", "198.51.100.1")
	if r := set.Evaluate(&other); r.Decision != ExplicitDeny || r.Matched[0].Sid != "DenyOutsideCorpNetwork" {
		t.Fatalf("outside the corporate network: got %s", describe(r))
	}
	other.Context.Set("aws:SourceIp", "203.0.113.10")
	other.Action, other.Resource = "s3:PutObject", "arn:aws:s3:::app-data-prod/home/alice/x"
	if r := set.Evaluate(&other); r.Decision != Allowed || r.Matched[0].Sid != "WriteOwnHome" {
		t.Fatalf("own home: got %s", describe(r))
	}
	other.Action, other.Resource = "ec2:StartInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-1"
	other.Context.Set("aws:ResourceTag/team", "platform")
	if r := set.Evaluate(&other); r.Decision != Allowed || r.Matched[0].Sid != "StartStopTeamInstances" {
		t.Fatalf("team instance: got %s", describe(r))
	}
	other.Context.Set("aws:RequestedRegion", "ap-south-1")
	if r := set.Evaluate(&other); r.Decision != ExplicitDeny || r.Matched[0].Sid != "DenyOtherRegions" {
		t.Fatalf("other region: got %s", describe(r))
	}
}

// BenchmarkEvaluate10Statements evaluates benchmarkPolicy (ten statements,
// conditions in seven) for an allowed request, which must visit every
// statement to rule out a Deny.
//
// Target: at least 1,000,000 evaluations per second on one core, that is
// at most 1 µs/op, with at most one allocation (the matched statements of
// the result). Run: go test -run x -bench . -cpu 1 ./policy/
func BenchmarkEvaluate10Statements(b *testing.B) {
	set, req := benchmarkRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if set.Evaluate(req).Decision != Allowed {
			b.Fatal("not allowed")
		}
	}
}

// BenchmarkParse10Statements measures parsing and compiling the same
// policy, which happens once per policy, not per request.
func BenchmarkParse10Statements(b *testing.B) {
	data := []byte(benchmarkPolicy)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("developer.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

// compareRequest is one request of testdata/compare/requests.json, which
// the comparison harness also gives to another evaluator.
type compareRequest struct {
	Name            string
	Principal       string
	Action          string
	Resource        string
	ResourceAccount string
	Context         map[string]any // a string, or a list for a multivalued key
	Want            Decision
}

// TestCompareHarnessInputs keeps the harness's inputs honest: its policy is
// the benchmark's, and this evaluator decides its requests as it claims.
func TestCompareHarnessInputs(t *testing.T) {
	pol, err := os.ReadFile(filepath.Join("testdata", "compare", "developer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(pol)) != benchmarkPolicy {
		t.Fatal("testdata/compare/developer.json differs from benchmarkPolicy")
	}
	data, err := os.ReadFile(filepath.Join("testdata", "compare", "requests.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reqs []compareRequest
	if err := json.Unmarshal(data, &reqs); err != nil {
		t.Fatal(err)
	}
	set := PolicySet{Identity: []*Policy{mustParse(t, "developer.json", benchmarkPolicy)}}
	for _, cr := range reqs {
		t.Run(cr.Name, func(t *testing.T) {
			ctx := NewContext()
			for k, v := range cr.Context {
				switch v := v.(type) {
				case string:
					ctx.Set(k, v)
				case []any:
					var vals []string
					for _, e := range v {
						vals = append(vals, e.(string))
					}
					ctx.SetMulti(k, vals...)
				}
			}
			r := set.Evaluate(&Request{Principal: mustPrincipal(t, cr.Principal), Action: cr.Action, Resource: cr.Resource, ResourceAccount: cr.ResourceAccount, Context: ctx})
			if r.Decision != cr.Want {
				t.Errorf("got %s, want %s", describe(r), cr.Want)
			}
		})
	}
}
