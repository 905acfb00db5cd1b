// Package peercred tells who is on the other end of a Unix socket, as the
// kernel recorded it at connect time: uid, gid, supplementary groups and
// pid (SO_PEERCRED and SO_PEERGROUPS on Linux, LOCAL_PEERCRED and
// LOCAL_PEERPID on macOS). Elsewhere PeerOf fails, so a server that uses
// it refuses everyone rather than guessing.
//
// It is OS glue and nothing else: what a peer may do is the daemon's
// business. User and group names (for audit logs) are looked up through
// os/user and cached for a few minutes, misses included.
//
// # Concurrency
//
// PeerOf and the Peer methods are safe for concurrent use.
//
// # What it never does
//
// It never trusts what the peer says about itself, and never reads a
// peer's identity from /proc/PID, where a pid may already belong to another
// process (the socket table names sockets by their addresses, which are
// unique while the connection lives).
package peercred
