package daemon

import (
	"errors"
	"fmt"
	"os/user"
	"path"
	"strconv"

	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/profile"
)

// accessRules decides which local account may fetch which profile: an explicit
// deny wins, then an allow, else deny, as IAM evaluates policies. The
// daemon's own user is allowed unless a rule denies it; nobody else is
// allowed without a rule.
//
// Beware granting uid or gid 65534: the kernel reports callers from a user
// namespace it cannot map with that overflow id, the same as nobody's.
type accessRules struct {
	owner uint32
	rules []compiledRule
}

type compiledRule struct {
	name     string
	deny     bool
	uids     map[uint32]bool
	gids     map[uint32]bool
	profiles []string
}

// NameLookup resolves user and group names to ids (os/user in production).
type NameLookup struct {
	User  func(name string) (uint32, error)
	Group func(name string) (uint32, error)
}

// systemLookup resolves names with os/user.
var systemLookup = NameLookup{
	User: func(name string) (uint32, error) {
		u, err := user.Lookup(name)
		if err != nil {
			return 0, err
		}
		id, err := strconv.ParseUint(u.Uid, 10, 32)
		return uint32(id), err
	},
	Group: func(name string) (uint32, error) {
		g, err := user.LookupGroup(name)
		if err != nil {
			return 0, err
		}
		id, err := strconv.ParseUint(g.Gid, 10, 32)
		return uint32(id), err
	},
}

// newAccess compiles rules for a daemon running as owner. Names are
// resolved once, here: an unknown user or group is an error naming the
// rule's line.
func newAccess(cfg *profile.Config, owner uint32, lookup NameLookup) (*accessRules, error) {
	a := &accessRules{owner: owner}
	for _, r := range cfg.Access {
		c := compiledRule{name: r.Name, deny: r.Deny, uids: map[uint32]bool{}, gids: map[uint32]bool{}, profiles: r.Profiles}
		for _, u := range r.Users {
			id, err := resolveID(u, lookup.User)
			if err != nil {
				return nil, &profile.ConfigError{Path: cfg.Path, Line: r.Line, Msg: fmt.Sprintf("access %s: unknown user %s", r.Name, u)}
			}
			c.uids[id] = true
		}
		for _, g := range r.Groups {
			id, err := resolveID(g, lookup.Group)
			if err != nil {
				return nil, &profile.ConfigError{Path: cfg.Path, Line: r.Line, Msg: fmt.Sprintf("access %s: unknown group %s", r.Name, g)}
			}
			c.gids[id] = true
		}
		a.rules = append(a.rules, c)
	}
	return a, nil
}

func resolveID(s string, lookup func(string) (uint32, error)) (uint32, error) {
	if id, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(id), nil
	}
	if lookup == nil {
		return 0, errors.New("no lookup")
	}
	return lookup(s)
}

// MayGrant says whether any allow rule names peer (by uid or group): one
// that no rule names can have nothing from the daemon.
func (a *accessRules) MayGrant(peer peercred.Peer) bool {
	for _, r := range a.rules {
		if !r.deny && r.principal(peer) {
			return true
		}
	}
	return false
}

// Decide says whether peer may fetch profile, and why.
func (a *accessRules) Decide(peer peercred.Peer, profile string) (allow bool, reason string) {
	allowedBy := ""
	for _, r := range a.rules {
		match := r.matches(peer, profile)
		if !match && r.deny && peer.Groups == nil && len(r.gids) > 0 && r.profileMatches(profile) {
			// The OS did not say which groups the caller is in: a deny
			// by group must hold rather than fail open.
			match = true
		}
		if !match {
			continue
		}
		if r.deny {
			return false, "denied by access rule " + r.name
		}
		if allowedBy == "" {
			allowedBy = "allowed by access rule " + r.name
		}
	}
	switch {
	case allowedBy != "":
		return true, allowedBy
	case peer.UID == a.owner:
		return true, "the daemon's own user"
	}
	return false, fmt.Sprintf("no access rule allows uid %d to fetch profile %s", peer.UID, profile)
}

func (r compiledRule) matches(peer peercred.Peer, profile string) bool {
	return r.principal(peer) && r.profileMatches(profile)
}

func (r compiledRule) profileMatches(profile string) bool {
	for _, p := range r.profiles {
		if ok, _ := path.Match(p, profile); ok {
			return true
		}
	}
	return false
}

func (r compiledRule) principal(peer peercred.Peer) bool {
	if r.uids[peer.UID] || r.gids[peer.GID] {
		return true
	}
	for _, g := range peer.Groups {
		if r.gids[g] {
			return true
		}
	}
	return false
}
