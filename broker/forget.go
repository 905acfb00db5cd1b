package broker

import (
	"errors"
	"slices"

	"github.com/credbroker/credbroker/profile"
)

// forgetFrom drops the cached step whose credentials signed the call that
// failed with err (an expired token), and every step after it. An
// AssumeRole of step k was signed by step k-1, or by the MFA session for
// the first step (signer -1).
func (b *Broker) forgetFrom(chain *profile.RoleChain, err error) {
	signer := -1
	var se *STSError
	if errors.As(err, &se) && se.Op == "AssumeRole" {
		for k, s := range chain.Steps {
			if s.RoleARN == se.Target {
				signer = k - 1
				break
			}
		}
	}
	if signer < 0 && chain.SessionToken {
		_ = b.cache.Drop(sessionCacheName(chain))
	}
	for _, s := range chain.Steps[max(signer, 0):] {
		_ = b.cache.Drop(roleCacheName(s.Profile))
	}
}

// Forget drops every cached credential made from name: its own sessions
// and role credentials, and those of every profile of r whose
// source_profile chain goes through it (after its key or seed changed, or
// was removed). It returns how many cached entries it dropped.
func (b *Broker) Forget(r *profile.Resolver, name string) (int, error) {
	b.keyIDs.Delete(name) // its key is read again
	names := []string{name + "/session", name + "/mfa-session", roleCacheName(name)}
	for _, other := range r.Config.Names() {
		chain, err := r.Resolve(other)
		if err != nil {
			continue // a broken profile has nothing cached
		}
		if slices.Contains(chain.Path, name) {
			for _, s := range chain.Steps {
				names = append(names, roleCacheName(s.Profile))
			}
		}
	}
	dropped, err := b.Clear(names)
	return len(dropped), err
}
