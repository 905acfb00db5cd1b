package broker

import (
	"maps"
	"slices"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
)

// ProfileSummary is what `credbroker list` shows of a profile. It never
// holds a secret.
type ProfileSummary struct {
	Name string
	// KeyID is the stored access key's id, all but its last four
	// characters masked; "" when no key is stored.
	KeyID string
	// Seed: a TOTP seed is stored.
	Seed bool
	// Chain is how the profile's credentials are made, or Err why they
	// cannot be.
	Chain *profile.RoleChain
	Err   error
}

// Inventory lists every profile of r's config and every profile with a
// stored key or seed, sorted, with what is stored for each.
func Inventory(keys *keystore.Store, r *profile.Resolver) ([]ProfileSummary, error) {
	items, err := keys.List()
	if err != nil {
		return nil, err
	}
	has := map[keystore.Kind]map[string]bool{keystore.KindAccessKey: {}, keystore.KindTOTPSeed: {}}
	names := map[string]bool{}
	for n := range r.Config.Profiles {
		names[n] = true
	}
	for _, it := range items {
		if m, ok := has[it.Kind]; ok {
			m[it.Name] = true
			names[it.Name] = true
		}
	}
	out := make([]ProfileSummary, 0, len(names))
	for _, n := range slices.Sorted(maps.Keys(names)) {
		s := ProfileSummary{Name: n, Seed: has[keystore.KindTOTPSeed][n]}
		if has[keystore.KindAccessKey][n] {
			k, err := keys.AccessKey(n)
			if err != nil {
				return nil, err
			}
			s.KeyID = cache.LastFour(k.AccessKeyID)
		}
		s.Chain, s.Err = r.Resolve(n)
		out = append(out, s)
	}
	return out, nil
}
