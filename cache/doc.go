// Package cache holds temporary AWS credentials between the moment STS issues
// them and the moment they should be refreshed.
//
// # What it promises
//
// An Entry is handed back by Lookup only while it is fresh: more than its
// refresh margin is left before it expires. The margin is 15 minutes, the
// window in which botocore asks for new credentials (the JavaScript SDK asks at
// 5), shortened to a third of the lifetime for credentials that live under 45
// minutes so that a 15-minute session can still be reused at all. Expired
// credentials are never returned.
//
// Entries carry a fingerprint of everything that produced them (the role, the
// source key, the MFA device, the endpoint, the duration). A lookup with another
// fingerprint is a miss, so a changed profile never reuses stale credentials.
//
// Entries are kept in memory and written through to a Persistence, which the
// broker backs with the OS keyring. The encoding holds secrets, so it is only
// ever handed to that Persistence.
//
// # Concurrency
//
// A Store is safe for concurrent use by multiple goroutines.
//
// # What it never does
//
// It never writes to a file itself, never logs, and never formats a secret:
// Credentials print as their key id's last four characters.
package cache
