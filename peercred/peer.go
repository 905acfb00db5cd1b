package peercred

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Peer is the process at the other end of a Unix socket connection, as the
// kernel reports it at connect time (not what the process claims). UID and
// GID are the effective ids the peer had when it called connect(2); a
// process that changes ids afterwards keeps the identity it connected with.
type Peer struct {
	UID, GID uint32
	// Groups are the supplementary groups; nil when the OS cannot tell.
	// On Linux they are complete. On macOS the kernel reports at most 16
	// (the first is the effective group, as getgroups(2) there) and may
	// resolve further memberships through opendirectoryd, so the list can
	// be incomplete: a rule that denies by group cannot rely on it there.
	Groups []uint32
	// PID is 0 when unknown (on Linux, also when the peer lives in another
	// pid namespace). It identifies the process for the audit log only: a
	// pid can be reused once the process exits.
	PID int
}

// PeerOf returns the credentials of the process connected on c, which must
// be a *net.UnixConn.
//
//   - Linux: SO_PEERCRED (uid, gid, pid) and SO_PEERGROUPS (supplementary
//     groups, Linux 4.13 or later; older kernels give nil Groups, never a
//     list read from /proc, which would race with pid reuse).
//   - macOS: LOCAL_PEERCRED (uid and groups) and LOCAL_PEERPID.
//   - Elsewhere: an error, so the daemon refuses everyone rather than
//     guessing.
//
// A uid or gid the kernel cannot map into the daemon's user namespace is
// reported as the overflow id (65534 on Linux), the same number as nobody.
func PeerOf(c net.Conn) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("peer credentials: %T is not a unix socket connection", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var (
		p      Peer
		optErr error
	)
	if err := raw.Control(func(fd uintptr) { p, optErr = peerCredentialsFD(fd) }); err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	if optErr != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", optErr)
	}
	return p, nil
}

// Executable returns the path of the peer's executable where the OS tells
// (Linux: /proc/PID/exe), "" otherwise. It is read when called, not at
// connect time, so a peer that has exited (or a pid already reused) gives
// "" or another program's path: best effort, for the audit log only, never
// used to decide.
func (p Peer) Executable() string {
	if p.PID <= 0 {
		return ""
	}
	return peerExecutable(p.PID)
}

// UserName is the name of the peer's uid for the audit log, "" when
// unknown. Names come from os/user and are cached for a few minutes: a
// daemon answers thousands of requests a second and must not read
// /etc/passwd (or ask a directory service) for each.
func (p Peer) UserName() string { return peerNames.user(p.UID) }

// GroupName is the name of the peer's primary gid for the audit log, ""
// when unknown; cached like UserName.
func (p Peer) GroupName() string { return peerNames.group(p.GID) }

// String describes the peer as "uid=1000(alice) pid=4242", leaving out what
// is unknown. It is cheap once the uid's name is cached.
func (p Peer) String() string {
	var b strings.Builder
	b.WriteString("uid=")
	b.WriteString(strconv.FormatUint(uint64(p.UID), 10))
	if name := p.UserName(); name != "" {
		b.WriteByte('(')
		b.WriteString(name)
		b.WriteByte(')')
	}
	if p.PID > 0 {
		b.WriteString(" pid=")
		b.WriteString(strconv.Itoa(p.PID))
	}
	return b.String()
}

// peerNames caches the system's user and group names for every Peer.
var peerNames = newPeerNameCache(time.Now, lookupUserName, lookupGroupName)

const (
	// peerNameTTL bounds how long a renamed, added or removed account
	// shows its old name (or none) in the audit log.
	peerNameTTL = 5 * time.Minute
	// peerNameMax bounds the cache; the set of local ids is small, so
	// reaching it means something odd and starting over is fine.
	peerNameMax = 4096
)

func lookupUserName(id uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(id), 10))
	if err != nil {
		return ""
	}
	return u.Username
}

func lookupGroupName(id uint32) string {
	g, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10))
	if err != nil {
		return ""
	}
	return g.Name
}

// peerNameCache remembers id -> name lookups, misses included (a
// directory service that is down must not be asked on every request).
type peerNameCache struct {
	now                   func() time.Time
	lookupUser, lookupGrp func(uint32) string

	mu     sync.Mutex
	users  map[uint32]peerName
	groups map[uint32]peerName
}

type peerName struct {
	name    string
	expires time.Time
}

func newPeerNameCache(now func() time.Time, lookupUser, lookupGroup func(uint32) string) *peerNameCache {
	return &peerNameCache{
		now:        now,
		lookupUser: lookupUser,
		lookupGrp:  lookupGroup,
		users:      make(map[uint32]peerName),
		groups:     make(map[uint32]peerName),
	}
}

func (c *peerNameCache) user(id uint32) string { return c.get(c.users, id, c.lookupUser) }

func (c *peerNameCache) group(id uint32) string { return c.get(c.groups, id, c.lookupGrp) }

// get looks up outside the lock: a slow directory service delays only the
// callers asking for that id, and two of them may both ask, which is
// harmless.
func (c *peerNameCache) get(m map[uint32]peerName, id uint32, lookup func(uint32) string) string {
	now := c.now()
	c.mu.Lock()
	e, ok := m[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.name
	}
	name := lookup(id)
	c.mu.Lock()
	if len(m) >= peerNameMax {
		clear(m)
	}
	m[id] = peerName{name: name, expires: now.Add(peerNameTTL)}
	c.mu.Unlock()
	return name
}
