package policy

import (
	"testing"
	"time"
)

func TestCanAssume(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/Admin"
	mfaTrust := doc(stmt(`"Sid":"MFA"`, `"Effect":"Allow"`, `"Principal":{"AWS":"arn:aws:iam::111122223333:root"}`, `"Action":"sts:AssumeRole"`,
		`"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`))
	externalTrust := doc(stmt(`"Sid":"Vendor"`, `"Effect":"Allow"`, `"Principal":{"AWS":"444455556666"}`, `"Action":"sts:AssumeRole"`,
		`"Condition":{"StringEquals":{"sts:ExternalId":"Unique-ID-12345"}}`))
	userTrust := doc(stmt(`"Sid":"Alice"`, `"Effect":"Allow"`, `"Principal":{"AWS":"`+alice+`"}`, `"Action":["sts:AssumeRole","sts:SetSourceIdentity","sts:TagSession"]`,
		`"Condition":{"StringLike":{"sts:SourceIdentity":"alice@*"}}`))
	denyNoMFA := doc(
		stmt(`"Effect":"Allow"`, `"Principal":{"AWS":"111122223333"}`, `"Action":"sts:AssumeRole"`),
		stmt(`"Sid":"DenyWithoutMFA"`, `"Effect":"Deny"`, `"Principal":{"AWS":"*"}`, `"Action":"sts:AssumeRole"`, `"Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`))
	tagTrust := doc(stmt(`"Effect":"Allow"`, `"Principal":{"AWS":"`+alice+`"}`, `"Action":["sts:AssumeRole","sts:TagSession"]`,
		`"Condition":{"StringEquals":{"aws:RequestTag/project":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["project"]}}`))
	allowAssume := []*Policy{mustParse(t, "alice.json", doc(allowStmt("sts:AssumeRole", role)))}
	noPolicies := []*Policy{}

	tests := []struct {
		name  string
		rule  string
		trust string
		req   AssumeRoleRequest
		want  Decision
	}{
		{"MFAPresentAndFresh", pKeys + "aws:MultiFactorAuthPresent ... True – If the requester signed in using MFA", mfaTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), MFAPresent: true, MFAAge: 10 * time.Minute}, Allowed},
		{"MFATooOld", pKeys + "aws:MultiFactorAuthAge ... the number of seconds since the principal was authorized using MFA", mfaTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), MFAPresent: true, MFAAge: 2 * time.Hour}, ImplicitDeny},
		{"NoMFASession", pKeys + "aws:MultiFactorAuthPresent is false for temporary credentials obtained without MFA", mfaTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, aliceSession)}, ImplicitDeny},
		{"NoMFALongTermKey", pCond + "If the requester made a request using their IAM user access keys ... the key is not present, and it won't match", mfaTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), LongTermKey: true}, ImplicitDeny},
		{"DenyIfExistsCatchesLongTermKey", pOps + "BoolIfExists: If the key is not present, evaluate the condition element as true (a Deny without MFA catches long-term keys)", denyNoMFA,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), LongTermKey: true}, ExplicitDeny},
		{"DenyIfExistsPassesMFA", pOps + "BoolIfExists with MFA present: the Deny does not apply", denyNoMFA,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), LongTermKey: true, MFAPresent: true}, Allowed},
		{"ExternalIDMatches", "IAM User Guide, How to use an external ID: the trust policy requires sts:ExternalId", externalTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, "arn:aws:iam::444455556666:user/vendor"), ExternalID: "Unique-ID-12345"}, Allowed},
		{"ExternalIDWrong", "IAM User Guide, How to use an external ID: a different external ID does not match", externalTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, "arn:aws:iam::444455556666:user/vendor"), ExternalID: "guess"}, ImplicitDeny},
		{"ExternalIDMissing", ruleMissingKeyFalse, externalTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, "arn:aws:iam::444455556666:user/vendor")}, ImplicitDeny},
		{"CrossAccountNeedsCallerPolicy", pCross + "the requester in the trusted AccountA must have an identity-based policy", externalTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, "arn:aws:iam::444455556666:user/vendor"), ExternalID: "Unique-ID-12345", Identity: noPolicies}, ImplicitDeny},
		{"CrossAccountWithCallerPolicy", pCross + "both account policy evaluations allow the request", externalTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, "arn:aws:iam::444455556666:user/vendor"), ExternalID: "Unique-ID-12345",
				Identity: []*Policy{mustParse(t, "vendor.json", doc(allowStmt("sts:AssumeRole", role)))}}, Allowed},
		{"OtherAccountNotTrusted", pPrincipal + "For cross-account access, you must specify the 12-digit identifier of the trusted account", externalTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, "arn:aws:iam::999988887777:user/x"), ExternalID: "Unique-ID-12345"}, ImplicitDeny},
		{"AccountTrustDelegatesToIdentity", pPrincipal + "The account ARN and the shortened account ID ... delegate permissions to the account", mfaTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), MFAPresent: true, Identity: noPolicies}, ImplicitDeny},
		{"AccountTrustWithIdentity", pPrincipal + "an administrator in that account must then grant access to an identity", mfaTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), MFAPresent: true, Identity: allowAssume}, Allowed},
		{"UserTrustNeedsNoIdentityPolicy", pEval + "If a resource-based policy grants permission directly to the IAM user ... an implicit deny in an identity-based policy ... does not impact the final decision", userTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), SourceIdentity: "alice@example.com", Identity: noPolicies}, Allowed},
		{"SourceIdentityWrong", pOps + "StringLike: Case-sensitive matching", userTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), SourceIdentity: "bob@example.com"}, ImplicitDeny},
		{"TrustIsRequiredEvenWithIdentity", pEval + "IAM role trust policies ... are exceptions to this logic, because they must explicitly allow access for principals", ec2TrustPolicy,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), Identity: allowAssume}, ImplicitDeny},
		{"ServicePrincipal", pPrincipal + "Service roles must include a trust policy ... specify the service principal", ec2TrustPolicy,
			AssumeRoleRequest{Principal: Principal{Kind: PrincipalService, Service: "ec2.amazonaws.com"}}, Allowed},
		{"OtherActionNotTrusted", pAction + "the trust policy allows only the actions it lists", ec2TrustPolicy,
			AssumeRoleRequest{Principal: Principal{Kind: PrincipalService, Service: "ec2.amazonaws.com"}, Action: "sts:AssumeRoleWithWebIdentity"}, ImplicitDeny},
		{"SessionTagsAllowed", pKeys + "aws:RequestTag/tag-key ... aws:TagKeys compare the tags passed in the request", tagTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), Tags: map[string]string{"project": "blue"}}, Allowed},
		{"SessionTagsExtraKey", pMulti + "ForAllValues ... every key value in the request must match", tagTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), Tags: map[string]string{"project": "blue", "cost": "x"}}, ImplicitDeny},
		{"WebIdentity", pPrincipal + `"Principal": { "Federated": "accounts.google.com" }`,
			doc(stmt(`"Effect":"Allow"`, `"Principal":{"Federated":"accounts.google.com"}`, `"Action":"sts:AssumeRoleWithWebIdentity"`, `"Condition":{"StringEquals":{"accounts.google.com:aud":"app-1"}}`)),
			AssumeRoleRequest{Principal: Principal{Kind: PrincipalIdentityProvider, Provider: "accounts.google.com"}, Action: "sts:AssumeRoleWithWebIdentity", Context: contextOf("accounts.google.com:aud", "app-1")}, Allowed},
		{"RootUserCannotAssume", "IAM User Guide, Switching to an IAM role (AWS API): You cannot assume a role when you are signed in as the AWS account root user", mfaTrust,
			AssumeRoleRequest{Principal: mustPrincipal(t, "arn:aws:iam::111122223333:root"), MFAPresent: true}, ImplicitDeny},
		{"TimeWindow", pOps + "DateLessThan: Matching before a specific date and time (aws:CurrentTime from the request)",
			doc(stmt(`"Effect":"Allow"`, `"Principal":{"AWS":"`+alice+`"}`, `"Action":"sts:AssumeRole"`, `"Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`)),
			AssumeRoleRequest{Principal: mustPrincipal(t, alice), Now: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.RoleARN = role
			r := CanAssume(mustParse(t, "trust.json", tt.trust), tt.req)
			if r.Decision != tt.want {
				t.Fatalf("rule: %s\ngot %s, want %s", tt.rule, describe(r), tt.want)
			}
		})
	}
}

func contextOf(kv ...string) *Context {
	c := NewContext()
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

func TestCanAssumeLeavesContextAlone(t *testing.T) {
	ctx := contextOf("aws:PrincipalOrgID", "o-1")
	CanAssume(mustParse(t, "trust.json", ec2TrustPolicy), AssumeRoleRequest{Principal: mustPrincipal(t, alice), RoleARN: "arn:aws:iam::111122223333:role/x", ExternalID: "e", Context: ctx})
	if keys := ctx.Keys(); len(keys) != 1 {
		t.Errorf("caller's context changed: %v", keys)
	}
}
