package policy

import (
	"strings"
)

func conditionCases() []ruleCase {
	var cases []ruleCase
	// c adds a case: an identity policy allowing s3:GetObject under one
	// condition, and a request context.
	c := func(name, rule, op, key, values string, ctx []string, want Decision) {
		cases = append(cases, ruleCase{name: "condition/" + name, rule: rule, identity: []string{allowIf(op, key, values)}, ctx: ctx, want: want})
	}
	ctx := func(kv ...string) []string { return kv }

	// String operators.
	c("StringEquals/match", pOps+"StringEquals: Exact matching, case sensitive", "StringEquals", "aws:PrincipalTag/job", `"admin"`, ctx("aws:PrincipalTag/job=string:admin"), Allowed)
	c("StringEquals/case", pOps+"StringEquals: Exact matching, case sensitive", "StringEquals", "aws:PrincipalTag/job", `"admin"`, ctx("aws:PrincipalTag/job=string:Admin"), ImplicitDeny)
	c("StringEquals/missing", ruleMissingKeyFalse, "StringEquals", "aws:PrincipalTag/job", `"admin"`, nil, ImplicitDeny)
	c("StringEquals/star-is-literal", pOps+"StringEquals: Exact matching (wildcards need StringLike: You must specify wildcards to achieve partial string matches with StringLike)", "StringEquals", "s3:prefix", `"home/*"`, ctx("s3:prefix=string:home/alice"), ImplicitDeny)
	c("StringEquals/values-or", ruleValuesOR, "StringEquals", "aws:PrincipalTag/job", `["dev","admin"]`, ctx("aws:PrincipalTag/job=string:admin"), Allowed)
	c("StringEquals/number-value", "IAM User Guide, Grammar: <condition_value> = (\"string\" | \"number\" | \"Boolean\")", "StringEquals", "s3:max-keys", `10`, ctx("s3:max-keys=string:10"), Allowed)
	c("StringNotEquals/different", pOps+"StringNotEquals: Negated matching", "StringNotEquals", "aws:RequestedRegion", `"us-east-1"`, ctx("aws:RequestedRegion=string:eu-west-1"), Allowed)
	c("StringNotEquals/equal", pOps+"StringNotEquals: Negated matching", "StringNotEquals", "aws:RequestedRegion", `"us-east-1"`, ctx("aws:RequestedRegion=string:us-east-1"), ImplicitDeny)
	c("StringNotEquals/missing", ruleMissingKeyNegTrue, "StringNotEquals", "aws:RequestedRegion", `"us-east-1"`, nil, Allowed)
	c("StringNotEquals/values-and", ruleNegatedValuesAND, "StringNotEquals", "aws:RequestedRegion", `["us-east-1","eu-west-1"]`, ctx("aws:RequestedRegion=string:eu-west-1"), ImplicitDeny)
	c("StringNotEquals/values-and-none", ruleNegatedValuesAND, "StringNotEquals", "aws:RequestedRegion", `["us-east-1","eu-west-1"]`, ctx("aws:RequestedRegion=string:ap-south-1"), Allowed)
	c("StringEqualsIgnoreCase/match", pOps+"StringEqualsIgnoreCase: Exact matching, ignoring case", "StringEqualsIgnoreCase", "aws:username", `"johndoe"`, ctx("aws:username=string:JohnDoe"), Allowed)
	c("StringEqualsIgnoreCase/differ", pOps+"StringEqualsIgnoreCase: Exact matching, ignoring case", "StringEqualsIgnoreCase", "aws:username", `"johndoe"`, ctx("aws:username=string:janedoe"), ImplicitDeny)
	c("StringEqualsIgnoreCase/unicode", pOps+"StringEqualsIgnoreCase: Exact matching, ignoring case", "StringEqualsIgnoreCase", "aws:PrincipalTag/team", `"ÄRGER"`, ctx("aws:PrincipalTag/team=string:ärger"), Allowed)
	c("StringNotEqualsIgnoreCase/same", pOps+"StringNotEqualsIgnoreCase: Negated matching, ignoring case", "StringNotEqualsIgnoreCase", "aws:username", `"johndoe"`, ctx("aws:username=string:JOHNDOE"), ImplicitDeny)
	c("StringNotEqualsIgnoreCase/differ", pOps+"StringNotEqualsIgnoreCase: Negated matching, ignoring case", "StringNotEqualsIgnoreCase", "aws:username", `"johndoe"`, ctx("aws:username=string:jane"), Allowed)
	c("StringLike/star", pOps+"StringLike: The values can include multi-character match wildcards (*) ... anywhere in the string", "StringLike", "s3:prefix", `"home/*"`, ctx("s3:prefix=string:home/alice/docs"), Allowed)
	c("StringLike/question", pOps+"StringLike: ... and single-character match wildcards (?) anywhere in the string", "StringLike", "s3:prefix", `"v?"`, ctx("s3:prefix=string:v2"), Allowed)
	c("StringLike/no-match", pOps+"StringLike: Case-sensitive matching", "StringLike", "s3:prefix", `"home/*"`, ctx("s3:prefix=string:Home/alice"), ImplicitDeny)
	c("StringLike/empty-value", pOps+"StringLike with the value \"\" matches an empty string (the home-directory console example lists \"\")", "StringLike", "s3:prefix", `["","home/"]`, ctx("s3:prefix=string:"), Allowed)
	c("StringNotLike/match", pOps+"StringNotLike: Negated case-sensitive matching", "StringNotLike", "s3:prefix", `"tmp/*"`, ctx("s3:prefix=string:tmp/x"), ImplicitDeny)
	c("StringNotLike/no-match", pOps+"StringNotLike: Negated case-sensitive matching", "StringNotLike", "s3:prefix", `"tmp/*"`, ctx("s3:prefix=string:home/x"), Allowed)
	c("StringNotLike/missing", ruleMissingKeyNegTrue, "StringNotLike", "s3:prefix", `"tmp/*"`, nil, Allowed)
	c("key-name-case-insensitive", pCond+"Condition key names are not case-sensitive. For example, including the aws:SourceIP condition key is equivalent to testing for AWS:SourceIp", "StringEquals", "AWS:PRINCIPALTAG/JOB", `"admin"`, ctx("aws:principaltag/job=string:admin"), Allowed)
	c("value-case-sensitive", pCond+"Case-sensitivity of condition key values depends on the condition operator that you use", "StringEquals", "aws:username", `"johndoe"`, ctx("aws:username=string:JohnDoe"), ImplicitDeny)
	c("operator-name-case", pOps+"condition operator names are read regardless of case (stringequals is StringEquals)", "stringequals", "aws:username", `"alice"`, ctx("aws:username=string:alice"), Allowed)

	// Numeric operators.
	num := func(op, v string, want Decision) {
		c(op+"/"+v, pOps+op+": comparing a key to an integer or decimal value (request value "+v+", policy 10)", op, "s3:max-keys", `"10"`, ctx("s3:max-keys=numeric:"+v), want)
	}
	num("NumericEquals", "10", Allowed)
	num("NumericEquals", "10.0", Allowed)
	num("NumericEquals", "11", ImplicitDeny)
	num("NumericNotEquals", "11", Allowed)
	num("NumericNotEquals", "10", ImplicitDeny)
	num("NumericLessThan", "9", Allowed)
	num("NumericLessThan", "10", ImplicitDeny)
	num("NumericLessThanEquals", "10", Allowed)
	num("NumericLessThanEquals", "10.5", ImplicitDeny)
	num("NumericGreaterThan", "10.01", Allowed)
	num("NumericGreaterThan", "-11", ImplicitDeny)
	num("NumericGreaterThanEquals", "10", Allowed)
	num("NumericGreaterThanEquals", "9.999", ImplicitDeny)
	c("NumericEquals/json-number", pOps+"NumericLessThanEquals ... {\"s3:max-keys\": \"10\"} (a JSON number is the same value)", "NumericEquals", "s3:max-keys", `10`, ctx("s3:max-keys=numeric:10"), Allowed)
	c("NumericLessThan/missing", ruleMissingKeyFalse, "NumericLessThan", "s3:max-keys", `"10"`, nil, ImplicitDeny)
	c("NumericNotEquals/missing", ruleMissingKeyNegTrue, "NumericNotEquals", "s3:max-keys", `"10"`, nil, Allowed)
	c("NumericEquals/not-a-number", pOps+"Numeric condition operators compare a key to an integer or decimal value (a request value that is no number does not match)", "NumericEquals", "s3:max-keys", `"10"`, ctx("s3:max-keys=string:ten"), ImplicitDeny)

	// Date operators.
	date := func(name, op, policy, request string, want Decision) {
		c(op+"/"+name, pOps+op+": You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time", op, "aws:CurrentTime", `"`+policy+`"`, ctx("aws:CurrentTime=date:"+request), want)
	}
	date("iso-equal", "DateEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", Allowed)
	date("iso-vs-epoch", "DateEquals", "2020-01-01T00:00:00Z", "1577836800", Allowed)
	date("epoch-vs-iso", "DateEquals", "1577836800", "2020-01-01T00:00:00Z", Allowed)
	date("offset", "DateEquals", "2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00Z", Allowed)
	date("date-only", "DateEquals", "2020-01-01", "2020-01-01T00:00:00Z", Allowed)
	date("differ", "DateEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", ImplicitDeny)
	date("not-equal", "DateNotEquals", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z", Allowed)
	date("before", "DateLessThan", "2020-06-30T00:00:00Z", "2020-06-29T23:59:59Z", Allowed)
	date("not-before", "DateLessThan", "2020-06-30T00:00:00Z", "2020-06-30T00:00:00Z", ImplicitDeny)
	date("at-or-before", "DateLessThanEquals", "2020-06-30T00:00:00Z", "2020-06-30T00:00:00Z", Allowed)
	date("after", "DateGreaterThan", "2020-01-01T00:00:01Z", "2020-01-02T00:00:00Z", Allowed)
	date("not-after", "DateGreaterThan", "2020-01-01T00:00:01Z", "2019-12-31T00:00:00Z", ImplicitDeny)
	date("at-or-after", "DateGreaterThanEquals", "2020-01-01T00:00:01Z", "2020-01-01T00:00:01Z", Allowed)
	date("fraction", "DateGreaterThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.5Z", Allowed)
	c("DateGreaterThan/missing-token-issue-time", pOps+"The aws:TokenIssueTime key is present in the request context only when the principal uses temporary credentials ... if an IAM user attempts to view or edit an access key, the request is denied", "DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, nil, ImplicitDeny)
	c("DateNotEquals/missing", ruleMissingKeyNegTrue, "DateNotEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, nil, Allowed)

	// Bool.
	c("Bool/true", pOps+"Bool: Boolean matching", "Bool", "aws:SecureTransport", `"true"`, ctx("aws:SecureTransport=boolean:true"), Allowed)
	c("Bool/false", pOps+"Bool: Boolean matching", "Bool", "aws:SecureTransport", `"true"`, ctx("aws:SecureTransport=boolean:false"), ImplicitDeny)
	c("Bool/json-boolean", "IAM User Guide, Grammar: <condition_value> = (\"string\" | \"number\" | \"Boolean\")", "Bool", "aws:SecureTransport", `true`, ctx("aws:SecureTransport=boolean:true"), Allowed)
	c("Bool/case", pOps+"Bool compares a key to \"true\" or \"false\" (in any case)", "Bool", "aws:SecureTransport", `"TRUE"`, ctx("aws:SecureTransport=string:True"), Allowed)
	c("Bool/missing", ruleMissingKeyFalse, "Bool", "aws:MultiFactorAuthPresent", `"true"`, nil, ImplicitDeny)
	c("Bool/missing-false", pCond+"aws:MultiFactorAuthPresent ... Not present – If the requester made a request using their IAM user access keys ... the key is not present, and it won't match (even \"false\")", "Bool", "aws:MultiFactorAuthPresent", `"false"`, nil, ImplicitDeny)

	// Binary.
	c("BinaryEquals/match", pOps+"BinaryEquals ... compares the value of the specified key byte for byte against a base-64 encoded representation of the binary value in the policy", "BinaryEquals", "key", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, ctx("key=binary:QmluYXJ5VmFsdWVJbkJhc2U2NA=="), Allowed)
	c("BinaryEquals/differ", pOps+"BinaryEquals ... compares the value byte for byte", "BinaryEquals", "key", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, ctx("key=binary:AAEC"), ImplicitDeny)
	c("BinaryEquals/missing", ruleMissingKeyFalse, "BinaryEquals", "key", `"AAEC"`, nil, ImplicitDeny)

	// IP address.
	c("IpAddress/in-range", pOps+"IpAddress: The specified IP address or range (203.0.113.0/24)", "IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ctx("aws:SourceIp=ip:203.0.113.77"), Allowed)
	c("IpAddress/out-of-range", pOps+"IpAddress: The specified IP address or range", "IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ctx("aws:SourceIp=ip:203.0.114.1"), ImplicitDeny)
	c("IpAddress/default-32", pOps+"If you specify an IP address without the associated routing prefix, IAM uses the default prefix value of /32", "IpAddress", "aws:SourceIp", `"203.0.113.7"`, ctx("aws:SourceIp=ip:203.0.113.8"), ImplicitDeny)
	c("IpAddress/ipv6", pOps+"The value must be in the standard CIDR format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64)", "IpAddress", "aws:SourceIp", `["203.0.113.0/24","2001:DB8:1234:5678::/64"]`, ctx("aws:SourceIp=ip:2001:db8:1234:5678::abcd"), Allowed)
	c("IpAddress/ipv6-out", pOps+"IPv6 ranges use the standard CIDR format", "IpAddress", "aws:SourceIp", `"2001:DB8:1234:5678::/64"`, ctx("aws:SourceIp=ip:2001:db8:1234:5679::1"), ImplicitDeny)
	c("IpAddress/missing-vpc-endpoint", pOps+"The aws:SourceIp key is always present in the request context, except when the requester uses a VPC endpoint ... the condition returns false", "IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, nil, ImplicitDeny)
	c("NotIpAddress/outside", pOps+"NotIpAddress: All IP addresses except the specified IP address or range", "NotIpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ctx("aws:SourceIp=ip:198.51.100.1"), Allowed)
	c("NotIpAddress/inside", pOps+"NotIpAddress: All IP addresses except the specified IP address or range", "NotIpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ctx("aws:SourceIp=ip:203.0.113.1"), ImplicitDeny)

	// ARN operators.
	const topic = "arn:aws:sns:us-east-2:111122223333:MyTopic"
	c("ArnEquals/match", pOps+"ArnEquals, ArnLike: Case-sensitive matching of the ARN", "ArnEquals", "aws:SourceArn", `"`+topic+`"`, ctx("aws:SourceArn=arn:"+topic), Allowed)
	c("ArnEquals/wildcard", pOps+"The ArnEquals and ArnLike condition operators behave identically (each component can include * or ?)", "ArnEquals", "aws:SourceArn", `"arn:aws:sns:*:111122223333:*"`, ctx("aws:SourceArn=arn:"+topic), Allowed)
	c("ArnLike/match", pOps+"ArnLike: Each of the six colon-delimited components of the ARN is checked separately and each can include wildcards", "ArnLike", "aws:SourceArn", `"arn:aws:sns:us-*:111122223333:My*"`, ctx("aws:SourceArn=arn:"+topic), Allowed)
	c("ArnLike/case", pOps+"ArnLike: Case-sensitive matching of the ARN", "ArnLike", "aws:SourceArn", `"arn:aws:sns:*:111122223333:mytopic"`, ctx("aws:SourceArn=arn:"+topic), ImplicitDeny)
	c("ArnLike/components-separately", pOps+"With an ArnLike condition, which matches elements between colons, the match fails. The first asterisk matches only us-east-2", "ArnLike", "aws:SourceArn", `"arn:aws:someservice:*:111122223333:finance/*"`, ctx("aws:SourceArn=arn:arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"), ImplicitDeny)
	c("StringLike/same-value-matches", pOps+"With a StringLike condition, the match succeeds. The first asterisk matches us-east-2:999999999999:store/abc:", "StringLike", "aws:SourceArn", `"arn:aws:someservice:*:111122223333:finance/*"`, ctx("aws:SourceArn=string:arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"), Allowed)
	c("ArnNotEquals/other", pOps+"ArnNotEquals, ArnNotLike: Negated matching for ARN", "ArnNotEquals", "aws:SourceArn", `"`+topic+`"`, ctx("aws:SourceArn=arn:arn:aws:sns:us-east-2:111122223333:Other"), Allowed)
	c("ArnNotLike/same", pOps+"ArnNotEquals, ArnNotLike: Negated matching for ARN", "ArnNotLike", "aws:SourceArn", `"arn:aws:sns:*:*:*"`, ctx("aws:SourceArn=arn:"+topic), ImplicitDeny)
	c("ArnNotLike/missing", ruleMissingKeyNegTrue, "ArnNotLike", "aws:SourceArn", `"`+topic+`"`, nil, Allowed)
	c("ArnLike/missing", pOps+"The aws:SourceArn key is present in the request context only if a resource triggers a service ... If an IAM user attempts to perform this operation directly, the condition returns false", "ArnLike", "aws:SourceArn", `"`+topic+`"`, nil, ImplicitDeny)

	// Null.
	c("Null/true-absent", pOps+"Null: use true (the key doesn't exist — it is null)", "Null", "aws:TokenIssueTime", `"true"`, nil, Allowed)
	c("Null/true-present", pOps+"Null: true (the key doesn't exist)", "Null", "aws:TokenIssueTime", `"true"`, ctx("aws:TokenIssueTime=date:2020-01-01T00:00:00Z"), ImplicitDeny)
	c("Null/false-present", pOps+"Null: false (the key exists and its value is not null)", "Null", "aws:TokenIssueTime", `"false"`, ctx("aws:TokenIssueTime=date:2020-01-01T00:00:00Z"), Allowed)
	c("Null/false-absent", pOps+"Null: false (the key exists and its value is not null)", "Null", "aws:TokenIssueTime", `false`, nil, ImplicitDeny)

	// IfExists.
	c("IfExists/missing", ruleIfExists, "StringEqualsIfExists", "ec2:InstanceType", `["t1.*","t2.*"]`, nil, Allowed)
	c("IfExists/present-mismatch", pOps+"...IfExists: If the policy key is present in the context of the request, process the key as specified in the policy", "StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, ctx("ec2:InstanceType=string:c5.large"), ImplicitDeny)
	c("IfExists/present-match", pOps+"...IfExists: If the policy key is present ... process the key as specified", "StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, ctx("ec2:InstanceType=string:t2.micro"), Allowed)
	c("IfExists/numeric", ruleIfExists+" (any operator but Null)", "NumericLessThanIfExists", "s3:max-keys", `"10"`, nil, Allowed)
	c("IfExists/bool", ruleIfExists, "BoolIfExists", "aws:MultiFactorAuthPresent", `"true"`, nil, Allowed)
	c("IfExists/ip-present", pOps+"...IfExists: If the policy key is present ... process the key as specified", "IpAddressIfExists", "aws:SourceIp", `"203.0.113.0/24"`, ctx("aws:SourceIp=ip:10.0.0.1"), ImplicitDeny)

	// Set operators.
	c("ForAllValues/all", ruleForAll, "ForAllValues:StringEquals", "dynamodb:Attributes", `["ID","Message","Tags"]`, ctx("dynamodb:Attributes=string:Message,Tags"), Allowed)
	c("ForAllValues/one-not", ruleForAll+" (the request is denied if it includes UserName)", "ForAllValues:StringEquals", "dynamodb:Attributes", `["ID","Message","Tags"]`, ctx("dynamodb:Attributes=string:Message,UserName"), ImplicitDeny)
	c("ForAllValues/missing", ruleForAll, "ForAllValues:StringEquals", "dynamodb:Attributes", `["ID"]`, nil, Allowed)
	c("ForAllValues/empty-set", ruleForAll, "ForAllValues:StringEquals", "dynamodb:Attributes", `["ID"]`, ctx("dynamodb:Attributes=stringList:"), Allowed)
	c("ForAllValues/single-element-set", ruleForAll, "ForAllValues:StringLike", "aws:TagKeys", `["env*"]`, ctx("aws:TagKeys=stringList:environment"), Allowed)
	c("ForAnyValue/one", ruleForAny, "ForAnyValue:StringEquals", "dynamodb:Attributes", `["ID","PostDateTime"]`, ctx("dynamodb:Attributes=string:PostDateTime,Message"), Allowed)
	c("ForAnyValue/none", ruleForAny, "ForAnyValue:StringEquals", "dynamodb:Attributes", `["ID","PostDateTime"]`, ctx("dynamodb:Attributes=string:UserName,Message"), ImplicitDeny)
	c("ForAnyValue/missing", ruleForAny, "ForAnyValue:StringEquals", "dynamodb:Attributes", `["ID"]`, nil, ImplicitDeny)
	c("ForAnyValue/empty-set", ruleForAny, "ForAnyValue:StringEquals", "dynamodb:Attributes", `["ID"]`, ctx("dynamodb:Attributes=stringList:"), ImplicitDeny)
	c("ForAnyValue/IfExists-missing", ruleIfExists+" (with ForAnyValue too)", "ForAnyValue:StringEqualsIfExists", "aws:TagKeys", `["env"]`, nil, Allowed)
	c("ForAllValues/negated", pMulti+"ForAllValues: every request value must satisfy the operator; with StringNotEquals no value may equal a listed one", "ForAllValues:StringNotEquals", "aws:TagKeys", `["secret"]`, ctx("aws:TagKeys=string:env,owner"), Allowed)
	c("ForAllValues/negated-hit", pMulti+"ForAllValues with StringNotEquals fails when any request value equals a listed one", "ForAllValues:StringNotEquals", "aws:TagKeys", `["secret"]`, ctx("aws:TagKeys=string:env,secret"), ImplicitDeny)
	c("ForAnyValue/negated", pMulti+"ForAnyValue with StringNotLike is true when at least one request value matches none of the listed patterns", "ForAnyValue:StringNotLike", "aws:TagKeys", `["aws:*"]`, ctx("aws:TagKeys=string:aws:cloudformation,env"), Allowed)
	c("ForAnyValue/numeric", pMulti+"set operators work with any condition operator (ForAnyValue:NumericLessThan)", "ForAnyValue:NumericLessThan", "app:scores", `"5"`, ctx("app:scores=numeric:9,3"), Allowed)
	c("unqualified-operator-on-multivalued-key", pMulti+"Multivalued condition keys require a set operator (without one, a set of request values does not match)", "StringEquals", "aws:TagKeys", `"env"`, ctx("aws:TagKeys=stringList:env"), ImplicitDeny)
	c("unqualified-negated-operator-on-multivalued-key", pMulti+"Multivalued condition keys require a set operator (a negated operator without one does not match a set either)", "StringNotEquals", "aws:TagKeys", `"secret"`, ctx("aws:TagKeys=stringList:env"), ImplicitDeny)
	c("set-operator-on-single-valued-key", pMulti+"ForAnyValue tests whether at least one member of the set of request values matches (a single value is a set of one)", "ForAnyValue:StringEquals", "aws:PrincipalTag/job", `"admin"`, ctx("aws:PrincipalTag/job=string:admin"), Allowed)

	// Several keys and operators.
	cases = append(cases,
		ruleCase{name: "condition/keys-and", rule: pMulti + "If your policy has multiple condition operators or multiple keys attached to a single condition operator, the conditions are evaluated using a logical AND",
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"Action":"s3:GetObject"`, `"Resource":"*"`, `"Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":["finance","hr","legal"],"aws:PrincipalTag/role":["audit","security"]},"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`))},
			ctx:      ctx("aws:PrincipalTag/department=string:HR", "aws:PrincipalTag/role=string:audit"), want: Allowed},
		ruleCase{name: "condition/keys-and-one-fails", rule: pMulti + "All conditions must resolve to true to invoke the desired Allow or Deny effect",
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"Action":"s3:GetObject"`, `"Resource":"*"`, `"Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":["finance","hr","legal"],"aws:PrincipalTag/role":["audit","security"]},"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`))},
			ctx:      ctx("aws:PrincipalTag/department=string:HR", "aws:PrincipalTag/role=string:dev"), want: ImplicitDeny},
		ruleCase{name: "condition/operators-and-other-account", rule: pMulti + "the user making the request must belong to the AWS account identifier specified in the policy (aws:PrincipalAccount comes from the caller)",
			principal: bob, resAcct: otherAccount,
			identity: []string{doc(stmt(`"Effect":"Allow"`, `"Action":"s3:GetObject"`, `"Resource":"*"`, `"Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":["finance","hr","legal"]},"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`))},
			ctx:      ctx("aws:PrincipalTag/department=string:hr"), want: ImplicitDeny},
		ruleCase{name: "condition/deny-ifexists-negated", rule: pOps + "If you are using an \"Effect\": \"Deny\" element with a negated condition operator like StringNotEqualsIfExists, the request is still denied even if the tag is missing",
			identity: []string{doc(allowStmt("s3:GetObject", "*"), stmt(`"Effect":"Deny"`, `"Action":"s3:*"`, `"Resource":"*"`, `"Condition":{"StringNotEqualsIfExists":{"aws:PrincipalTag/team":"storage"}}`))},
			want:     ExplicitDeny},
		ruleCase{name: "condition/deny-with-condition-not-met", rule: pCond + "a Deny statement applies only when its conditions are true",
			identity: []string{doc(allowStmt("s3:GetObject", "*"), stmt(`"Effect":"Deny"`, `"Action":"s3:*"`, `"Resource":"*"`, `"Condition":{"Bool":{"aws:SecureTransport":"false"}}`))},
			ctx:      ctx("aws:SecureTransport=boolean:true"), want: Allowed},
		ruleCase{name: "condition/principal-arn-derived", rule: pKeys + "aws:PrincipalArn: For IAM roles, the request context returns the ARN of the role, not the ARN of the user that assumed the role",
			principal: aliceSession, identity: []string{allowIf("ArnEquals", "aws:PrincipalArn", `"`+roleARN+`"`)}, want: Allowed},
		ruleCase{name: "condition/principal-type-derived", rule: pVars + "aws:PrincipalType ... indicates whether the principal is an account, user, federated, or assumed role",
			principal: aliceSession, identity: []string{allowIf("StringEquals", "aws:PrincipalType", `"AssumedRole"`)}, want: Allowed},
	)
	return cases
}

func variableCases() []ruleCase {
	v := func(name, rule string, identity string, principal, arn string, ctx []string, want Decision) ruleCase {
		c := ruleCase{name: "variable/" + name, rule: rule, identity: []string{identity}, principal: principal, arn: arn, ctx: ctx, want: want}
		if strings.HasPrefix(arn, "arn:aws:dynamodb:") {
			c.action = "dynamodb:GetItem"
		}
		return c
	}
	ownTable := doc(allowStmt("dynamodb:*", "arn:aws:dynamodb:us-east-2:111122223333:table/${aws:username}"))
	return []ruleCase{
		v("username-in-resource", pResource+"you can use the key {aws:username} as part of a resource ARN to indicate that the current user's name should be included",
			ownTable, "", "arn:aws:dynamodb:us-east-2:111122223333:table/alice", nil, Allowed),
		v("username-other-table", pVars+"IAM substitutes the user name from the current request for the ${aws:username} variable",
			ownTable, "", "arn:aws:dynamodb:us-east-2:111122223333:table/bob", nil, ImplicitDeny),
		v("unresolved-statement-invalid", pVars+"If AWS cannot resolve a variable this might cause the entire statement to be invalid (aws:username is not present for a role)",
			ownTable, aliceSession, "arn:aws:dynamodb:us-east-2:111122223333:table/alice", nil, ImplicitDeny),
		v("default-value", pVars+"If a value is not specified for the variable AWS uses the default text that you provided",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket-${aws:PrincipalTag/team, 'company-wide'}/*")), "", "arn:aws:s3:::bucket-company-wide/x", nil, Allowed),
		v("default-not-used-when-set", pVars+"the default applies only when no value is specified",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket-${aws:PrincipalTag/team, 'company-wide'}/*")), "", "arn:aws:s3:::bucket-company-wide/x", []string{"aws:PrincipalTag/team=string:yellow"}, ImplicitDeny),
		v("principal-tag", pVars+`"Resource": ["arn:aws:s3:::bucket/${aws:PrincipalTag/department}"] refers to only a bucket that is named the same as the value in the requesting user's department tag`,
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/${aws:PrincipalTag/department}/*")), "", "arn:aws:s3:::bucket/hr/x", []string{"aws:PrincipalTag/department=string:hr"}, Allowed),
		v("escape-star", pVars+"${*} - use where you need an * (asterisk) character",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/${*}")), "", "arn:aws:s3:::bucket/anything", nil, ImplicitDeny),
		v("escape-star-literal", pVars+"${*} - use where you need an * (asterisk) character",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/${*}")), "", "arn:aws:s3:::bucket/*", nil, Allowed),
		v("escape-question", pVars+"${?} - use where you need a ? (question mark) character",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/what${?}")), "", "arn:aws:s3:::bucket/whatx", nil, ImplicitDeny),
		v("escape-dollar", pVars+"${$} - use where you need a $ (dollar sign) character",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/${$}{aws:username}")), "", "arn:aws:s3:::bucket/${aws:username}", nil, Allowed),
		v("value-is-not-a-wildcard", pVars+"AWS substitutes a value from the request context key in place of the variable (as text: a * in the value is no wildcard)",
			ownTable, "", "arn:aws:dynamodb:us-east-2:111122223333:table/anything", []string{"aws:username=string:*"}, ImplicitDeny),
		v("key-case-insensitive", pVars+"Key names are case-insensitive. For example, aws:CurrentTime is equivalent to AWS:currenttime",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/${AWS:UserName}/*")), "", "arn:aws:s3:::bucket/alice/x", nil, Allowed),
		v("in-string-condition", pVars+"You can use a policy variable for Condition values in any condition that involves the string operators",
			allowIf("StringLike", "s3:prefix", `["${aws:username}/*"]`), "", "", []string{"s3:prefix=string:alice/docs"}, Allowed),
		v("in-string-condition-other-user", pVars+"You can use a policy variable for Condition values in any condition that involves the string operators",
			allowIf("StringLike", "s3:prefix", `["${aws:username}/*"]`), "", "", []string{"s3:prefix=string:bob/docs"}, ImplicitDeny),
		v("in-arn-condition", pVars+"You can use a policy variable ... ARN operators include ArnEquals and ArnLike",
			allowIf("ArnEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:111122223333:${aws:username}-topic"`), "", "", []string{"aws:SourceArn=arn:arn:aws:sns:us-east-1:111122223333:alice-topic"}, Allowed),
		v("in-bool-condition", pOps+"You can use a policy variable with the Boolean condition operator",
			allowIf("Bool", "app:mfa-echo", `"${aws:MultiFactorAuthPresent}"`), "", "", []string{"app:mfa-echo=boolean:true", "aws:MultiFactorAuthPresent=boolean:true"}, Allowed),
		v("unresolved-in-condition", pVars+"If AWS cannot resolve a variable this might cause the entire statement to be invalid",
			allowIf("StringNotEquals", "s3:prefix", `"${aws:PrincipalTag/team}"`), "", "", []string{"s3:prefix=string:x"}, ImplicitDeny),
		v("multivalued-key-not-a-variable", pVars+"You can use any single-valued condition key as a variable. You can't use a multivalued condition key as a variable",
			doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/${aws:TagKeys}/*")), "", "arn:aws:s3:::bucket/env/x", []string{"aws:TagKeys=stringList:env"}, ImplicitDeny),
		v("literal-under-2008", pVars+"If you don't include the Version element and set it to an appropriate version date, variables like ${aws:username} are treated as literal strings in the policy",
			`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/${aws:username}/*"}]}`, "", "arn:aws:s3:::bucket/alice/x", nil, ImplicitDeny),
		v("literal-under-2008-matches-text", pVars+"variables ... are treated as literal strings in the policy (Version 2008-10-17)",
			`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/${aws:username}/*"}]}`, "", "arn:aws:s3:::bucket/${aws:username}/x", nil, Allowed),
		v("literal-without-version", pVars+"If you don't include the Version element ... variables like ${aws:username} are treated as literal strings",
			`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/${aws:username}/*"}]}`, "", "arn:aws:s3:::bucket/alice/x", nil, ImplicitDeny),
		{name: "variable/unresolved-deny-does-not-apply", rule: pVars + "If AWS cannot resolve a variable this might cause the entire statement to be invalid (an invalid Deny statement denies nothing)",
			identity: []string{doc(get(), stmt(`"Effect":"Deny"`, `"Action":"s3:*"`, `"Resource":"arn:aws:s3:::bucket/${aws:PrincipalTag/locked}/*"`))}, arn: "arn:aws:s3:::bucket/x/y", want: Allowed},
		{name: "variable/in-resource-policy", rule: pVars + "the variable resolves from the request context in a resource-based policy too (the SNS topic policy example)",
			resource: doc(stmt(`"Effect":"Allow"`, `"Principal":{"AWS":"111122223333"}`, `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::bucket/${aws:username}/*"`)),
			identity: []string{doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*"))}, arn: "arn:aws:s3:::bucket/alice/x", want: Allowed},
	}
}
