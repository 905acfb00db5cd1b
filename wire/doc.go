// Package wire is the daemon's protocol, declared once for both sides:
// the endpoints, every request and answer body (the credential_process
// output, the error body with its typed codes, the MFA and forget
// requests, the status), the socket paths, and the client that speaks it —
// Do, one raw HTTP/1.1 request per connection, and Client, which also
// starts a daemon on demand and serialises MFA prompts.
//
// # Why only the standard library
//
// The small credbroker program (cmd/credbroker/front) answers a warm
// credential_process with this package and nothing else. Every
// credential_process call is a new process, and Go initialises every
// package linked into a binary before main runs, so this package imports
// only the standard library, and not net/http: the program starts almost as
// fast as one that prints fixed text (package internal/layout keeps it so).
//
// # Whom it talks to
//
// Do sends nothing to a server that runs as another user than the caller
// or root (read on Linux from the socket with SO_PEERCRED), except on the
// system daemon's socket: credentials from such a server could be anyone's,
// and an MFA code sent to it would be someone else's to use. Client starts
// a daemon, and takes its locks, only in a socket folder of the caller's
// own that nobody else may write (CheckSocketDir).
//
// # Errors
//
// A failure the daemon answers with is an *Error; clients branch on its
// Code, never on the text (package broker's error table gives each code its
// HTTP status and hint). ErrNoDaemon: nothing answers; ErrForeignDaemon:
// someone else does; ErrUnsafeSocket: the folder could be tampered with.
//
// # Concurrency
//
// Do and Client are safe for concurrent use.
//
// # What it never does
//
// It never logs, and never writes a secret anywhere but the answer it
// returns.
package wire
