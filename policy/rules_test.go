package policy

import (
	"fmt"
	"testing"
)

// ruleCase checks one rule of the IAM User Guide. rule names the page and
// quotes (or closely paraphrases) the rule; every case must have one.
type ruleCase struct {
	name      string
	rule      string
	identity  []string
	resource  string // resource-based policy
	boundary  string
	session   string
	principal string // alice when empty
	userARN   string // the IAM user behind a federated user session
	action    string // s3:GetObject when empty
	arn       string // arn:aws:s3:::bucket/key when empty
	resAcct   string
	ctx       []string // KEY=TYPE:VALUE[,VALUE...], as --context takes them
	want      Decision
}

// Pages of the IAM User Guide the rules come from.
const (
	pEval       = "IAM User Guide, Policy evaluation logic: "
	pCross      = "IAM User Guide, Cross-account policy evaluation logic: "
	pBoundary   = "IAM User Guide, Permissions boundaries for IAM entities: "
	pSession    = "IAM User Guide, Policies and permissions (Session policies): "
	pAction     = "IAM User Guide, IAM JSON policy elements: Action: "
	pNotAction  = "IAM User Guide, IAM JSON policy elements: NotAction: "
	pResource   = "IAM User Guide, IAM JSON policy elements: Resource: "
	pNotRes     = "IAM User Guide, IAM JSON policy elements: NotResource: "
	pPrincipal  = "IAM User Guide, AWS JSON policy elements: Principal: "
	pNotPrinc   = "IAM User Guide, AWS JSON policy elements: NotPrincipal: "
	pOps        = "IAM User Guide, IAM JSON policy elements: Condition operators: "
	pCond       = "IAM User Guide, IAM JSON policy elements: Condition: "
	pMulti      = "IAM User Guide, Creating a condition with multiple keys or values: "
	pVars       = "IAM User Guide, IAM policy elements: Variables and tags: "
	pKeys       = "IAM User Guide, AWS global condition context keys: "
	pSimulation = "IAM API Reference, SimulateCustomPolicy (ResourceOwner): "
)

const (
	ruleMissingKeyFalse   = pOps + "If the key that you specify in a policy condition is not present in the request context, the values do not match and the condition is false"
	ruleMissingKeyNegTrue = pOps + "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true"
	ruleValuesOR          = pMulti + "If a single condition operator includes multiple values for one key, that condition operator is evaluated using a logical OR"
	ruleNegatedValuesAND  = pMulti + "When multiple values are listed in a policy for negated matching condition operators ... the string cannot match any of the values listed"
	ruleIfExists          = pOps + "...IfExists: If the key is not present, evaluate the condition element as true"
	ruleForAll            = pMulti + "ForAllValues ... returns true if every key value in the request matches at least one value in the policy. It also returns true if there are no keys in the request, or if the key values resolve to a null data set"
	ruleForAny            = pMulti + "ForAnyValue ... returns true if any one of the key values in the request matches any one of the condition values in the policy. For no matching key or a null dataset, the condition returns false"
	ruleDenyWins          = pEval + "An explicit deny in any policy overrides any allows"
	ruleImplicit          = pEval + "By default, all requests are implicitly denied"
)

