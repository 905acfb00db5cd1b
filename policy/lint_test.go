package policy

import (
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		opts LintOptions
		want []string // Finding.String() of every finding, in order
	}{
		{
			name: "Clean",
			doc:  doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*")),
		},
		{
			name: "WildcardActions",
			doc:  "{\"Version\": \"2012-10-17\", \"Statement\": [\n{\"Effect\": \"Allow\", \"Action\": [\"*\", \"s3:*\", \"s3:Get*\"], \"Resource\": \"*\"},\n{\"Effect\": \"Deny\", \"Action\": \"iam:*\", \"Resource\": \"*\"}]}",
			want: []string{
				`p.json:2:32: warning: statement 1: Allow with Action "*" grants every action of every service (fix: list the actions the principal needs (IAM best practice: grant least privilege))`,
				`p.json:2:37: warning: statement 1: Allow with Action "s3:*" grants every s3 action, including ones AWS adds later (fix: list the s3 actions the principal needs (IAM best practice: grant least privilege))`,
			},
		},
		{
			name: "PassRoleOnEveryRole",
			doc:  "{\"Version\": \"2012-10-17\", \"Statement\": [\n{\"Effect\": \"Allow\", \"Action\": [\"ec2:RunInstances\", \"iam:PassRole\"], \"Resource\": \"*\"}]}",
			want: []string{
				`p.json:2:81: error: statement 1: iam:PassRole on Resource "*" lets the principal pass any role, an administrator role included, to a service it controls (fix: name the roles that may be passed in Resource, and add an iam:PassedToService condition)`,
			},
		},
		{
			name: "PassRoleWithPassedToService",
			doc:  doc(stmt(`"Effect":"Allow"`, `"Action":"iam:PassRole"`, `"Resource":"*"`, `"Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}`)),
			want: []string{
				`p.json:1:94: warning: statement 1: iam:PassRole on Resource "*" lets the principal pass any role (limited only by iam:PassedToService) (fix: name the roles that may be passed in Resource)`,
			},
		},
		{
			name: "PassRoleOnNamedRole",
			doc:  doc(allowStmt("iam:PassRole", "arn:aws:iam::123456789012:role/S3Access")),
		},
		{
			name: "NotActionNotResourceWithAllow",
			doc:  doc(stmt(`"Effect":"Allow"`, `"NotAction":"iam:*"`, `"NotResource":"arn:aws:s3:::secret"`)),
			want: []string{
				`p.json:1:71: warning: statement 1: NotAction with Allow grants every action not listed, including actions AWS adds later (fix: list the allowed actions in Action instead, or use NotAction only with Deny)`,
				`p.json:1:93: warning: statement 1: NotResource with Allow grants every resource not listed, including resources created later (fix: list the allowed resources in Resource instead, or use NotResource only with Deny)`,
			},
		},
		{
			name: "NotActionWithDenyIsFine",
			doc:  doc(allowStmt("s3:GetObject", "arn:aws:s3:::b/*"), stmt(`"Effect":"Deny"`, `"NotAction":"s3:*"`, `"Resource":"*"`)),
		},
		{
			name: "MissingVersion",
			doc:  `{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}`,
			want: []string{
				`p.json:1:1: warning: policy has no Version: it is read as version 2008-10-17, where policy variables are literal text (fix: add "Version": "2012-10-17")`,
			},
		},
		{
			name: "OldVersion",
			doc:  `{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}`,
			want: []string{
				`p.json:1:13: warning: Version 2008-10-17 is the old policy language (no policy variables); AWS says not to use it for new policies (fix: use "Version": "2012-10-17")`,
			},
		},
		{
			name: "VariableUnderOldVersion",
			doc:  `{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]}`,
			want: []string{
				`p.json:1:13: error: policy uses ${...} under Version 2008-10-17, where a policy variable is literal text (fix: use "Version": "2012-10-17")`,
			},
		},
		{
			name: "VariableWithoutVersion",
			doc:  `{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]}`,
			want: []string{
				`p.json:1:1: error: policy uses ${...} but has no Version: without Version 2012-10-17 a policy variable is literal text (fix: add "Version": "2012-10-17")`,
			},
		},
		{
			name: "UnknownAwsKey",
			doc:  doc(allowStmt("s3:GetObject", "arn:aws:s3:::b/${aws:usernam}/*")),
			want: []string{
				`p.json:1:94: error: statement 1: "arn:aws:s3:::b/${aws:usernam}/*": aws:usernam is not a known global condition key, so the variable never resolves (fix: check the spelling against the IAM global condition keys)`,
			},
		},
		{
			name: "MalformedVariable",
			doc:  doc(allowStmt("s3:GetObject", "arn:aws:s3:::b/${aws:username/*")),
			want: []string{
				`p.json:1:94: error: statement 1: "arn:aws:s3:::b/${aws:username/*": "${" is not closed, so it is literal text (fix: close the variable with }, or write $ as ${$})`,
			},
		},
		{
			name: "MultivaluedVariable",
			doc:  doc(allowStmt("s3:GetObject", "arn:aws:s3:::b/${aws:TagKeys}/*")),
			want: []string{
				`p.json:1:94: error: statement 1: "arn:aws:s3:::b/${aws:TagKeys}/*": aws:TagKeys is multivalued and cannot be a policy variable, so the statement never applies (fix: test the key with ForAnyValue or ForAllValues in a Condition instead)`,
			},
		},
		{
			name: "VariableBeforeFifthColon",
			doc:  doc(allowStmt("sqs:SendMessage", "arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:queue")),
			want: []string{
				`p.json:1:97: error: statement 1: "arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:queue": a policy variable can replace only the resource part of an ARN, after the fifth colon (fix: put variables only in the resource part, after the fifth colon)`,
			},
		},
		{
			name: "VariableInNumericCondition",
			doc:  doc(stmt(`"Effect":"Allow"`, `"Action":"s3:ListBucket"`, `"Resource":"arn:aws:s3:::b"`, `"Condition":{"NumericLessThan":{"s3:max-keys":"${aws:PrincipalTag/limit}"}}`)),
			want: []string{
				`p.json:1:158: error: statement 1: NumericLessThan value "${aws:PrincipalTag/limit}": policy variables cannot be used with numeric operators (fix: correct the policy so that IAM accepts it)`,
			},
		},
		{
			name: "VariableInArnCondition",
			doc:  doc(stmt(`"Effect":"Allow"`, `"Action":"s3:ListBucket"`, `"Resource":"arn:aws:s3:::b"`, `"Condition":{"StringEquals":{"s3:prefix":"${aws:username}/"},"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:${aws:usrname}"}}`)),
			want: []string{
				`p.json:1:200: error: statement 1: "arn:aws:sns:*:*:${aws:usrname}": aws:usrname is not a known global condition key, so the variable never resolves (fix: check the spelling against the IAM global condition keys)`,
			},
		},
		{
			name: "KnownTagAndServiceKeys",
			doc:  doc(allowStmt("s3:GetObject", "arn:aws:s3:::b/${aws:PrincipalTag/team}/${s3:prefix}/${aws:userid, 'none'}/${*}/*")),
		},
		{
			name: "UnknownKeyWithDefault",
			doc:  doc(allowStmt("s3:GetObject", "arn:aws:s3:::b/${aws:team, 'shared'}/*")),
			want: []string{
				`p.json:1:94: error: statement 1: "arn:aws:s3:::b/${aws:team, 'shared'}/*": aws:team is not a known global condition key, so only its default is ever used (fix: check the spelling against the IAM global condition keys)`,
			},
		},
		{
			name: "IdentityStatementWithoutResource",
			doc:  doc(stmt(`"Effect":"Allow"`, `"Action":"s3:GetObject"`)),
			want: []string{
				`p.json:1:41: error: statement 1: statement has no Resource or NotResource: IAM rejects an identity-based policy statement without one (fix: add "Resource" naming the ARNs the statement covers)`,
			},
		},
		{
			name: "ForAllValuesWithAllow",
			doc:  doc(stmt(`"Effect":"Allow"`, `"Action":"ec2:CreateTags"`, `"Resource":"*"`, `"Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","owner"]}}`)),
			want: []string{
				`p.json:1:142: warning: statement 1: ForAllValues with Allow is true when the request has no aws:TagKeys values at all; AWS advises against it (fix: add a condition that requires the key (for example Null false), or use ForAnyValue)`,
			},
		},
		{
			name: "ParseErrorIsAFinding",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Alow", "Action": "*", "Resource": "*"}]}`,
			want: []string{
				`p.json:1:52: error: statement 1: Effect "Alow" is not "Allow" or "Deny" (did you mean "Allow"?) (fix: correct the policy so that IAM accepts it)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range Lint("p.json", []byte(tt.doc), tt.opts) {
				got = append(got, f.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestLintTrustPolicies(t *testing.T) {
	trust := func(principal, condition string) string {
		s := []string{`"Sid":"Trust"`, `"Effect":"Allow"`, `"Principal":` + principal, `"Action":"sts:AssumeRole"`}
		if condition != "" {
			s = append(s, `"Condition":`+condition)
		}
		return doc(stmt(s...))
	}
	const mfa = `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`
	tests := []struct {
		name      string
		doc       string
		opts      LintOptions
		wantRules []string
		errors    bool
	}{
		{name: "Service", doc: ec2TrustPolicy},
		{name: "NamedRole", doc: trust(`{"AWS":"arn:aws:iam::444455556666:role/Deployer"}`, "")},
		{name: "SameAccountWithoutMFA", doc: trust(`{"AWS":"arn:aws:iam::111122223333:root"}`, ""), opts: LintOptions{RoleAccount: account}, wantRules: []string{"trust-no-mfa"}},
		{name: "SameAccountWithMFA", doc: trust(`{"AWS":"111122223333"}`, mfa), opts: LintOptions{RoleAccount: account}},
		{name: "OtherAccountWithoutMFAOrExternalID", doc: trust(`{"AWS":"444455556666"}`, ""), opts: LintOptions{RoleAccount: account}, wantRules: []string{"trust-no-mfa", "trust-no-external-id"}},
		{name: "OtherAccountWithExternalID", doc: trust(`{"AWS":"444455556666"}`, `{"StringEquals":{"sts:ExternalId":"x-123"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), opts: LintOptions{RoleAccount: account}},
		{name: "AccountWithoutRoleAccountKnown", doc: trust(`{"AWS":"444455556666"}`, mfa)},
		{name: "Everyone", doc: trust(`"*"`, ""), wantRules: []string{"trust-everyone", "trust-no-mfa", "trust-no-external-id"}, errors: true},
		{name: "EveryoneAWSStar", doc: trust(`{"AWS":"*"}`, mfa), wantRules: []string{"trust-everyone", "trust-no-external-id"}, errors: true},
		{name: "EveryoneInOrganization", doc: trust(`{"AWS":"*"}`, `{"StringEquals":{"aws:PrincipalOrgID":"o-abc"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), wantRules: []string{"trust-no-external-id"}},
		{name: "WildcardAssumeAction", doc: doc(stmt(`"Effect":"Allow"`, `"Principal":{"AWS":"111122223333"}`, `"Action":"sts:Assume*"`)), wantRules: []string{"trust-no-mfa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings := Lint("trust.json", []byte(tt.doc), tt.opts)
			var rules []string
			for _, f := range findings {
				rules = append(rules, f.Rule)
			}
			if strings.Join(rules, ",") != strings.Join(tt.wantRules, ",") {
				t.Errorf("rules %v, want %v\n%v", rules, tt.wantRules, findings)
			}
			if HasErrors(findings) != tt.errors {
				t.Errorf("HasErrors = %v, want %v", HasErrors(findings), tt.errors)
			}
		})
	}
}
