// Package broker turns credbroker profiles into temporary AWS credentials.
//
// # Profiles
//
// The broker's config file uses the syntax and keys of ~/.aws/config:
// role_arn, source_profile, mfa_serial, external_id, role_session_name,
// duration_seconds, region, endpoint_url, services. ParseConfig reports a
// malformed file as file:line and what is wrong. A profile with a stored
// access key needs no section at all.
//
// # The chain
//
// Resolve follows source_profile down to the profile whose long-lived key is
// in the keystore (cycles are named) and builds a RoleChain:
//
//   - with an MFA device (mfa_serial on any profile of the chain):
//     GetSessionToken with a TOTP code, then AssumeRole for each role_arn
//     with those session credentials. AWS limits a role assumed with
//     temporary credentials to one hour, so longer durations are lowered and
//     the user is told;
//   - without one: AssumeRole straight from the long-lived key, or
//     GetSessionToken when there is no role, so the long-lived key itself is
//     never handed out.
//
// The STS endpoint is resolved as the AWS SDKs resolve it:
// AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's [services] section,
// the profile's endpoint_url; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns them
// off.
//
// # Caching
//
// Each step's credentials are cached sealed in the keystore (never in a
// plaintext file) under a fingerprint of everything that produced them, and
// reused while more than the refresh margin is left (see package cache), so
// repeated credential_process calls reach STS and ask for an MFA code only
// when the cached session runs out.
//
// # The daemon
//
// Daemon serves credentials over HTTP on a Unix socket (API /v1: credentials,
// mfa, forget, status, health) from memory. One refresh runs per profile,
// and per chain step, however many callers wait (singleflight); a caller
// that gives up does not cancel it. A scheduler renews credentials at 75 to
// 90 % of the time they stay fresh, with jitter, so nothing handed out has
// less than the refresh margin left while STS is healthy (15 minutes, or a
// third of the lifetime for credentials shorter than 45 minutes); the MFA session is
// renewed ahead too when a seed is stored. STS trouble (throttling, 5xx,
// network) is retried with exponential backoff and jitter while still-usable
// credentials are served; a rejected key or a denied role stops scheduled
// retries (a caller's request tries again after a minute); a refused MFA
// code stops everything until a human acts; expired credentials are never
// served.
//
// Who asks is the kernel's word (PeerOf: SO_PEERCRED and SO_PEERGROUPS on
// Linux, LOCAL_PEERCRED on macOS), checked against [access NAME] rules
// where an explicit deny wins, then an allow, else deny; the daemon's own
// user is allowed what no rule denies. Every grant and refusal is appended
// to an AuditLog (JSON lines, never a secret).
//
// Client talks to a daemon and starts one on demand (EnsureDaemon, under a
// lock so that a herd starts one). Package wire holds the protocol, with
// only the standard library, for the small credbroker program.
//
// # Errors
//
// Failures wrap the sentinel errors of this package (ErrKeyRejected,
// ErrMFARefused, ErrSTSUnreachable...) in an *STSError naming the profile,
// the operation and the endpoint. A refused MFA code is never retried.
//
// # Concurrency
//
// Broker, Daemon, Client and AuditLog are safe for concurrent use.
//
// # What it never does
//
// It never writes a secret to a file, a log or an error, never hands out the
// long-lived key, and never hands out expired credentials.
package broker
