// Package policy parses AWS IAM policy documents and evaluates them offline,
// following the IAM User Guide's rules exactly where it states them, so
// credbroker can answer "would AWS allow this?" without calling AWS, and an
// embedded STS can check a role's trust policy before it issues a session.
//
// # Parsing
//
// Parse reads a JSON policy: Version (2012-10-17 or 2008-10-17), Id,
// Statement as an object or an array, and in each statement Sid, Effect,
// Action or NotAction, Resource or NotResource, Principal or NotPrincipal
// ("*", AWS, Service, Federated, CanonicalUser) and Condition, each a string
// or an array where IAM allows both. It is strict: malformed JSON, a
// duplicate key, an unknown element, an Effect other than Allow or Deny,
// Action together with NotAction, an unknown condition operator, or a value
// an operator cannot read is a *ParseError that says where, as
// "policy.json:7:5: statement 2: unknown element "Actions" in statement
// (did you mean "Action"?)". An unknown operator is never evaluated as true
// or false. Statements are counted from 1 in messages; Statement.Index and
// the JSON a simulation prints count from 0.
//
// Every pattern (actions, resources, condition values) is compiled at parse
// time; evaluation does not allocate per statement. A parsed Policy is
// immutable and safe for concurrent use.
//
// # Evaluation
//
// PolicySet.Evaluate decides a Request (principal, action, resource, request
// context) against identity-based policies, a resource-based policy, a
// permissions boundary and session policies, as the IAM User Guide's
// "Policy evaluation logic" and "Cross-account policy evaluation logic"
// describe: an explicit Deny anywhere wins; within one account an Allow in
// an identity-based or the resource-based policy suffices, boundaries and
// session policies limit identity-based grants, and a resource-based policy
// that names the user, the role session, the federated user session or "*"
// is not limited by them (one that names the role or the federating user
// is); across accounts both sides must allow; otherwise the request is
// implicitly denied. The Result carries the decision in IAM simulator terms
// (allowed, explicitDeny, implicitDeny), the statements that decided and a
// one-line reason. Organizations SCPs and RCPs, ACLs, VPC endpoint policies
// and service-specific rules (S3 Block Public Access, KMS grants) are not
// modelled.
//
// Matching follows the documented rules: actions case-insensitively with *
// and ?; resources case-sensitively, segment by segment, where a wildcard
// stays within its colon-separated segment unless * ends the segment;
// principals by ARN, by account (an account ID or its :root ARN names the
// whole account), by "*", and a role session by its session ARN or its
// role's ARN. Conditions support every operator with ...IfExists,
// ForAllValues: and ForAnyValue:, case-insensitive key names, and policy
// variables (${aws:username}, ${aws:PrincipalTag/team, 'default'}, ${*},
// ${?}, ${$}) in Resource and in string, ARN and Bool condition values; a
// variable that cannot be resolved makes its statement not apply. Under
// Version 2008-10-17, or with no Version, variables are literal text.
//
// The request context is a Context of single-valued and multivalued keys.
// Keys AWS always derives from the caller (aws:PrincipalArn,
// aws:PrincipalAccount, aws:PrincipalType, aws:username for IAM users,
// aws:PrincipalServiceName, aws:PrincipalIsAWSService, aws:ResourceAccount)
// are filled from the Request unless the Context sets them. A NotPrincipal
// spares a caller only when its account, its user or role, and its session
// are all listed, as the NotPrincipal page warns AWS may check each.
//
// # Lint, trust and session policies
//
// Lint reports problems with a position, a severity and a fix: wildcard
// actions in an Allow, iam:PassRole on every role, NotAction, NotResource or
// NotPrincipal with Allow, trust policies open to whole accounts or everyone
// without MFA or an external ID, a missing or old Version, and policy
// variables that can never resolve. SeverityError means the policy does not
// do what it says or gives access to principals nobody chose;
// SeverityWarning means it works but grants more than it likely needs.
//
// CanAssume checks an AssumeRole call against a role's trust policy with
// aws:MultiFactorAuthPresent, aws:MultiFactorAuthAge, sts:ExternalId,
// sts:SourceIdentity and session tags in the context, for users, role
// sessions and service principals such as ec2.amazonaws.com.
// CheckSessionPolicy checks an inline session policy against STS's 2,048
// character limit and character set before it is sent.
//
// # What it never does
//
// The package makes no network calls, reads files only in ParseFile, keeps
// no global mutable state, and never prints.
package policy
