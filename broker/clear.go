package broker

import (
	"slices"
	"strings"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
)

// SessionEntries names the cached sessions chain's credentials are made
// of: the session it starts with (GetSessionToken, with MFA or not), and
// the role session of each of its steps. The session a chain starts with
// is shared by every profile built on the same key and device.
func SessionEntries(chain *profile.RoleChain) []string {
	var names []string
	if chain.SessionToken {
		names = append(names, sessionCacheName(chain))
	}
	for _, s := range chain.Steps {
		names = append(names, roleCacheName(s.Profile))
	}
	return names
}

// Clear drops the cached sessions named (SessionEntries), from memory and
// from the sealed cache, and returns those it found and dropped, sorted.
// The next fetch of a chain that used them goes back to STS.
func (b *Broker) Clear(names []string) ([]string, error) {
	names = slices.Clone(names)
	slices.Sort(names)
	var dropped []string
	for _, name := range slices.Compact(names) {
		found, err := b.cache.Has(name)
		if err != nil {
			return dropped, err
		}
		if !found {
			continue
		}
		if err := b.cache.Drop(name); err != nil {
			return dropped, err
		}
		dropped = append(dropped, name)
	}
	return dropped, nil
}

// ClearAll drops every cached session, in memory and sealed, and returns
// the names of those it dropped, sorted. Keys, seeds and the record of used
// MFA time steps stay: forgetting those could send a code AWS refuses.
func (b *Broker) ClearAll() ([]string, error) {
	items, err := b.keys.List()
	if err != nil {
		return nil, err
	}
	names := b.cache.Cached()
	for _, it := range items {
		if it.Kind == keystore.KindSession {
			names = append(names, it.Name)
		}
	}
	return b.Clear(names)
}

// DescribeSession says what a cached session's name (SessionEntries) is,
// e.g. "the MFA session of base" for "base/mfa-session".
func DescribeSession(name string) string {
	i := strings.LastIndex(name, "/")
	if i < 0 {
		return "cached session " + name
	}
	switch owner, kind := name[:i], name[i+1:]; kind {
	case "mfa-session":
		return "the MFA session (GetSessionToken) of " + owner
	case "session":
		return "the session (GetSessionToken) of " + owner
	case "role":
		return "the role session (AssumeRole) of " + owner
	default:
		return "cached session " + name
	}
}