func ruleCases() []ruleCase {
	get := allowStmt("s3:GetObject", "*")
	var cases []ruleCase
	add := func(c ...ruleCase) { cases = append(cases, c...) }

	// --- Action and NotAction ---------------------------------------
	add(
		ruleCase{name: "action/exact", rule: pAction + "The Action element describes the specific action or actions that will be allowed or denied",
			identity: []string{doc(allowStmt("s3:GetObject", "*"))}, want: Allowed},
		ruleCase{name: "action/case-insensitive", rule: pAction + "Action names are case-insensitive",
			identity: []string{doc(allowStmt("S3:getobject", "*"))}, want: Allowed},
		ruleCase{name: "action/request-case-insensitive", rule: pAction + "Action names are case-insensitive",
			identity: []string{doc(allowStmt("s3:GetObject", "*"))}, action: "S3:GETOBJECT", want: Allowed},
		ruleCase{name: "action/star", rule: pAction + `"Action": "*" (all actions)`,
			identity: []string{doc(allowStmt("*", "*"))}, action: "dynamodb:PutItem", want: Allowed},
		ruleCase{name: "action/service-star", rule: pAction + "You can use wildcards (*) to give access to all the actions the specific AWS product offers",
			identity: []string{doc(allowStmt("s3:*", "*"))}, want: Allowed},
		ruleCase{name: "action/service-star-other-service", rule: pAction + "each service has its own namespace; s3:* covers only the s3 namespace",
			identity: []string{doc(allowStmt("s3:*", "*"))}, action: "s3control:GetJobTagging", want: ImplicitDeny},
		ruleCase{name: "action/prefix-wildcard", rule: pAction + `"Action": "iam:*AccessKey*" ... wildcards (* or ?) in the action name`,
			identity: []string{doc(allowStmt("s3:Get*", "*"))}, action: "s3:GetObjectAcl", want: Allowed},
		ruleCase{name: "action/prefix-wildcard-miss", rule: pAction + "a wildcard matches only actions whose names fit the pattern",
			identity: []string{doc(allowStmt("s3:Get*", "*"))}, action: "s3:PutObject", want: ImplicitDeny},
		ruleCase{name: "action/infix-wildcard", rule: pAction + `"Action": "iam:*AccessKey*"`,
			identity: []string{doc(allowStmt("iam:*AccessKey*", "*"))}, action: "iam:UpdateAccessKey", arn: alice, want: Allowed},
		ruleCase{name: "action/question-mark", rule: pAction + "the question mark (?) matches any single character",
			identity: []string{doc(allowStmt("s3:?etObject", "*"))}, want: Allowed},
		ruleCase{name: "action/question-mark-one-char-only", rule: pAction + "the question mark (?) matches any single character",
			identity: []string{doc(allowStmt("s3:?Object", "*"))}, want: ImplicitDeny},
		ruleCase{name: "action/list-is-or", rule: pAction + `"Action": ["sqs:SendMessage", "sqs:ReceiveMessage", ...] specifies multiple actions`,
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"Action":["s3:PutObject","s3:GetObject"]`, `"Resource":"*"`))}, want: Allowed},
		ruleCase{name: "notaction/allow-unlisted", rule: pNotAction + "NotAction ... matches everything except the specified list of actions",
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"NotAction":"iam:*"`, `"Resource":"*"`))}, want: Allowed},
		ruleCase{name: "notaction/allow-listed-not-granted", rule: pNotAction + "the listed actions are not allowed by this statement",
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"NotAction":"s3:*"`, `"Resource":"*"`))}, want: ImplicitDeny},
		ruleCase{name: "notaction/deny-unlisted", rule: pNotAction + "NotAction with Deny denies every action except those listed",
			identity: []string{doc(get, stmt(`"Effect":"Deny"`, `"NotAction":"iam:*"`, `"Resource":"*"`))}, want: ExplicitDeny},
		ruleCase{name: "notaction/deny-listed-spared", rule: pNotAction + "NotAction with Deny does not deny the listed actions",
			identity: []string{doc(get, stmt(`"Effect":"Deny"`, `"NotAction":"s3:*"`, `"Resource":"*"`))}, want: Allowed},
	)

	// --- Resource and NotResource ---------------------------------------
	add(
		ruleCase{name: "resource/exact", rule: pResource + "The Resource element specifies the object or objects that the statement covers",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/key"))}, want: Allowed},
		ruleCase{name: "resource/case-sensitive", rule: pResource + "In the Resource element, the IAM user name is case sensitive (ARNs match case-sensitively)",
			identity: []string{doc(allowStmt("iam:GetUser", "arn:aws:iam::111122223333:user/Bob"))}, action: "iam:GetUser", arn: "arn:aws:iam::111122223333:user/bob", want: ImplicitDeny},
		ruleCase{name: "resource/star", rule: pResource + `"Resource": "*" covers every resource`,
			identity: []string{doc(get)}, want: Allowed},
		ruleCase{name: "resource/bucket-star-object", rule: pResource + `"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*" refers to all items within a specific Amazon S3 bucket`,
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*"))}, arn: "arn:aws:s3:::bucket/a/b/c.txt", want: Allowed},
		ruleCase{name: "resource/bucket-star-not-bucket", rule: pResource + `"arn:aws:s3:::bucket/*" covers the items, not the bucket itself`,
			identity: []string{doc(allowStmt("s3:ListBucket", "arn:aws:s3:::bucket/*"))}, action: "s3:ListBucket", arn: "arn:aws:s3:::bucket", want: ImplicitDeny},
		ruleCase{name: "resource/star-spans-slashes", rule: pResource + "The asterisk (*) character can expand to replace everything within a segment, including characters like a forward slash (/)",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*/test/*"))}, arn: "arn:aws:s3:::bucket/1/2/test/3/object.jpg", want: Allowed},
		ruleCase{name: "resource/star-empty-run", rule: pResource + "bucket/*/test/* applies to DOC-EXAMPLE-BUCKET//test/object.jpg",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*/test/*"))}, arn: "arn:aws:s3:::bucket//test/object.jpg", want: Allowed},
		ruleCase{name: "resource/star-no-match", rule: pResource + "The ARN would not match DOC-EXAMPLE-BUCKET/1-test/object.jpg",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*/test/*"))}, arn: "arn:aws:s3:::bucket/1-test/object.jpg", want: ImplicitDeny},
		ruleCase{name: "resource/star-no-match-top", rule: pResource + "The ARN would not match DOC-EXAMPLE-BUCKET/test/object.jpg",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*/test/*"))}, arn: "arn:aws:s3:::bucket/test/object.jpg", want: ImplicitDeny},
		ruleCase{name: "resource/question-mark", rule: pResource + "a question mark (?) represents any single character",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/report-?.csv"))}, arn: "arn:aws:s3:::bucket/report-7.csv", want: Allowed},
		ruleCase{name: "resource/wildcard-within-segment", rule: pResource + "You can use wildcard characters (* and ?) within the individual segments of an ARN (the parts separated by colons)",
			identity: []string{doc(allowStmt("sqs:SendMessage", "arn:aws:sqs:us-*-2:111122223333:queue1"))}, action: "sqs:SendMessage", arn: "arn:aws:sqs:us-east-2:111122223333:queue1", want: Allowed},
		ruleCase{name: "resource/mid-segment-wildcard-stays-in-segment", rule: pResource + "wildcards apply within the individual segments of an ARN; only a * that is the last character of a segment expands beyond the colon",
			identity: []string{doc(allowStmt("sqs:SendMessage", "arn:aws:sqs:us-*2:111122223333:queue1"))}, action: "sqs:SendMessage", arn: "arn:aws:sqs:us-east-1:111122223333:x2:111122223333:queue1", want: ImplicitDeny},
		ruleCase{name: "resource/trailing-star-expands-beyond-colons", rule: pResource + "If the * wildcard is the last character of a resource ARN segment, it can expand to match beyond the colon boundaries",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:*"))}, want: Allowed},
		ruleCase{name: "resource/short-arn-without-star", rule: pResource + "You specify a resource using an ARN (a partial ARN without a wildcard names nothing)",
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3"))}, want: ImplicitDeny},
		ruleCase{name: "resource/region-segment", rule: pResource + "each ARN segment (the parts separated by colons) is matched in turn: the region segment must match",
			identity: []string{doc(allowStmt("sqs:SendMessage", "arn:aws:sqs:us-east-2:111122223333:queue1"))}, action: "sqs:SendMessage", arn: "arn:aws:sqs:us-west-2:111122223333:queue1", want: ImplicitDeny},
		ruleCase{name: "resource/list-is-or", rule: pResource + "You can specify multiple resources",
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"Action":"s3:GetObject"`, `"Resource":["arn:aws:s3:::other/*","arn:aws:s3:::bucket/*"]`))}, want: Allowed},
		ruleCase{name: "resource/wildcard-only-action", rule: pResource + "Some services do not let you specify actions for individual resources ... you use the wildcard * in the Resource element",
			identity: []string{doc(allowStmt("s3:ListAllMyBuckets", "arn:aws:s3:::*"))}, action: "s3:ListAllMyBuckets", arn: "*", want: ImplicitDeny},
		ruleCase{name: "resource/wildcard-only-action-star", rule: pResource + "Some services do not let you specify actions for individual resources ... you use the wildcard * in the Resource element",
			identity: []string{doc(allowStmt("s3:ListAllMyBuckets", "*"))}, action: "s3:ListAllMyBuckets", arn: "*", want: Allowed},
		ruleCase{name: "notresource/allow-other", rule: pNotRes + "NotResource ... matches every resource except those specified",
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"Action":"s3:GetObject"`, `"NotResource":"arn:aws:s3:::secret/*"`))}, want: Allowed},
		ruleCase{name: "notresource/allow-listed-not-granted", rule: pNotRes + "the statement does not apply to the listed resources",
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"Action":"s3:GetObject"`, `"NotResource":"arn:aws:s3:::bucket/*"`))}, want: ImplicitDeny},
		ruleCase{name: "notresource/deny-other", rule: pNotRes + "NotResource with Deny denies every resource not listed",
			identity: []string{doc(get, stmt(`"Effect":"Deny"`, `"Action":"s3:*"`, `"NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]`))}, want: ExplicitDeny},
		ruleCase{name: "notresource/deny-listed-spared", rule: pNotRes + "NotResource with Deny does not deny the listed resources",
			identity: []string{doc(get, stmt(`"Effect":"Deny"`, `"Action":"s3:*"`, `"NotResource":"arn:aws:s3:::bucket/*"`))}, want: Allowed},
	)

	// --- Evaluation within one account ----------------------------------
	denyAll := doc(denyStmt("s3:*", "*"))
	add(
		ruleCase{name: "eval/no-policies", rule: ruleImplicit, want: ImplicitDeny},
		ruleCase{name: "eval/identity-allow", rule: pEval + "If only identity-based policies apply to a request, then AWS checks all of those policies for at least one Allow",
			identity: []string{doc(get)}, want: Allowed},
		ruleCase{name: "eval/any-identity-policy", rule: pEval + "If any statement in any applicable identity-based policies allows the requested action, the code continues",
			identity: []string{doc(allowStmt("ec2:*", "*")), doc(get)}, want: Allowed},
		ruleCase{name: "eval/identity-deny-wins", rule: ruleDenyWins,
			identity: []string{doc(get), denyAll}, want: ExplicitDeny},
		ruleCase{name: "eval/deny-wins-in-same-policy", rule: ruleDenyWins,
			identity: []string{doc(get, denyStmt("s3:GetObject", "arn:aws:s3:::bucket/*"))}, want: ExplicitDeny},
		ruleCase{name: "eval/resource-deny-wins-over-identity", rule: pEval + "An explicit deny in either of these policies overrides the allow",
			identity: []string{doc(get)}, resource: bucketPolicy("Deny", `{"AWS":"`+alice+`"}`, "s3:*"), want: ExplicitDeny},
		ruleCase{name: "eval/resource-allow-alone", rule: pEval + "If either the identity-based policy or the resource-based policy within the same account allows the request and the other doesn't, the request is still allowed",
			resource: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "eval/resource-allow-other-action", rule: ruleImplicit,
			resource: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`, "s3:PutObject"), want: ImplicitDeny},
		ruleCase{name: "eval/resource-allow-other-user", rule: pPrincipal + "Use the Principal element in a resource-based JSON policy to specify the principal that is allowed or denied access",
			resource: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111122223333:user/mallory"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "eval/deny-in-identity-beats-resource-allow", rule: ruleDenyWins,
			identity: []string{denyAll}, resource: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`, "s3:*"), want: ExplicitDeny},
		ruleCase{name: "eval/root-user-full-access", rule: pEval + "all requests are implicitly denied with the exception of the AWS account root user, which has full access",
			principal: "arn:aws:iam::111122223333:root", want: Allowed},
		ruleCase{name: "eval/root-user-explicit-deny", rule: ruleDenyWins + " (the root user can be named in a resource-based policy)",
			principal: "arn:aws:iam::111122223333:root", resource: bucketPolicy("Deny", `{"AWS":"111122223333"}`, "s3:*"), want: ExplicitDeny},
		ruleCase{name: "eval/resource-account-from-flag", rule: pSimulation + "the resource owner is the account that owns the resource (S3 ARNs carry no account)",
			identity: []string{doc(get)}, resAcct: otherAccount, want: ImplicitDeny},
		ruleCase{name: "eval/resource-account-defaults-to-caller", rule: pSimulation + "If ResourceOwner is not specified, the account of the caller is assumed",
			identity: []string{doc(get)}, want: Allowed},
		ruleCase{name: "eval/resource-account-from-arn", rule: pCross + "The requested resource exists in the trusting account (the account in the resource's ARN)",
			identity: []string{doc(allowStmt("sqs:SendMessage", "*"))}, action: "sqs:SendMessage", arn: "arn:aws:sqs:us-east-1:444455556666:q", resAcct: account, want: ImplicitDeny},
	)

	// --- Permissions boundaries and session policies --------------------
	boundaryS3 := doc(allowStmt("s3:*", "*"))
	boundaryEC2 := doc(allowStmt("ec2:*", "*"))
	sessionGet := doc(get)
	sessionEC2 := doc(allowStmt("ec2:*", "*"))
	add(
		ruleCase{name: "boundary/intersection-allows", rule: pBoundary + "An entity's permissions boundary allows it to perform only the actions that are allowed by both its identity-based policies and its permissions boundaries",
			identity: []string{doc(get)}, boundary: boundaryS3, want: Allowed},
		ruleCase{name: "boundary/limits-identity", rule: pBoundary + "the resulting permissions are the intersection of the two categories",
			identity: []string{doc(get)}, boundary: boundaryEC2, want: ImplicitDeny},
		ruleCase{name: "boundary/does-not-grant", rule: pBoundary + "A permissions boundary ... does not grant permissions on its own",
			boundary: boundaryS3, want: ImplicitDeny},
		ruleCase{name: "boundary/deny-wins", rule: pBoundary + "An explicit deny in either of these policies overrides the allow",
			identity: []string{doc(get)}, boundary: doc(boundaryAllowAndDeny()), want: ExplicitDeny},
		ruleCase{name: "boundary/resource-policy-user-not-limited", rule: pBoundary + "Within the same account, resource-based policies that grant permissions to an IAM user ARN (that is not a federated user session) are not limited by an implicit deny in an identity-based policy or permissions boundary",
			boundary: boundaryEC2, resource: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "boundary/resource-policy-role-limited", rule: pBoundary + "Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary or session policy",
			principal: aliceSession, boundary: boundaryEC2, resource: bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "boundary/resource-policy-role-within-boundary", rule: pBoundary + "Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary (not by the identity-based policy)",
			principal: aliceSession, boundary: boundaryS3, resource: bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "boundary/resource-policy-session-not-limited", rule: pBoundary + "resource-based policies that grant permissions to an IAM role session ARN ... are not limited by an implicit deny in an identity-based policy, a permissions boundary, or session policy",
			principal: aliceSession, boundary: boundaryEC2, session: sessionEC2, resource: bucketPolicy("Allow", `{"AWS":"`+aliceSession+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "boundary/resource-policy-role-no-boundary", rule: pEval + "an explicit allow in an identity-based or resource-based policy overrides this default (a role ARN grant needs no identity-based allow)",
			principal: aliceSession, resource: bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "boundary/resource-policy-star-not-limited", rule: pPrincipal + "Identity-based policy types, such as permissions boundaries or session policies, do not limit permissions granted using the aws:PrincipalArn condition key with a wildcard(*) in the Principal element",
			principal: aliceSession, boundary: boundaryEC2, session: sessionEC2,
			resource: doc(stmt(`"Effect":"Allow"`, `"Principal":"*"`, `"Action":"s3:GetObject"`, `"Resource":"*"`, `"Condition":{"ArnEquals":{"aws:PrincipalArn":"`+roleARN+`"}}`)), want: Allowed},
		ruleCase{name: "boundary/notprincipal-deny-always-denies", rule: pBoundary + "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a permissions boundary policy attached, regardless of the values specified in the NotPrincipal element",
			identity: []string{doc(get)}, boundary: boundaryS3,
			resource: doc(stmt(`"Effect":"Deny"`, `"NotPrincipal":{"AWS":["`+alice+`","arn:aws:iam::111122223333:root"]}`, `"Action":"s3:*"`, `"Resource":"*"`)), want: ExplicitDeny},
		ruleCase{name: "session/intersection-allows", rule: pSession + "The permissions for a session are the intersection of the identity-based policies for the IAM entity ... and the session policies",
			principal: aliceSession, identity: []string{doc(get)}, session: sessionGet, want: Allowed},
		ruleCase{name: "session/limits-identity", rule: pSession + "You cannot use session policies to grant more permissions than those allowed by the identity-based policy; the session policy limits them",
			principal: aliceSession, identity: []string{doc(get)}, session: sessionEC2, want: ImplicitDeny},
		ruleCase{name: "session/does-not-grant", rule: pSession + "Session policies limit the permissions for the role's temporary credential session (they do not grant)",
			principal: aliceSession, session: sessionGet, want: ImplicitDeny},
		ruleCase{name: "session/deny-wins", rule: ruleDenyWins + " (session policies are evaluated for explicit denies too)",
			principal: aliceSession, identity: []string{doc(get)}, session: doc(get, denyStmt("s3:GetObject", "*")), want: ExplicitDeny},
		ruleCase{name: "session/with-boundary-all-three", rule: pBoundary + "The effective permissions for this set of policy types are the intersection of all three policy types",
			principal: aliceSession, identity: []string{doc(get)}, session: sessionGet, boundary: boundaryEC2, want: ImplicitDeny},
		ruleCase{name: "session/resource-policy-role-limited", rule: pSession + "A resource-based policy can specify the ARN of the user or role as a principal ... The session policy limits the total permissions granted by the resource-based policy and the identity-based policy",
			principal: aliceSession, session: sessionEC2, resource: bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "session/resource-policy-role-within-session", rule: pSession + "The resulting session's permissions are the intersection of the session policies and the resource-based policies plus the intersection of the session policies and identity-based policies",
			principal: aliceSession, session: sessionGet, resource: bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "session/resource-policy-session-not-limited", rule: pSession + "A resource-based policy can specify the ARN of the session as a principal ... The resource-based policy permissions are not limited by the session policy",
			principal: aliceSession, session: sessionEC2, resource: bucketPolicy("Allow", `{"AWS":"`+aliceSession+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "session/federated-user-needs-session-policy", rule: pEval + "If there is no session policy, the code checks whether the principal is a role session ... Otherwise, the request is implicitly denied",
			principal: carolFed, identity: []string{doc(get)}, want: ImplicitDeny},
		ruleCase{name: "session/federated-user-intersection", rule: pSession + "The resulting session's permissions are the intersection of the identity-based policy and the session policy (GetFederationToken)",
			principal: carolFed, identity: []string{doc(get)}, session: sessionGet, want: Allowed},
		ruleCase{name: "session/federated-session-arn-direct", rule: pEval + "Within the same account, resource-based policies that grant permissions to a federated user ARN grant permissions directly to the session ... not limited by an implicit deny",
			principal: carolFed, session: sessionEC2, resource: bucketPolicy("Allow", `{"AWS":"`+carolFed+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "session/federated-parent-user-limited", rule: pEval + "if a resource-based policy grants permission to the ARN of the IAM user who federated, then requests made by the federated user during the session are limited by an implicit deny in a permission boundary or session policy",
			principal: carolFed, userARN: "arn:aws:iam::111122223333:user/carol", session: sessionEC2, resource: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111122223333:user/carol"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "session/federated-parent-user-within-session", rule: pEval + "a grant to the IAM user who federated is limited by the session policy, and allowed within it",
			principal: carolFed, userARN: "arn:aws:iam::111122223333:user/carol", session: sessionGet, resource: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111122223333:user/carol"}`, "s3:GetObject"), want: Allowed},
	)

	// --- Principals in resource-based policies --------------------------
	add(
		ruleCase{name: "principal/account-id-same-account-delegates", rule: pPrincipal + "The account ARN and the shortened account ID behave the same way. Both delegate permissions to the account (the account's policies must still allow)",
			resource: bucketPolicy("Allow", `{"AWS":"111122223333"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "principal/account-root-same-account-with-identity", rule: pPrincipal + "Using the account ARN in the Principal element does not limit permissions to only the root user of the account",
			identity: []string{doc(get)}, resource: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111122223333:root"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "principal/account-deny-covers-users", rule: pPrincipal + "an account principal stands for every principal in the account, so a Deny naming it applies to them",
			identity: []string{doc(get)}, resource: bucketPolicy("Deny", `{"AWS":"arn:aws:iam::111122223333:root"}`, "s3:GetObject"), want: ExplicitDeny},
		ruleCase{name: "principal/star-same-account", rule: pPrincipal + "For resource-based policies, using a wildcard (*) with an Allow effect grants access to all users ... For IAM users and role principals within your account, no other permissions are required",
			resource: bucketPolicy("Allow", `"*"`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "principal/aws-star-equivalent", rule: pPrincipal + `"Principal": "*" and "Principal" : { "AWS" : "*" } are equivalent`,
			resource: bucketPolicy("Allow", `{"AWS":"*"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "principal/star-cross-account-needs-identity", rule: pPrincipal + "For principals in other accounts, they must also have identity-based permissions in their account that allow them to access your resource",
			principal: bob, resAcct: account, resource: bucketPolicy("Allow", `"*"`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "principal/star-anonymous", rule: pPrincipal + "using a wildcard (*) with an Allow effect grants access to all users, including anonymous users (public access)",
			principal: "*", resAcct: account, resource: bucketPolicy("Allow", `"*"`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "principal/anonymous-not-account", rule: pPrincipal + "an account principal names the account's identities; an anonymous caller is none of them",
			principal: "*", resAcct: account, resource: bucketPolicy("Allow", `{"AWS":"111122223333"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "principal/role-arn-matches-session", rule: pPrincipal + "When you specify a role principal in a resource-based policy, the effective permissions for the principal are limited by any policy types that limit permissions for the role",
			principal: aliceSession, resource: bucketPolicy("Allow", `{"AWS":"`+roleARN+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "principal/session-arn", rule: pPrincipal + `"Principal": { "AWS": "arn:aws:sts::AWS-account-ID:assumed-role/role-name/role-session-name" }`,
			principal: aliceSession, resource: bucketPolicy("Allow", `{"AWS":"`+aliceSession+`"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "principal/other-session-name", rule: pPrincipal + "When you specify an assumed-role session in a Principal element ... Principals must always name a specific session",
			principal: aliceSession, resource: bucketPolicy("Allow", `{"AWS":"arn:aws:sts::111122223333:assumed-role/S3Access/other"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "principal/user-name-case-sensitive", rule: pPrincipal + "In a Principal element, the user name part of the Amazon Resource Name (ARN) is case sensitive",
			resource: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111122223333:user/Alice"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "principal/list-is-or", rule: pPrincipal + "When you specify more than one principal in an element, you grant permissions to each principal. This is a logical OR",
			resource: bucketPolicy("Allow", `{"AWS":["arn:aws:iam::111122223333:user/zed","`+alice+`"]}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "principal/service", rule: pPrincipal + "You can specify AWS services in the Principal element of a resource-based policy",
			principal: "cloudtrail.amazonaws.com", resAcct: account, resource: bucketPolicy("Allow", `{"Service":"cloudtrail.amazonaws.com"}`, "s3:PutObject"), action: "s3:PutObject", want: Allowed},
		ruleCase{name: "principal/other-service", rule: pPrincipal + "The service principal is defined by the service; another service is not named",
			principal: "config.amazonaws.com", resAcct: account, resource: bucketPolicy("Allow", `{"Service":"cloudtrail.amazonaws.com"}`, "s3:PutObject"), action: "s3:PutObject", want: ImplicitDeny},
		ruleCase{name: "principal/identity-policy-cannot-name-service", rule: pPrincipal + "You cannot use the Principal element in an identity-based policy; a service is granted only by a resource-based policy",
			principal: "cloudtrail.amazonaws.com", resAcct: account, identity: []string{doc(allowStmt("s3:*", "*"))}, action: "s3:PutObject", want: ImplicitDeny},
	)

	// --- NotPrincipal --------------------------------------------------
	notPrincipalDeny := func(ids ...string) string {
		list := ""
		for i, id := range ids {
			if i > 0 {
				list += ","
			}
			list += `"` + id + `"`
		}
		return doc(stmt(`"Sid":"DenyAllBut"`, `"Effect":"Deny"`, `"NotPrincipal":{"AWS":[`+list+`]}`, `"Action":"s3:*"`, `"Resource":"*"`))
	}
	add(
		ruleCase{name: "notprincipal/excepted-user", rule: pNotPrinc + "all principals except the user named Bob in AWS account 444455556666 are explicitly denied access ... the NotPrincipal element contains the ARN of both the user Bob and the AWS account",
			principal: bob, resAcct: account, identity: []string{doc(get)},
			resource: doc(stmt(`"Effect":"Allow"`, `"Principal":{"AWS":"`+bob+`"}`, `"Action":"s3:GetObject"`, `"Resource":"*"`),
				stmt(`"Effect":"Deny"`, `"NotPrincipal":{"AWS":["`+bob+`","arn:aws:iam::444455556666:root"]}`, `"Action":"s3:*"`, `"Resource":"*"`)), want: Allowed},
		ruleCase{name: "notprincipal/other-user-denied", rule: pNotPrinc + "the actions specified in the policy statement are explicitly denied to all principals except for the ones specified",
			identity: []string{doc(get)}, resource: notPrincipalDeny(bob, "arn:aws:iam::444455556666:root"), want: ExplicitDeny},
		ruleCase{name: "notprincipal/user-without-account-denied", rule: pNotPrinc + "If the NotPrincipal element contained only Bob's ARN, the effect of the policy might be to explicitly deny access to the AWS account that contains the user Bob",
			principal: bob, resAcct: account, identity: []string{doc(get)}, resource: notPrincipalDeny(bob), want: ExplicitDeny},
		ruleCase{name: "notprincipal/session-role-account-excepted", rule: pNotPrinc + "the NotPrincipal element contains the ARN of the assumed-role user, the role, and the AWS account that the role belongs to",
			principal: aliceSession, identity: []string{doc(get)}, resource: notPrincipalDeny(aliceSession, roleARN, "arn:aws:iam::111122223333:root"), want: Allowed},
		ruleCase{name: "notprincipal/session-without-role-denied", rule: pNotPrinc + "If the NotPrincipal element was missing the ARN of the role, the effect of the policy might be to explicitly deny access to the role",
			principal: aliceSession, identity: []string{doc(get)}, resource: notPrincipalDeny(aliceSession, "arn:aws:iam::111122223333:root"), want: ExplicitDeny},
		ruleCase{name: "notprincipal/anonymous-denied", rule: pNotPrinc + "Deny with NotPrincipal denies every principal not listed, anonymous users included",
			principal: "*", resAcct: account, resource: doc(stmt(`"Effect":"Allow"`, `"Principal":"*"`, `"Action":"s3:GetObject"`, `"Resource":"*"`), stmt(`"Effect":"Deny"`, `"NotPrincipal":{"AWS":"111122223333"}`, `"Action":"s3:*"`, `"Resource":"*"`)), want: ExplicitDeny},
	)

	// --- Cross-account -------------------------------------------------
	crossBucket := bucketPolicy("Allow", `{"AWS":"`+bob+`"}`, "s3:GetObject")
	add(
		ruleCase{name: "cross/both-allow", rule: pCross + "AWS allows the request only if both account policy evaluations allow the request",
			principal: bob, resAcct: account, identity: []string{doc(get)}, resource: crossBucket, want: Allowed},
		ruleCase{name: "cross/identity-only", rule: pCross + "the resource-based policy in AccountB must allow the requester in AccountA to access the resource",
			principal: bob, resAcct: account, identity: []string{doc(get)}, want: ImplicitDeny},
		ruleCase{name: "cross/resource-only", rule: pCross + "the requester in the trusted AccountA must have an identity-based policy ... That policy must allow them to make a request to the resource",
			principal: bob, resAcct: account, resource: crossBucket, want: ImplicitDeny},
		ruleCase{name: "cross/account-principal", rule: pCross + "You can specify the entire account or its IAM users ... as the principal",
			principal: bob, resAcct: account, identity: []string{doc(get)}, resource: bucketPolicy("Allow", `{"AWS":"444455556666"}`, "s3:GetObject"), want: Allowed},
		ruleCase{name: "cross/boundary-limits", rule: pCross + "When AWS evaluates this account, it checks the identity-based policy and any policies that can limit an identity-based policy",
			principal: bob, resAcct: account, identity: []string{doc(get)}, boundary: boundaryEC2, resource: crossBucket, want: ImplicitDeny},
		ruleCase{name: "cross/resource-deny", rule: pCross + "AWS evaluates the request in the trusting account and the trusted account; an explicit deny in either decides",
			principal: bob, resAcct: account, identity: []string{doc(get)}, resource: bucketPolicy("Deny", `{"AWS":"444455556666"}`, "s3:*"), want: ExplicitDeny},
		ruleCase{name: "cross/session-arn-still-needs-identity", rule: pCross + "You must also attach an identity-based policy to the identity that acts as the principal in the request",
			principal: "arn:aws:sts::444455556666:assumed-role/Auditor/s1", resAcct: account, resource: bucketPolicy("Allow", `{"AWS":"arn:aws:sts::444455556666:assumed-role/Auditor/s1"}`, "s3:GetObject"), want: ImplicitDeny},
		ruleCase{name: "cross/other-account-not-named", rule: pCross + "The resource-based policy in the trusting account must specify the principal of the trusted account",
			principal: bob, resAcct: account, identity: []string{doc(get)}, resource: bucketPolicy("Allow", `{"AWS":"999988887777"}`, "s3:GetObject"), want: ImplicitDeny},
	)

	cases = append(cases, conditionCases()...)
	cases = append(cases, variableCases()...)
	return cases
}

func boundaryAllowAndDeny() string {
	return allowStmt("s3:*", "*") + "," + denyStmt("s3:GetObject", "*")
}

func get() string { return allowStmt("s3:GetObject", "*") }

func (c ruleCase) run(t *testing.T) {
	t.Helper()
	set := PolicySet{}
	for i, d := range c.identity {
		set.Identity = append(set.Identity, mustParse(t, fmt.Sprintf("identity%d.json", i), d))
	}
	if c.resource != "" {
		set.Resource = mustParse(t, "resource.json", c.resource)
	}
	if c.boundary != "" {
		set.Boundary = mustParse(t, "boundary.json", c.boundary)
	}
	if c.session != "" {
		set.Session = []*Policy{mustParse(t, "session.json", c.session)}
	}
	principal := c.principal
	if principal == "" {
		principal = alice
	}
	req := &Request{Principal: mustPrincipal(t, principal), Action: c.action, Resource: c.arn, ResourceAccount: c.resAcct, Context: NewContext()}
	req.Principal.UserARN = c.userARN
	if req.Action == "" {
		req.Action = "s3:GetObject"
	}
	if req.Resource == "" {
		req.Resource = "arn:aws:s3:::bucket/key"
	}
	for _, f := range c.ctx {
		e, err := ParseContextFlag(f)
		if err != nil {
			t.Fatal(err)
		}
		req.Context.Add(e)
	}
	got := set.Evaluate(req)
	if got.Decision != c.want {
		t.Fatalf("rule: %s\ngot %s, want %s", c.rule, describe(got), c.want)
	}
	// The explanation must agree with the decision.
	switch got.Decision {
	case ExplicitDeny:
		if len(got.Matched) == 0 {
			t.Fatalf("explicitDeny with no matched statement")
		}
		for _, m := range got.Matched {
			if m.Effect != Deny {
				t.Errorf("explicitDeny reports an %s statement", m.Effect)
			}
		}
	case ImplicitDeny:
		if len(got.Matched) != 0 {
			t.Errorf("implicitDeny reports statements: %v", got.Matched)
		}
	case Allowed:
		for _, m := range got.Matched {
			if m.Effect != Allow {
				t.Errorf("allowed reports a %s statement", m.Effect)
			}
		}
	}
}

func TestRules(t *testing.T) {
	for _, c := range ruleCases() {
		t.Run(c.name, c.run)
	}
}

// TestRuleTableSize keeps the table at 150 cases or more, each citing its
// rule, with unique names.
func TestRuleTableSize(t *testing.T) {
	cases := ruleCases()
	if len(cases) < 150 {
		t.Errorf("the rule table has %d cases, want at least 150", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if len(c.rule) < len("IAM User Guide, x: y") {
			t.Errorf("case %s cites no documented rule", c.name)
		}
		if seen[c.name] {
			t.Errorf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
	}
	t.Logf("%d rule cases", len(cases))
}
