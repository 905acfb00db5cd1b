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
// and Rand fields. A Clock moves time for tests of programs the test
// cannot move the clocks of: an offset (the sandbox's clock runs apart from
// its clients', as for a skewed client) or an advance (time passes for
// the sandbox and its clients alike, so sessions expire while signatures
// and MFA codes still match); `credbroker sandbox serve --test-clock`
// takes the moves on its stdin.
//
// # Known differences from AWS
//
//   - The X-Amz-Date window is 5 minutes either side, as Signature Version
//     4 states for AWS in general; STS itself accepts 15 minutes (its
//     answers read "Signature expired: ... (... - 15 min.)", and the
//     common errors page says RequestExpired comes after 15 minutes). A
//     request signed 10 minutes ago passes at STS and is refused here, so
//     clock-skew handling is tried with a smaller skew. ClockSkew sets the
//     window.
//   - A signature is recomputed with the AWS SDK for Go's signer over the
//     headers the client lists as signed. A client that signs a header
//     that signer never signs (User-Agent, X-Amzn-Trace-Id, Expect,
//     Transfer-Encoding) is refused; AWS accepts any header it is given. The AWS CLI v1 and v2,
//     boto3 and the Go and JavaScript SDKs do not.
//   - A session token is the session's claims sealed under the state's
//     key: valid only at this sandbox (and after a restart with the same
//     state), and not the size of STS's.
//   - An MFA code is accepted for its time step or one either side, and
//     no step up to the last one accepted for the device is accepted
//     again; AWS documents only that a code is not accepted twice.
//   - A web identity token whose nbf claim is still ahead is refused as
//     InvalidIdentityToken with the sandbox's own message; what STS
//     answers for one is not documented.
//   - A role session made from one with a source identity carries it
//     (it is in the trust policy's context as sts:SourceIdentity and in
//     the answer); asking for another one is refused as AccessDenied with
//     the sandbox's own message.
//   - Any well-formed region name signs and is answered; STS refuses
//     regions that do not exist or are not enabled for the account.
//   - Cross-account requests in SimulatePrincipalPolicy and
//     SimulateCustomPolicy are decided as real requests are (the resource's
//     account must allow them too), without a resource policy to allow
//     them unless ResourcePolicy gives one.
//   - Not modelled: Organizations and SCPs, resource-based policies other
//     than trust policies, permissions boundaries of users and roles,
//     managed policies (PolicyArns is refused, not ignored), the
//     sts:SetSourceIdentity permission a trust policy must grant for a
//     SourceIdentity, SAML, MFA
//     devices of root users, and throttling.
//
// # What it never does
//
// It listens on loopback only (Listen refuses other addresses), makes no
// outbound call, and its keys are made up: they open nothing but the
// sandbox. It never logs a secret. Its clock is moved only by the program
// that runs it (a Clock's Control reads the stdin it was given), never over
// the network.
package sandbox
