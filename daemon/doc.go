// Package daemon serves temporary credentials over a Unix socket, from
// memory, to every local caller its access rules allow.
//
// # Rooms
//
//   - daemon.go: options, the served config snapshot, Serve.
//   - handlers.go: the HTTP API (/v1: credentials, mfa, forget, status,
//     health, unlock, stop), authorisation and audit of each request, error
//     answers (status, code and hint from package broker's error table).
//   - callers.go: each request resolved with its caller's settings (config
//     files, region, endpoints; another user's endpoints are the daemon's),
//     kept per settings while the files are unchanged.
//   - clear.go: dropping cached sessions (credbroker clear), the owner's
//     only.
//   - totp.go: a code of a stored seed for the owner (credbroker totp code).
//   - waits.go: what a refresh waits for (an MFA time step, a retry), told
//     to the callers waiting on it as interim answers (to those that send
//     wire.HeaderAcceptWaits).
//   - serve.go: the serving rules: fresh credentials from memory, one
//     refresh however many callers wait, still-usable credentials while STS
//     is in trouble, never expired ones.
//   - refresh.go: the refresh-ahead scheduler and backoff.
//   - mfagate.go: one submitted MFA code per device at a time (another
//     uid's waits for its turn); per uid and device, none within a TOTP
//     step of a refused one and at most 3 refused in 15 minutes.
//   - limits.go, loglimit.go, denials.go: what one uid other than the
//     daemon's own can have: requests a second (a token bucket), audit
//     records other than grants and log lines a minute (the rest counted
//     in a summary when the minute ends).
//   - reload.go: config reloads, swapped as one snapshot.
//   - access.go: [access NAME] rules (an explicit deny wins, then an
//     allow, else deny; the daemon's own user may have what no rule denies).
//   - audit.go: the audit log (JSON lines, never a secret).
//   - conn.go, listen_unix.go, http.go: peer credentials per connection,
//     connection slots per uid (a uid no rule names is answered and closed
//     at once), the socket, JSON answers.
//
// # Promises
//
// One refresh runs per profile however many callers wait (singleflight,
// and the broker's per chain step below it), and a caller that gives up
// does not cancel it. A scheduler renews credentials at 75 to 90 % of the
// time they stay fresh, with jitter, so nothing handed out has less than
// the refresh margin left while STS is healthy; STS trouble is retried with
// exponential backoff and jitter while still-usable credentials are
// served; a refused MFA code stops everything until a human acts. The
// config served from (profiles, resolver, access rules) is one snapshot,
// swapped whole by a reload that succeeded.
//
// One local user other than the daemon's own costs the others at most 32
// connections of 512, 20 requests a second (40 at once), 120 audit
// records other than grants and 60 log lines a minute (plus one summary
// of each), and 3 refused MFA codes per device in 15 minutes.
//
// # Concurrency
//
// A Daemon and an AuditLog are safe for concurrent use.
//
// # What it never does
//
// It never writes a secret to its log, the audit log or an error answer,
// never hands out the long-lived key, never hands out expired
// credentials, and never answers a caller the kernel cannot identify.
package daemon
