package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseErrorLocations(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // the whole error text
	}{
		{
			name: "UnknownStatementElement",
			doc: `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    {
      "Effect": "Allow",
      "Actions": "s3:PutObject",
      "Resource": "*"
    }
  ]
}`,
			want: `policy.json:7:7: statement 2: unknown element "Actions" in statement (did you mean "Action"?)`,
		},
		{
			name: "BadJSON",
			doc:  "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\" \"Action\": \"*\"}\n  ]\n}",
			want: `policy.json:4:24: invalid JSON: unexpected '"', expected ',' or '}'`,
		},
		{
			name: "TrailingComma",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},]}`,
			want: `policy.json:1:93: invalid JSON: unexpected ']', expected a value`,
		},
		{
			name: "BadEffect",
			doc:  "{\"Version\": \"2012-10-17\",\n \"Statement\": {\"Effect\": \"allow\", \"Action\": \"*\", \"Resource\": \"*\"}}",
			want: `policy.json:2:26: statement 1: Effect "allow" is not "Allow" or "Deny" (did you mean "Allow"?)`,
		},
		{
			name: "ActionAndNotAction",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}]}`,
			want: `policy.json:1:92: statement 1: statement has both Action and NotAction`,
		},
		{
			name: "ResourceAndNotResource",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "arn:aws:s3:::b"}]}`,
			want: `policy.json:1:111: statement 1: statement has both Resource and NotResource`,
		},
		{
			name: "PrincipalAndNotPrincipal",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:*", "Resource": "*"}]}`,
			want: `policy.json:1:94: statement 1: statement has both Principal and NotPrincipal`,
		},
		{
			name: "UnknownOperator",
			doc:  "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\",\n  \"Condition\": {\"StringEqualz\": {\"aws:username\": \"x\"}}}]}",
			want: `policy.json:2:17: statement 1: unknown condition operator "StringEqualz"`,
		},
		{
			name: "NullIfExists",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NullIfExists": {"aws:username": "true"}}}]}`,
			want: `policy.json:1:106: statement 1: unknown condition operator "NullIfExists"`,
		},
		{
			name: "UnknownQualifier",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"ForEachValue:StringEquals": {"aws:TagKeys": "x"}}}]}`,
			want: `policy.json:1:106: statement 1: unknown condition operator "ForEachValue:StringEquals"`,
		},
		{
			name: "BadVersion",
			doc:  `{"Version": "2012-10-18", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}`,
			want: `policy.json:1:13: Version "2012-10-18" is not "2012-10-17" or "2008-10-17"`,
		},
		{
			name: "UnknownTopLevel",
			doc:  `{"Version": "2012-10-17", "Statements": []}`,
			want: `policy.json:1:27: unknown element "Statements" in policy (did you mean "Statement"?)`,
		},
		{
			name: "NoStatement",
			doc:  `{"Version": "2012-10-17"}`,
			want: `policy.json:1:1: policy has no Statement element`,
		},
		{
			name: "NoEffect",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Action": "*", "Resource": "*"}]}`,
			want: `policy.json:1:41: statement 1: statement has no Effect`,
		},
		{
			name: "NoAction",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}`,
			want: `policy.json:1:41: statement 1: statement has no Action or NotAction`,
		},
		{
			name: "ActionWithoutService",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "GetObject"], "Resource": "*"}]}`,
			want: `policy.json:1:88: statement 1: Action "GetObject" is not "*" or service:action`,
		},
		{
			name: "ResourceNotARN",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "bucket/*"}]}`,
			want: `policy.json:1:88: statement 1: Resource "bucket/*" is not "*" or an ARN`,
		},
		{
			name: "EmptyActionList",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}`,
			want: `policy.json:1:71: statement 1: Action must not be an empty array`,
		},
		{
			name: "ActionNumber",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 7, "Resource": "*"}]}`,
			want: `policy.json:1:71: statement 1: Action must be a string or an array of strings, not a number`,
		},
		{
			name: "WildcardInPrincipalARN",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/*"}, "Action": "*", "Resource": "*"}]}`,
			want: `policy.json:1:82: statement 1: AWS principal "arn:aws:iam::111122223333:user/*": a principal cannot contain wildcards (use a Condition with aws:PrincipalArn)`,
		},
		{
			name: "UnknownPrincipalType",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Services": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}`,
			want: `policy.json:1:75: statement 1: unknown element "Services" in Principal (did you mean "Service"?)`,
		},
		{
			name: "PrincipalString",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "111122223333", "Action": "sts:AssumeRole"}]}`,
			want: `policy.json:1:74: statement 1: Principal must be "*" or an object such as {"AWS": ...}, not the string "111122223333"`,
		},
		{
			name: "AWSPrincipalNotARN",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "alice"}, "Action": "s3:*", "Resource": "*"}]}`,
			want: `policy.json:1:82: statement 1: AWS principal "alice" is not an account ID or an IAM or STS ARN`,
		},
		{
			name: "DuplicateKey",
			doc:  "{\"Version\": \"2012-10-17\",\n \"Statement\": {\"Effect\": \"Allow\", \"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}}",
			want: `policy.json:2:35: invalid JSON: duplicate key "Effect" (first at 2:16)`,
		},
		{
			name: "DuplicateConditionOperator",
			doc:  "{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n \"Condition\": {\"StringEquals\": {\"a:b\": \"1\"}, \"StringEquals\": {\"a:c\": \"2\"}}}}",
			want: `policy.json:2:46: invalid JSON: duplicate key "StringEquals" (first at 2:16)`,
		},
		{
			name: "NumericNotANumber",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}]}`,
			want: `policy.json:1:154: statement 1: NumericLessThan value "ten" is not a decimal number`,
		},
		{
			name: "DateNotADate",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}}]}`,
			want: `policy.json:1:146: statement 1: DateGreaterThan value "yesterday" is not an ISO 8601 date or epoch seconds`,
		},
		{
			name: "BadCIDR",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/33"}}}]}`,
			want: `policy.json:1:137: statement 1: IpAddress value "203.0.113.0/33" is not an IP address or CIDR block`,
		},
		{
			name: "BoolNotBool",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}]}`,
			want: `policy.json:1:139: statement 1: Bool value "yes" is not "true" or "false"`,
		},
		{
			name: "BinaryNotBase64",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"BinaryEquals": {"k": "!!"}}}]}`,
			want: `policy.json:1:129: statement 1: BinaryEquals value "!!" is not base64`,
		},
		{
			name: "ConditionValueObject",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"k": {"x": "y"}}}}]}`,
			want: `policy.json:1:129: statement 1: condition value must be a string, number or boolean, not an object`,
		},
		{
			name: "ConditionNoValues",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"k": []}}}]}`,
			want: `policy.json:1:129: statement 1: condition StringEquals "k" has no values`,
		},
		{
			name: "StatementNotObject",
			doc:  `{"Version": "2012-10-17", "Statement": ["Allow"]}`,
			want: `policy.json:1:41: statement 1: a statement must be an object, not a string`,
		},
		{
			name: "NotAnObject",
			doc:  `["Statement"]`,
			want: `policy.json:1:1: a policy must be a JSON object, not an array`,
		},
		{
			name: "Empty",
			doc:  ``,
			want: `policy.json:1:1: invalid JSON: unexpected end of file, expected a value`,
		},
		{
			name: "TrailingGarbage",
			doc:  "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}}\n}",
			want: `policy.json:2:1: invalid JSON: unexpected '}' after the end of the policy`,
		},
		{
			name: "InvalidUTF8",
			doc:  "{\"Sid\": \"\xff\"}",
			want: `policy.json:1:10: invalid JSON: invalid UTF-8 in string`,
		},
		{
			name: "DeepNesting",
			doc:  strings.Repeat("[", 100),
			want: `policy.json:1:66: invalid JSON: JSON nested deeper than 64 levels`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("policy.json", []byte(tt.doc))
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseAcceptsIAMForms(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, p *Policy)
	}{
		{
			name: "StatementObject",
			doc:  `{"Version": "2012-10-17", "Id": "p1", "Statement": {"Sid": "One", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}`,
			check: func(t *testing.T, p *Policy) {
				if p.ID != "p1" || p.Version != Version2012 || len(p.Statements) != 1 || p.Statements[0].Sid != "One" || p.Statements[0].Index != 0 {
					t.Errorf("got %+v", p)
				}
				if !slices.Equal(p.Statements[0].Action, []string{"s3:GetObject"}) || !slices.Equal(p.Statements[0].Resource, []string{"arn:aws:s3:::b/*"}) {
					t.Errorf("got %+v", p.Statements[0])
				}
			},
		},
		{
			name: "ArraysEverywhere",
			doc: `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": ["arn:aws:s3:::a", "arn:aws:s3:::b"],
			  "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/alice"], "Service": ["ec2.amazonaws.com"], "Federated": "cognito-identity.amazonaws.com", "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
			  "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["a*", "b*"]}, "Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": 10}}}]}`,
			check: func(t *testing.T, p *Policy) {
				s := p.Statements[0]
				if s.Effect != Deny || len(s.NotAction) != 2 || len(s.NotResource) != 2 || s.NotPrincipal == nil || len(s.NotPrincipal.AWS) != 2 ||
					len(s.NotPrincipal.Service) != 1 || len(s.NotPrincipal.Federated) != 1 || len(s.NotPrincipal.CanonicalUser) != 1 || len(s.Condition) != 3 {
					t.Errorf("got %+v", s)
				}
				if c := s.Condition[1]; c.Operator != "Bool" || c.Key != "aws:SecureTransport" || !slices.Equal(c.Values, []string{"false"}) {
					t.Errorf("condition %+v", c)
				}
			},
		},
		{
			name: "PrincipalStar",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}`,
			check: func(t *testing.T, p *Policy) {
				if s := p.Statements[0]; s.Principal == nil || !s.Principal.All {
					t.Errorf("got %+v", s.Principal)
				}
			},
		},
		{
			name: "TrustPolicyWithoutResource",
			doc:  ec2TrustPolicy,
			check: func(t *testing.T, p *Policy) {
				if s := p.Statements[0]; s.Resource != nil || s.Principal == nil || !slices.Equal(s.Principal.Service, []string{"ec2.amazonaws.com"}) {
					t.Errorf("got %+v", s)
				}
			},
		},
		{
			name: "NoVersion",
			doc:  `{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`,
			check: func(t *testing.T, p *Policy) {
				if p.Version != "" {
					t.Errorf("Version %q", p.Version)
				}
			},
		},
		{
			name: "ByteOrderMarkAndEscapes",
			doc:  "\uFEFF{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"\\u0041\\u00e9\\ud83d\\ude00\", \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}",
			check: func(t *testing.T, p *Policy) {
				if p.Statements[0].Sid != "Aé😀" {
					t.Errorf("Sid %q", p.Statements[0].Sid)
				}
			},
		},
		{
			name: "StatementPositions",
			doc:  "{\n \"Statement\": [\n  {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"},\n  {\"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}\n ]\n}",
			check: func(t *testing.T, p *Policy) {
				if p.Statements[1].Pos != (Position{4, 3}) || p.Statements[1].Index != 1 {
					t.Errorf("second statement at %v index %d", p.Statements[1].Pos, p.Statements[1].Index)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, tt.name, tt.doc))
		})
	}
}

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		in      string
		kind    PrincipalKind
		account string
		roleARN string
		name    string
		wantErr bool
	}{
		{in: "arn:aws:iam::111122223333:user/division/alice", kind: PrincipalUser, account: account, name: "alice"},
		{in: "arn:aws:iam::111122223333:root", kind: PrincipalRoot, account: account},
		{in: "111122223333", kind: PrincipalRoot, account: account},
		{in: aliceSession, kind: PrincipalRoleSession, account: account, roleARN: roleARN, name: "S3Access"},
		{in: "arn:aws:iam::111122223333:role/path/S3Access", kind: PrincipalRoleSession, account: account, roleARN: "arn:aws:iam::111122223333:role/path/S3Access", name: "S3Access"},
		{in: carolFed, kind: PrincipalFederatedUser, account: account, name: "carol"},
		{in: "ec2.amazonaws.com", kind: PrincipalService},
		{in: "", kind: PrincipalAnonymous},
		{in: "*", kind: PrincipalAnonymous},
		{in: "alice", wantErr: true},
		{in: "arn:aws:s3:::bucket", wantErr: true},
		{in: "arn:aws:iam::123:user/alice", wantErr: true},
		{in: "arn:aws:sts::111122223333:assumed-role/OnlyRole", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePrincipal(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error; got %+v", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tt.kind || p.Account != tt.account || p.RoleARN != tt.roleARN || p.Name != tt.name {
				t.Errorf("got %+v", p)
			}
		})
	}
}
