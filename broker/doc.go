// Package broker is the credential engine: it turns a profile's
// RoleChain (package profile) into temporary AWS credentials.
//
// # The chain
//
// Fetch walks the chain: the source profile's long-lived key from the
// keystore (read on every walk; when the keyring does not answer, the key
// id of an earlier walk still names the cached steps, so a role is renewed
// from a cached MFA session and only a call signed with the key itself
// fails), GetSessionToken (with a TOTP code when the chain has an MFA
// device: from a stored seed, or a code a human gave), then AssumeRole for
// each step with the credentials of the one before. A refused MFA code is
// never retried, and the SDK's own retries are off for a call that carries
// one.
//
// A step the profile marks MFA (a role over an hour: package profile)
// carries the code itself, signed by the long-lived key, instead of an MFA
// session; like the MFA session, it is renewed ahead only when no human is
// needed for the code.
//
// # Role session names
//
// A role session that role_session_name does not name is named after the
// IAM user of the chain's key, as GetCallerIdentity reports it (asked once
// per key while the Broker lives), and when it was made: alice-1764470000.
// CloudTrail then shows who assumed the role, each session has a name of
// its own, and a trust policy can require it with StringLike
// sts:RoleSessionName "${aws:username}-*" (an exact ${aws:username}, as
// AWS's example has it, needs role_session_name set to the user name).
//
// # Caching
//
// Each step's credentials are cached sealed in the keystore (never in a
// plaintext file) under a fingerprint of everything that produced them, and
// reused while more than the refresh margin is left (see package cache), so
// repeated fetches reach STS and ask for an MFA code only when the cached
// session runs out. One fetch per step runs at a time however many callers
// want it (singleflight): two roles built on one MFA session make one
// GetSessionToken.
//
// # Errors
//
// Failures wrap the sentinel errors of this package (ErrKeyRejected,
// ErrMFARefused, ErrSTSUnreachable...), STS failures in an *STSError naming
// the profile, the operation and the endpoint. Classes is the one error
// table: for each sentinel the daemon's wire code, the HTTP status, the
// retry kind, the status word and the hint; Explain, the daemon, the
// client and the CLI all read it.
//
// # Concurrency
//
// A Broker is safe for concurrent use. It holds no config: callers resolve
// a profile with the config they serve from.
//
// # What it never does
//
// It never writes a secret to a file, a log or an error, never hands out the
// long-lived key, and never hands out expired credentials.
package broker
