package profile

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// STS duration limits, from the STS API reference: GetSessionToken takes 900
// to 129600 seconds for an IAM user; AssumeRole 900 up to the role's maximum
// session duration, at most 43200; a role assumed with temporary credentials
// (role chaining, which includes a GetSessionToken MFA session) at most 3600.
const (
	MinDuration             = 900
	MaxSessionTokenDuration = 129600
	MaxRoleDuration         = 43200
	MaxChainedDuration      = 3600
)

// Defaults: a session without MFA lasts an hour; an MFA session lasts 8
// hours (as aws-vault's chained sessions do), so switching roles does not ask
// for a new MFA code all day; AssumeRole's own default is an hour.
const (
	defaultSessionDuration    = time.Hour
	defaultMFASessionDuration = 8 * time.Hour
	defaultRoleDuration       = time.Hour
)

// RoleStep is one AssumeRole in a chain.
type RoleStep struct {
	Profile    string
	RoleARN    string
	ExternalID string
	// SessionName is role_session_name; "" lets the broker name the
	// session after the IAM user of the chain's key (see package broker).
	SessionName string
	// SourceIdentity is source_identity ("" for none).
	SourceIdentity string
	Duration       time.Duration
	// SessionPolicy is a file holding the session policy to send, and
	// PolicyARNs the managed session policies (see Profile).
	SessionPolicy string
	PolicyARNs    []string
	// Chained is true when the caller holds temporary credentials, which
	// limits the role session to an hour.
	Chained bool
	// MFA is true when this AssumeRole carries the chain's MFA device and
	// a code itself (SerialNumber and TokenCode), as the AWS CLI sends
	// them: the first role of a chain that asks for more than an hour,
	// which an MFA session could not give it (role chaining).
	MFA bool
	// Clamped records that the configured duration exceeded what STS allows
	// for this step and was lowered.
	Clamped bool
}

// RoleChain is how the credentials of a profile are made: the source
// profile's long-lived key, optionally a GetSessionToken (with MFA when
// MFASerial is set), then the AssumeRole steps in order.
type RoleChain struct {
	// Profile is the profile asked for.
	Profile string
	// Source is the profile whose access key starts the chain.
	Source string
	// MFASerial is the chain's MFA device ("" for none): used with
	// GetSessionToken, or with the first AssumeRole when that step has
	// MFA set.
	MFASerial string
	// MFAProcess is the mfa_process of the first profile down the chain
	// that sets one: what the client asked for a code runs to get it.
	MFAProcess string
	// SessionToken is true when the chain starts with GetSessionToken.
	SessionToken    bool
	SessionDuration time.Duration
	Steps           []RoleStep
	// Path lists the profiles from Profile down to Source.
	Path []string

	// Region is where STS is called: the profile's region (inherited
	// along source_profile), else AWS_REGION, else AWS_DEFAULT_REGION,
	// else the partition's default region. Never "".
	Region string
	// Partition is the AWS partition (aws, aws-cn, aws-us-gov, ...) the
	// chain's role ARNs, MFA device and region are in.
	Partition string
	Endpoint  Endpoint
}

// Resolver turns a profile name into a RoleChain.
type Resolver struct {
	Config *Config
	// Stored lists the profiles that have an access key in the keystore.
	Stored func() ([]string, error)
	// Getenv reads the environment (AWS_ENDPOINT_URL_STS, AWS_REGION...).
	Getenv func(string) string
}

// Known lists every profile: those in the config file and those with a
// stored access key, sorted.
func (r *Resolver) Known() ([]string, error) {
	stored, err := r.Stored()
	if err != nil {
		return nil, err
	}
	return r.known(stored), nil
}

