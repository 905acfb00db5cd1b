//go:build !linux

package wire

import "net"

// serverUID does not identify the server outside Linux; the check it
// feeds (trustServer) is skipped there, for these reasons:
//
//   - the standard library, the only thing this package may import (the
//     credbroker program must start fast), has no call for peer
//     credentials outside Linux: macOS's LOCAL_PEERCRED (xucred) is only in
//     golang.org/x/sys;
//   - on macOS the folder the socket falls back to is under the per-user
//     TMPDIR (/var/folders/..., mode 0700, made by the system for each
//     user), which another user cannot enter, let alone create first, so
//     the attack the check stops on Linux (another user making
//     /tmp/credbroker-UID before us and listening there) has no place.
//
// On other Unix systems, where /tmp is shared, set XDG_RUNTIME_DIR or
// CREDBROKER_SOCKET to a folder only you can write; the client refuses to
// start a daemon in a folder someone else owns or can write
// (broker.Client.EnsureDaemon).
func serverUID(net.Conn) (uid int, known bool, err error) { return 0, false, nil }
