package sandbox

import (
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/credbroker/credbroker/policy"
)

// index is a State checked and compiled for answering requests: every
// policy parsed, lookups by key, name and ARN. It points into the State it
// was built from and is rebuilt whenever that changes; neither is modified
// afterwards, so any number of requests read them at once.
type index struct {
	accounts  map[string]*Account
	keys      map[string]keyOwner       // long-lived access key id ->
	users     map[string]*userEntry     // ACCOUNT/NAME ->
	roles     map[string]*roleEntry     // role ARN ->
	devices   map[string]*MFADevice     // serial ->
	providers map[string]*providerEntry // issuer URL ->
}

// keyOwner is whose a long-lived key is: a user's, or (user nil) the
// account's root user's.
type keyOwner struct {
	account *Account
	user    *User
	key     *AccessKey
}

type userEntry struct {
	user     *User
	policies []*policy.Policy
}

// providerEntry is an OIDC provider with its keys parsed (pub[i] is
// Keys[i]).
type providerEntry struct {
	provider *OIDCProvider
	pub      []*rsa.PublicKey
}

type roleEntry struct {
	role     *Role
	trust    *policy.Policy
	policies []*policy.Policy
}

func userKey(account, name string) string { return account + "/" + name }

// compile checks st and builds its index.
func compile(st *State) (*index, error) {
	ix := &index{
		accounts:  map[string]*Account{},
		keys:      map[string]keyOwner{},
		users:     map[string]*userEntry{},
		roles:     map[string]*roleEntry{},
		devices:   map[string]*MFADevice{},
		providers: map[string]*providerEntry{},
	}
	if len(st.SealKey) != 32 {
		return nil, fmt.Errorf("%w: sealKey must be 32 bytes (base64), not %d", errStateInvalid, len(st.SealKey))
	}
	for i := range st.Accounts {
		a := &st.Accounts[i]
		if !isAccountID(a.ID) {
			return nil, fmt.Errorf("%w: account %q is not a 12-digit account ID", errStateInvalid, a.ID)
		}
		if ix.accounts[a.ID] != nil {
			return nil, fmt.Errorf("%w: account %s is listed twice", errStateInvalid, a.ID)
		}
		ix.accounts[a.ID] = a
		for j := range a.RootAccessKeys {
			if err := ix.addKey(keyOwner{account: a, key: &a.RootAccessKeys[j]}); err != nil {
				return nil, err
			}
		}
	}
	for i := range st.Users {
		u := &st.Users[i]
		a := ix.accounts[u.Account]
		if a == nil || u.Name == "" || u.ID == "" {
			return nil, fmt.Errorf("%w: user %q needs a name, an id and an account listed in accounts", errStateInvalid, u.Name)
		}
		if ix.users[userKey(u.Account, u.Name)] != nil {
			return nil, fmt.Errorf("%w: user %s is listed twice", errStateInvalid, u.ARN())
		}
		pols, err := parsePolicies(u.ARN(), u.Policies)
		if err != nil {
			return nil, err
		}
		ix.users[userKey(u.Account, u.Name)] = &userEntry{user: u, policies: pols}
		for j := range u.AccessKeys {
			if err := ix.addKey(keyOwner{account: a, user: u, key: &u.AccessKeys[j]}); err != nil {
				return nil, err
			}
		}
	}
	for i := range st.Roles {
		r := &st.Roles[i]
		if ix.accounts[r.Account] == nil || r.Name == "" || r.ID == "" {
			return nil, fmt.Errorf("%w: role %q needs a name, an id and an account listed in accounts", errStateInvalid, r.Name)
		}
		if d := r.MaxSessionDuration; d != 0 && (d < 3600 || d > 43200) {
			return nil, fmt.Errorf("%w: role %s: maxSessionDuration must be 3600 to 43200 seconds", errStateInvalid, r.ARN())
		}
		trust, err := policy.Parse(r.ARN()+" trust policy", r.TrustPolicy)
		if err != nil {
			return nil, err
		}
		pols, err := parsePolicies(r.ARN(), r.Policies)
		if err != nil {
			return nil, err
		}
		if ix.roles[r.ARN()] != nil {
			return nil, fmt.Errorf("%w: role %s is listed twice", errStateInvalid, r.ARN())
		}
		ix.roles[r.ARN()] = &roleEntry{role: r, trust: trust, policies: pols}
	}
	for i := range st.MFADevices {
		d := &st.MFADevices[i]
		if ix.accounts[d.Account] == nil || !strings.HasPrefix(d.Serial, "arn:aws:iam::"+d.Account+":mfa/") {
			return nil, fmt.Errorf("%w: MFA device %q must be arn:aws:iam::ACCOUNT:mfa/NAME of a listed account", errStateInvalid, d.Serial)
		}
		if _, err := decodeSeed(d.Seed); err != nil {
			return nil, fmt.Errorf("%w: MFA device %s: %v", errStateInvalid, d.Serial, err)
		}
		if d.User != "" && ix.users[userKey(d.Account, d.User)] == nil {
			return nil, fmt.Errorf("%w: MFA device %s is enabled for user %s, who is not listed", errStateInvalid, d.Serial, d.User)
		}
		if ix.devices[d.Serial] != nil {
			return nil, fmt.Errorf("%w: MFA device %s is listed twice", errStateInvalid, d.Serial)
		}
		ix.devices[d.Serial] = d
	}
	for i := range st.OIDCProviders {
		p := &st.OIDCProviders[i]
		if ix.accounts[p.Account] == nil || !strings.HasPrefix(p.URL, "https://") {
			return nil, fmt.Errorf("%w: OIDC provider %q needs an https:// URL and a listed account", errStateInvalid, p.URL)
		}
		e := &providerEntry{provider: p}
		for _, k := range p.Keys {
			pub, err := k.publicKey()
			if err != nil {
				return nil, fmt.Errorf("%w: OIDC provider %s key %q: %v", errStateInvalid, p.URL, k.Kid, err)
			}
			e.pub = append(e.pub, pub)
		}
		ix.providers[p.URL] = e
	}
	return ix, nil
}

func (ix *index) addKey(o keyOwner) error {
	k := o.key
	if !strings.HasPrefix(k.ID, "AKIA") || len(k.ID) < 16 || len(k.Secret) != 40 {
		return fmt.Errorf("%w: access key %q must be AKIA... with a 40-character secret", errStateInvalid, k.ID)
	}
	if k.Status != statusActive && k.Status != statusInactive {
		return fmt.Errorf("%w: access key %s: status must be Active or Inactive", errStateInvalid, k.ID)
	}
	if _, dup := ix.keys[k.ID]; dup {
		return fmt.Errorf("%w: access key %s is listed twice", errStateInvalid, k.ID)
	}
	ix.keys[k.ID] = o
	return nil
}

// Access key statuses (IAM's statusType).
const (
	statusActive   = "Active"
	statusInactive = "Inactive"
)

func parsePolicies(owner string, named []NamedPolicy) ([]*policy.Policy, error) {
	out := make([]*policy.Policy, 0, len(named))
	for _, np := range named {
		p, err := policy.Parse(np.Name, np.Document)
		if err != nil {
			return nil, fmt.Errorf("%s policy %s: %w", owner, np.Name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// devicesOf lists the MFA devices enabled for a user.
func (ix *index) devicesOf(u *User) []*MFADevice {
	var out []*MFADevice
	for _, d := range ix.devices {
		if d.Account == u.Account && d.User == u.Name {
			out = append(out, d)
		}
	}
	return out
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
