// Package sandbox is a local AWS STS, IAM and console-federation endpoint
// for credbroker's demo and tests: it speaks the AWS Query protocol as AWS
// does, so the AWS CLI, boto3 and the Go and JavaScript SDKs talk to it
// unchanged (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_IAM), and it checks
// what AWS checks instead of answering yes.
//
// # What it answers
//
// STS (Version 2011-06-15): GetCallerIdentity, GetSessionToken,
// AssumeRole, DecodeAuthorizationMessage, GetFederationToken,
// GetAccessKeyInfo and AssumeRoleWithWebIdentity. IAM (Version
// 2010-05-08, same endpoint, routed by Version): GetUser,
// CreateAccessKey, DeleteAccessKey, UpdateAccessKey, ListAccessKeys,
// GetAccessKeyLastUsed, CreateVirtualMFADevice, EnableMFADevice,
// DeactivateMFADevice, ListMFADevices, SimulateCustomPolicy and
// SimulatePrincipalPolicy. /federation answers getSigninToken and login as
// https://signin.aws.amazon.com/federation does. Answers are AWS's XML
// (result and ResponseMetadata/RequestId in the service's namespace);
// errors are the ErrorResponse envelope with AWS's code, message, fault
// type and HTTP status, all read from one table.
//
// # What it checks
//
// Every request but AssumeRoleWithWebIdentity must be signed with
// Signature Version 4; the signature is recomputed with the AWS SDK for
// Go's signer over what the client signed (method, path, query, signed
// headers, body hash, date, credential scope) and X-Amz-Date must be
// within ClockSkew (5 minutes) of Now. A temporary key needs its own
// session token; expired sessions are refused (ExpiredToken). MFA codes
// are checked against the device's seed, one time step either side, and a
// code (a step) is never accepted twice. Durations follow STS's limits
// (GetSessionToken 900 to 129600 s, an hour for the root user; AssumeRole
// 900 s to the role's MaxSessionDuration, an hour when chaining roles).
// Trust policies and each caller's identity and session policies are
// evaluated by package policy, with aws:MultiFactorAuthPresent,
// aws:MultiFactorAuthAge and sts:ExternalId in the context; a refusal
// carries an encoded authorization message that DecodeAuthorizationMessage
// decodes for a caller allowed to.
//
// # State
//
// A State (accounts, users, keys, MFA devices and seeds, roles, OIDC
// providers) is loaded from a JSON file and written back atomically after
// each change (a key created, an MFA code used). Temporary credentials are
// never stored: a session token is the session's claims sealed with
// AES-GCM under the state's seal key, bound to its access key id, and the
// secret key is derived from the key id. A key's last use is kept in
// memory and written with the next change.
//
// A Server is safe for concurrent use. Time and randomness are its Now
// and Rand fields.
//
// # What it never does
//
// It listens on loopback only (Listen refuses other addresses), makes no
// outbound call, and its keys are made up: they open nothing but the
// sandbox. It never logs a secret. It does not model Organizations,
// resource-based policies beyond trust policies, permissions boundaries of
// users and roles, managed policies (PolicyArns is refused, not ignored),
// SAML, root users' MFA devices, or regions (any region name signs).
package sandbox