// known is Known with the stored profiles already listed.
func (r *Resolver) known(stored []string) []string {
	set := map[string]bool{}
	for n := range r.Config.Profiles {
		set[n] = true
	}
	for _, n := range stored {
		set[n] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Resolve builds the chain for name. Errors: *UnknownProfileError,
// *CycleError, *UnsupportedError, *SelfReferenceError,
// *DelegatedProfileError, or a *ConfigError (a profile of ~/.aws/config
// that was refused when it was read, a chain that mixes partitions, an
// invalid endpoint or switch in the environment).
func (r *Resolver) Resolve(name string) (*RoleChain, error) {
	p, err := r.profile(name)
	if err != nil {
		return nil, err
	}
	chain := &RoleChain{Profile: name}
	var (
		roles               []*Profile
		path                []string
		mfaFrom, regionFrom *Profile
	)
	seen := map[string]int{}
	for {
		if i, dup := seen[p.Name]; dup {
			cycle := append(path[i:], p.Name)
			return nil, &CycleError{Path: firstNonEmpty(p.File, r.Config.Path, r.Config.AWSPath), Profiles: cycle}
		}
		seen[p.Name] = len(path)
		path = append(path, p.Name)
		if err := p.usable(len(path) == 1); err != nil {
			return nil, err
		}
		if len(path) > 1 && p.handsOff() {
			// The AWS CLI would run this source profile's
			// credential_process, which asks credbroker for another
			// profile: its credentials are that profile's.
			next, err := r.profile(p.runs)
			if err != nil {
				var u *UnknownProfileError
				if errors.As(err, &u) {
					s := p.at["credential_process"]
					return nil, &ConfigError{Path: s.file, Line: s.line, Msg: fmt.Sprintf("profile %s: credential_process asks credbroker for profile %s, which is not a known profile", p.Name, p.runs)}
				}
				return nil, err
			}
			p = next
			continue
		}
		if mfaFrom == nil && p.MFASerial != "" {
			mfaFrom = p
		}
		if chain.MFAProcess == "" {
			chain.MFAProcess = p.MFAProcess
		}
		if regionFrom == nil && p.Region != "" {
			regionFrom = p
		}
		if p.RoleARN == "" {
			break
		}
		roles = append(roles, p)
		// A role profile without source_profile, or naming itself, uses
		// its own stored key (botocore and aws-vault do the same).
		if p.SourceProfile == "" || p.SourceProfile == p.Name {
			break
		}
		next, err := r.profile(p.SourceProfile)
		if err != nil {
			if u, ok := err.(*UnknownProfileError); ok {
				u.From = p.Name
			}
			return nil, err
		}
		p = next
	}
	chain.Path = path
	chain.Source = path[len(path)-1]
	if mfaFrom != nil {
		chain.MFASerial = mfaFrom.MFASerial
	}
	if err := r.place(chain, roles, mfaFrom, regionFrom); err != nil {
		return nil, err
	}
	if chain.Endpoint, err = r.endpoint(path); err != nil {
		return nil, err
	}
	chain.Endpoint.CABundle = r.caBundle(name)

	// GetSessionToken starts the chain when there is an MFA device (its
	// session carries aws:MultiFactorAuthPresent into AssumeRole) or when
	// there is no role at all (the long-lived key is never handed out).
	// Except when the first role asks for more than an hour: a role
	// assumed with an MFA session is role chaining, capped at an hour, so
	// that AssumeRole carries the code itself and gets its full duration,
	// as the AWS CLI does (each such session costs a code of its own).
	directMFA := chain.MFASerial != "" && len(roles) > 0 && roles[len(roles)-1].DurationSeconds > MaxChainedDuration
	chain.SessionToken = (chain.MFASerial != "" && !directMFA) || len(roles) == 0
	if chain.SessionToken {
		// One duration per source and device, whichever profile asks:
		// the source handed out directly and the roles built on it share
		// one cached MFA session rather than replacing each other's (and
		// asking for a code each time).
		source := r.Config.Profiles[chain.Source]
		switch {
		case source != nil && source.RoleARN == "" && source.DurationSeconds > 0:
			chain.SessionDuration = seconds(source.DurationSeconds)
		case chain.MFASerial != "":
			chain.SessionDuration = defaultMFASessionDuration
		default:
			chain.SessionDuration = defaultSessionDuration
		}
	}
	for i := len(roles) - 1; i >= 0; i-- {
		rp := roles[i]
		step := RoleStep{
			Profile:        rp.Name,
			RoleARN:        rp.RoleARN,
			ExternalID:     rp.ExternalID,
			SessionName:    rp.RoleSessionName,
			SourceIdentity: rp.SourceIdentity,
			SessionPolicy:  rp.SessionPolicy,
			PolicyARNs:     rp.PolicyARNs,
			Duration:       defaultRoleDuration,
			Chained:        chain.SessionToken || len(chain.Steps) > 0,
			MFA:            directMFA && len(chain.Steps) == 0,
		}
		if rp.DurationSeconds > 0 {
			step.Duration = seconds(rp.DurationSeconds)
		}
		if step.Chained && step.Duration > MaxChainedDuration*time.Second {
			step.Duration, step.Clamped = MaxChainedDuration*time.Second, true
		}
		chain.Steps = append(chain.Steps, step)
	}
	return chain, nil
}

// profile returns the named profile: from the config file, or an implicit
// profile for a key stored without a config section.
func (r *Resolver) profile(name string) (*Profile, error) {
	if p, ok := r.Config.Profiles[name]; ok {
		return p, nil
	}
	stored, err := r.Stored()
	if err != nil {
		return nil, err
	}
	for _, s := range stored {
		if s == name {
			return &Profile{Name: name}, nil
		}
	}
	// The keystore is listed once: the names it gave are those known.
	return nil, &UnknownProfileError{Name: name, Known: r.known(stored), ConfigPath: firstNonEmpty(r.Config.Path, r.Config.AWSPath)}
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// UnknownProfileError names a profile that is neither in the config file nor
// in the keystore.
type UnknownProfileError struct {
	Name string
	// From is the profile whose source_profile named it, if any.
	From       string
	Known      []string
	ConfigPath string
}

func (e *UnknownProfileError) Error() string {
	known := "none"
	if len(e.Known) > 0 {
		known = strings.Join(e.Known, ", ")
	}
	if e.From != "" {
		return fmt.Sprintf("profile %s: source_profile %s is not a known profile (known: %s)", e.From, e.Name, known)
	}
	return fmt.Sprintf("unknown profile %s (known: %s)", e.Name, known)
}

// Is makes errors.Is(err, ErrUnknownProfile) work.
func (e *UnknownProfileError) Is(target error) bool { return target == ErrUnknownProfile }

// ErrUnknownProfile: the name is neither in the config file nor in the
// keystore.
var ErrUnknownProfile = errors.New("unknown profile")

// CycleError is a source_profile loop.
type CycleError struct {
	Path     string
	Profiles []string
}

// Is makes errors.Is(err, ErrConfig) work: a loop is a config mistake.
func (e *CycleError) Is(target error) bool { return target == ErrConfig }

func (e *CycleError) Error() string {
	return fmt.Sprintf("%s: source_profile cycle: %s", e.Path, strings.Join(e.Profiles, " -> "))
}

// Locate returns the region and STS endpoint for profile, which need not
// exist yet (credbroker add checks a new key against STS).
func (r *Resolver) Locate(profile string) (string, Endpoint, error) {
	region, part := "", partitions[len(partitions)-1]
	if p := r.Config.Profiles[profile]; p != nil {
		region = p.Region
		// The key's partition is its MFA device's, or its role's.
		for _, arn := range []string{p.MFASerial, p.RoleARN} {
			if pt, ok := partitionByID(arnPartition(arn)); ok {
				part = pt
				break
			}
		}
	}
	region = firstNonEmpty(region, r.Getenv("AWS_REGION"), r.Getenv("AWS_DEFAULT_REGION"), part.DefaultRegion)
	ep, err := r.endpoint([]string{profile})
	ep.CABundle = r.caBundle(profile)
	return region, ep, err
}

// Describe says in a few words how the chain's credentials are made, e.g.
// "role arn:aws:iam::210987654321:role/Admin via base with MFA".
func (c *RoleChain) Describe() string {
	var b strings.Builder
	if len(c.Steps) == 0 {
		b.WriteString("session from its own key")
	} else {
		b.WriteString("role " + c.Steps[len(c.Steps)-1].RoleARN)
		if c.Source == c.Profile {
			b.WriteString(" from its own key")
		} else {
			b.WriteString(" via " + c.Path[1])
		}
	}
	if c.MFASerial != "" {
		b.WriteString(" with MFA")
	}
	return b.String()
}

// caBundle is the CA bundle a profile's SDK would use: AWS_CA_BUNDLE, else
// the profile's own ca_bundle (botocore reads it from the profile in use,
// not from its source_profile).
func (r *Resolver) caBundle(name string) string {
	if v := r.Getenv("AWS_CA_BUNDLE"); v != "" {
		return v
	}
	if p := r.Config.Profiles[name]; p != nil {
		return p.CABundle
	}
	return ""
}

// usable says why a profile on a chain cannot be resolved: a problem kept
// from when its file was read, role_arn together with a credential_process
// that runs credbroker for itself (asked is true for the profile asked
// for), a key credbroker does not support yet, or (asked) a profile whose
// only credentials are another profile's, handed out by credbroker. What
// the AWS CLI does with credential_process is judged by what it sees: the
// section's own role_arn, not one brought in by include_profile.
func (p *Profile) usable(asked bool) error {
	if p.err != nil {
		return p.err
	}
	if asked && p.runs == p.Name && p.cliRole {
		s := p.at["credential_process"]
		return &SelfReferenceError{Profile: p.Name, File: s.file, Line: s.line}
	}
	if len(p.Unsupported) > 0 {
		key := p.Unsupported[0]
		for _, k := range unsupportedLead {
			if slices.Contains(p.Unsupported, k) {
				key = k
				break
			}
		}
		s := p.at[key]
		return &UnsupportedError{Profile: p.Name, Key: key, File: s.file, Line: s.line}
	}
	if asked && p.handsOff() {
		s := p.at["credential_process"]
		return &DelegatedProfileError{Profile: p.Name, Target: p.runs, File: s.file, Line: s.line}
	}
	return nil
}

// handsOff: for the AWS CLI, the profile's credentials are those
// credential_process asks credbroker for, of another profile (botocore
// tries role_arn first, so with a role of its own the command is never
// run).
func (p *Profile) handsOff() bool { return p.runs != "" && p.runs != p.Name && !p.cliRole }

// Origin says where a profile comes from, for credbroker list: the file
// its section is in, or "keystore" for a profile that is only a stored
// key. A name that is neither is an *UnknownProfileError.
func (r *Resolver) Origin(name string) (string, error) {
	if p, ok := r.Config.Profiles[name]; ok {
		return firstNonEmpty(p.File, r.Config.Path), nil
	}
	if _, err := r.profile(name); err != nil {
		return "", err
	}
	return "keystore", nil
}
