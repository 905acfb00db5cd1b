package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// State is everything the sandbox knows, as its JSON file holds it:
// accounts, IAM users with their access keys and inline policies, virtual
// MFA devices with their seeds, roles with trust and permission policies,
// OpenID Connect providers with their signing keys, and the key that
// seals what the sandbox issues. Its keys are made-up sandbox keys: they
// open nothing but this sandbox.
type State struct {
	Accounts      []Account      `json:"accounts"`
	Users         []User         `json:"users"`
	Roles         []Role         `json:"roles"`
	MFADevices    []MFADevice    `json:"mfaDevices,omitempty"`
	OIDCProviders []OIDCProvider `json:"oidcProviders,omitempty"`
	// SealKey (32 bytes) encrypts and authenticates the session tokens,
	// sign-in tokens and authorization messages the sandbox issues, and
	// derives the secret keys of temporary credentials: temporary
	// credentials are never stored, and they outlive a restart.
	SealKey []byte `json:"sealKey"`
}

// Account is an AWS account.
type Account struct {
	ID    string `json:"id"`
	Alias string `json:"alias,omitempty"`
	// RootAccessKeys are access keys of the account's root user. AWS
	// advises against them; they exist so that the root user's own
	// rules (a one-hour GetSessionToken, no AssumeRole) can be tried.
	RootAccessKeys []AccessKey `json:"rootAccessKeys,omitempty"`
}

// User is an IAM user.
type User struct {
	Account string `json:"account"`
	Name    string `json:"name"`
	// Path is "/" when empty.
	Path       string        `json:"path,omitempty"`
	ID         string        `json:"id"`
	CreateDate time.Time     `json:"createDate"`
	AccessKeys []AccessKey   `json:"accessKeys,omitempty"`
	Policies   []NamedPolicy `json:"policies,omitempty"`
}

// ARN is the user's ARN, with its path.
func (u *User) ARN() string {
	return "arn:aws:iam::" + u.Account + ":user" + pathOf(u.Path) + u.Name
}

// AccessKey is a long-lived access key.
type AccessKey struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// Status is Active or Inactive.
	Status     string    `json:"status"`
	CreateDate time.Time `json:"createDate"`
	LastUsed   *KeyUse   `json:"lastUsed,omitempty"`
}

// KeyUse is when and where an access key was last used.
type KeyUse struct {
	Date    time.Time `json:"date"`
	Service string    `json:"service"`
	Region  string    `json:"region"`
}

// MFADevice is a virtual MFA device: created in an account, then enabled
// for (assigned to) one user.
type MFADevice struct {
	Account string `json:"account"`
	// Serial is the device's ARN, arn:aws:iam::ACCOUNT:mfa/NAME.
	Serial string `json:"serial"`
	// Seed is the TOTP secret, base32 (RFC 6238, SHA1, 6 digits, 30 s).
	Seed string `json:"seed"`
	// User is the user it is enabled for, "" while unassigned.
	User       string     `json:"user,omitempty"`
	EnableDate *time.Time `json:"enableDate,omitempty"`
	// LastStep is the last TOTP time step whose code was accepted: AWS
	// refuses a code used before, so no step up to it is accepted again.
	LastStep int64 `json:"lastStep,omitempty"`
}

// Role is an IAM role.
type Role struct {
	Account    string    `json:"account"`
	Name       string    `json:"name"`
	Path       string    `json:"path,omitempty"`
	ID         string    `json:"id"`
	CreateDate time.Time `json:"createDate"`
	// TrustPolicy is the role's trust policy (AssumeRolePolicyDocument).
	TrustPolicy json.RawMessage `json:"trustPolicy"`
	Policies    []NamedPolicy   `json:"policies,omitempty"`
	// MaxSessionDuration in seconds, 3600 to 43200; 0 is AWS's default,
	// 3600.
	MaxSessionDuration int `json:"maxSessionDuration,omitempty"`
}

// ARN is the role's ARN, with its path.
func (r *Role) ARN() string {
	return "arn:aws:iam::" + r.Account + ":role" + pathOf(r.Path) + r.Name
}

// MaxSession is MaxSessionDuration with AWS's default.
func (r *Role) MaxSession() time.Duration {
	if r.MaxSessionDuration == 0 {
		return time.Hour
	}
	return time.Duration(r.MaxSessionDuration) * time.Second
}

// NamedPolicy is an inline policy: a name and an IAM JSON policy document.
type NamedPolicy struct {
	Name     string          `json:"name"`
	Document json.RawMessage `json:"document"`
}

// OIDCProvider is an OpenID Connect identity provider whose ID tokens
// AssumeRoleWithWebIdentity accepts.
type OIDCProvider struct {
	Account string `json:"account"`
	// URL is the issuer, as the tokens' iss claim names it
	// (https://token.example.com).
	URL       string   `json:"url"`
	ClientIDs []string `json:"clientIds"`
	// Keys are the provider's public signing keys (a JWKS's keys).
	Keys []JWK `json:"keys"`
}

// ARN is the provider's ARN, arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH.
func (p *OIDCProvider) ARN() string {
	return "arn:aws:iam::" + p.Account + ":oidc-provider/" + p.host()
}

func (p *OIDCProvider) host() string { return strings.TrimPrefix(p.URL, "https://") }

// JWK is an RSA public key as a JSON Web Key Set lists it.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func pathOf(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// LoadState reads a state file. Unknown fields and policies that do not
// parse are errors, named with where they are.
func LoadState(path string) (*State, error) {
	st, err := readState(path)
	if err != nil {
		return nil, err
	}
	if _, err := compile(st); err != nil {
		return nil, fmt.Errorf("sandbox state %s: %w", path, err)
	}
	return st, nil
}

// readState reads and decodes a state file without checking it.
func readState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sandbox state: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("sandbox state %s: %w", path, err)
	}
	return &st, nil
}

// Save writes the state to path atomically: a temporary file in the same
// folder, synced, then renamed over path, so that a reader (or a crash)
// sees the old file or the new one, never half of one. The file is 0600:
// it holds the sandbox's (made-up) secret keys and seeds.
func (st *State) Save(path string) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write sandbox state: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write sandbox state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write sandbox state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename itself survives a crash
		d.Close()
	}
	return nil
}

// clone is a deep copy, through JSON: the state is small and changes
// rarely (a key created, an MFA code used).
func (st *State) clone() (*State, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	var c State
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// errStateInvalid marks a state that does not hold together.
var errStateInvalid = errors.New("invalid sandbox state")
