package profile

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// credbroker's own sections of its config file: [daemon] and [access NAME].

// DaemonSettings is the [daemon] section of the config file.
type DaemonSettings struct {
	// SocketGroup may connect to the system daemon's socket (mode 0660).
	SocketGroup string
	// AuditLog is where grants and refusals are appended ("" = default).
	AuditLog string
	Line     int
}

// AccessRule is an [access NAME] section: which local users and groups may
// (or, with effect = deny, may not) fetch which profiles.
//
//	[access ci]
//	users = ci, deploy
//	groups = builders
//	profiles = ci-*, staging
//	effect = allow
type AccessRule struct {
	Name string
	Line int
	Deny bool
	// effectSet: the rule says allow or deny. A rule that does not is an
	// error, never an allow.
	effectSet bool
	// Users and Groups are names or numeric ids.
	Users, Groups []string
	// Profiles are globs (path.Match syntax: *, ?, [a-z]).
	Profiles []string
}

func (d *DaemonSettings) setSub(string, string, string) {}

func (d *DaemonSettings) set(key, value string, _ int) error {
	if value == "" {
		return nil
	}
	switch key {
	case "socket_group":
		d.SocketGroup = value
	case "audit_log":
		if !filepath.IsAbs(value) {
			return fmt.Errorf("audit_log %q must be an absolute path", clip(value))
		}
		d.AuditLog = value
	default:
		return fmt.Errorf("unknown key %s in [daemon] (known: socket_group, audit_log)", key)
	}
	return nil
}

func (r *AccessRule) setSub(string, string, string) {}

func (r *AccessRule) set(key, value string, _ int) error {
	if value == "" {
		return nil
	}
	switch key {
	case "effect":
		r.effectSet = true
		switch strings.ToLower(value) {
		case "allow":
			r.Deny = false
		case "deny":
			r.Deny = true
		default:
			return fmt.Errorf("access %s: effect %q must be allow or deny", r.Name, clip(value))
		}
	case "users":
		r.Users = splitList(value)
	case "groups":
		r.Groups = splitList(value)
	case "profiles":
		r.Profiles = splitList(value)
		for _, p := range r.Profiles {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("access %s: profiles: %q is not a valid glob", r.Name, clip(p))
			}
		}
	default:
		return fmt.Errorf("access %s: unknown key %s (known: effect, users, groups, profiles)", r.Name, key)
	}
	return nil
}

func (r *AccessRule) check() error {
	if !r.effectSet {
		// A deny rule written line by line, caught half-way, must not be
		// read as an allow.
		return fmt.Errorf("access %s: write effect = allow or effect = deny: a rule without one is an error, never an allow", r.Name)
	}
	if len(r.Users) == 0 && len(r.Groups) == 0 {
		return fmt.Errorf("access %s: name users or groups", r.Name)
	}
	if len(r.Profiles) == 0 {
		return fmt.Errorf("access %s: name profiles (globs such as prod-*, or * for all)", r.Name)
	}
	return nil
}
