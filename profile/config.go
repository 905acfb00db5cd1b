package profile

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Profile is one [profile NAME] (or [default]) section, with what
// include_profile brings in already applied. The keys mean what they mean
// in ~/.aws/config (and, for include_profile, in aws-vault).
type Profile struct {
	Name string
	// File is the file the section is in; Line is where it starts, for
	// messages.
	File string
	Line int

	RoleARN         string
	SourceProfile   string
	MFASerial       string
	ExternalID      string
	RoleSessionName string
	// DurationSeconds is 0 when unset.
	DurationSeconds int32
	Region          string
	EndpointURL     string
	// Services names a [services NAME] section with per-service endpoints.
	Services string
	// CABundle is ca_bundle: a PEM file of certificates to trust.
	CABundle string
	// IgnoreConfiguredEndpointURLs is ignore_configured_endpoint_urls;
	// IgnoreSet says the key was written at all.
	IgnoreConfiguredEndpointURLs bool
	IgnoreSet                    bool
	// UseFIPSEndpoint and UseDualStackEndpoint are use_fips_endpoint and
	// use_dualstack_endpoint; nil when not written.
	UseFIPSEndpoint, UseDualStackEndpoint *bool
	// SessionPolicy is session_policy: a file holding an IAM policy sent
	// with AssumeRole, so the credentials can do less than the role
	// (absolute; a relative path in the file is taken from the file's
	// folder). PolicyARNs is policy_arns: managed policies sent likewise.
	SessionPolicy string
	PolicyARNs    []string
	// SourceIdentity is source_identity: sent with AssumeRole as
	// SourceIdentity, which CloudTrail records and every role chained
	// from the session keeps.
	SourceIdentity string
	// MFAProcess is mfa_process (as aws-vault reads it): a shell command
	// whose standard output is the MFA code. The client that is asked for
	// a code runs it, never the daemon.
	MFAProcess string
	// IncludeProfile is include_profile: the profile whose keys apply
	// where this one sets none (the fields above already hold them).
	IncludeProfile string
	// CredentialProcess is the command the AWS CLI runs for this
	// profile's credentials. credbroker never runs it; it only
	// recognises itself there (see SelfReferenceError).
	CredentialProcess string
	// Unsupported lists the keys of this profile that credbroker does not
	// support yet, in file order: resolving the profile, or a chain
	// through it, is an *UnsupportedError.
	Unsupported []string

	// at is where each key was set (possibly in an included profile).
	at map[string]setting
	// err is a problem found when the file was read that makes the
	// profile unusable, kept for when it is resolved: a profile of
	// ~/.aws/config (whose other profiles must keep working, as they do
	// for the AWS CLI) or a fragment that others include.
	err error
	// runs is the profile credential_process asks credbroker for.
	runs string
	// cliRole: role_arn is written in the section itself, where the AWS
	// CLI (which knows no include_profile) sees it.
	cliRole bool
}

// setting is one key's value and where it is written.
type setting struct {
	value, file string
	line        int
}

// CredbrokerProfile is the profile this profile's credential_process asks
// credbroker for ("" when it does not run credbroker).
func (p *Profile) CredbrokerProfile() string { return p.runs }

// Services is a [services NAME] section: service id (lower case, as in the
// file) -> key -> value.
type Services map[string]map[string]string

// Config is what credbroker knows of profiles: its own file (AWS
// shared-config syntax, the same keys, and credbroker's own [daemon] and
// [access NAME] sections), merged with the AWS CLI's ~/.aws/config when
// loaded with LoadSources.
type Config struct {
	// Path is credbroker's own file ("" when there is none); messages
	// that tell the owner where to add a profile name it.
	Path string
	// AWSPath is the AWS CLI's config file it was merged with ("" for
	// none).
	AWSPath  string
	Profiles map[string]*Profile
	Services map[string]Services
	// Daemon is the [daemon] section (credbroker's own file only).
	Daemon DaemonSettings
	// Access holds the [access NAME] sections, in file order
	// (credbroker's own file only).
	Access []*AccessRule
	// Warnings are what was read and ignored (unknown keys, sections the
	// AWS CLI ignores) or refused for one profile only, in file order,
	// credbroker's file first.
	Warnings []Warning

	// servicesAt is where each [services NAME] section starts.
	servicesAt map[string]setting
}

// Warning is something in a config file that credbroker ignores, or a
// profile of ~/.aws/config it refuses, which does not stop the rest from
// working.
type Warning struct {
	File string
	Line int
	Msg  string
}

// String is "FILE:LINE: MSG".
func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }

// ConfigError is a problem at a line of the config file, or (Path "") in
// a setting of the environment.
type ConfigError struct {
	Path string
	Line int
	Msg  string
	// Fix is what to do about it, "" when the message says it.
	Fix string
}

// Hint is what to do about it.
func (e *ConfigError) Hint() string { return e.Fix }

func (e *ConfigError) Error() string {
	switch {
	case e.Path == "":
		return e.Msg
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}

// Is makes errors.Is(err, ErrConfig) work.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// ErrConfig: the config file (or a setting in the environment) is wrong;
// retrying cannot help until someone edits it.
var ErrConfig = errors.New("invalid config")

// emptyConfig is the config of a file that does not exist.
func emptyConfig(path string) *Config {
	return &Config{Path: path, Profiles: map[string]*Profile{}, Services: map[string]Services{}, servicesAt: map[string]setting{}}
}

// LoadConfig reads credbroker's own config file at path. A missing file
// is an empty config: profiles can also live in the keystore alone.
func LoadConfig(path string) (*Config, error) {
	f, err := readFile(path, false)
	if err != nil {
		return nil, err
	}
	return assemble(f, nil)
}

var (
	// Validation patterns from the STS API reference (AssumeRole,
	// GetSessionToken request parameters). They are compiled when
	// credbroker-cli starts (the small credbroker program does not link
	// this package), so lengths are checked apart (lengthIn): a bounded
	// repeat such as {1,512} compiles into a large program that would cost
	// every command a millisecond; the account's {12} is small.
	roleARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	mfaSerialPattern   = regexp.MustCompile(`^[\w+=/:,.@-]+$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)
	regionPattern      = regexp.MustCompile(`^[a-z]{2,4}(-[a-z0-9]+)+-\d+$`)
	fidoSerialPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:u2f/`)
	policyARNPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+$`)
	profileNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+=-]*$`)
)

// ValidProfileName reports whether name can name a profile: letters, digits
// and . _ - @ + = (the keystore and file names depend on it).
func ValidProfileName(name string) error {
	if !lengthIn(name, 1, 128) || !profileNamePattern.MatchString(name) {
		return fmt.Errorf("invalid profile name %q: use up to 128 letters, digits and . _ - @ + =, starting with a letter or digit", name)
	}
	return nil
}

// ParseConfig parses credbroker's own file: AWS shared-config syntax,
// [profile NAME], [default], [services NAME] and [sso-session NAME]
// sections, and credbroker's own [daemon] and [access NAME] sections;
// key = value lines; comments starting with # or ;; indented lines
// continuing a key whose value is empty (sub-properties, as in services
// sections). As in botocore, keys are case-insensitive and a repeated
// section or key is an error. Any problem with a profile is an error here
// (the file is credbroker's: its owner fixes it), except the whole-profile
// checks of a fragment that other profiles include, which wait until it is
// resolved itself.
func ParseConfig(path string, r io.Reader) (*Config, error) {
	f, err := parseFile(path, r, false)
	if err != nil {
		return nil, err
	}
	return assemble(f, nil)
}

func lengthIn(s string, lo, hi int) bool { return len(s) >= lo && len(s) <= hi }

// set applies one key of the profile (after include_profile) to its field.
func (p *Profile) set(key, value string) error {
	switch key {
	case "role_arn":
		if !lengthIn(value, 20, 2048) || !roleARNPattern.MatchString(value) {
			return fmt.Errorf("role_arn %q is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)", clip(value))
		}
		if err := checkARNPartition("role_arn", value); err != nil {
			return err
		}
		p.RoleARN = value
	case "source_profile":
		if err := ValidProfileName(value); err != nil {
			return fmt.Errorf("source_profile: %w", err)
		}
		p.SourceProfile = value
	case "session_policy":
		switch {
		case strings.HasPrefix(value, "~/"):
			home, err := os.UserHomeDir()
			if err != nil {
				return fmt.Errorf("session_policy %q: %w", clip(value), err)
			}
			value = filepath.Join(home, value[2:])
		case !filepath.IsAbs(value) && p.File != "":
			value = filepath.Join(filepath.Dir(p.File), value)
		}
		p.SessionPolicy = value
	case "policy_arns":
		arns := splitList(value)
		if len(arns) == 0 || len(arns) > 10 {
			return fmt.Errorf("policy_arns: name 1 to 10 managed policy ARNs (AssumeRole takes at most 10), separated by commas")
		}
		for _, arn := range arns {
			if !policyARNPattern.MatchString(arn) {
				return fmt.Errorf("policy_arns: %q is not a managed policy ARN (arn:aws:iam::123456789012:policy/NAME or arn:aws:iam::aws:policy/NAME)", clip(arn))
			}
		}
		p.PolicyARNs = arns
	case "include_profile":
		if err := ValidProfileName(value); err != nil {
			return fmt.Errorf("include_profile: %w", err)
		}
		p.IncludeProfile = value
	case "mfa_serial":
		if !lengthIn(value, 9, 256) || !mfaSerialPattern.MatchString(value) {
			return fmt.Errorf("mfa_serial %q is neither an MFA device ARN (arn:aws:iam::123456789012:mfa/NAME) nor a hardware serial", clip(value))
		}
		if fidoSerialPattern.MatchString(value) {
			// IAM lists a FIDO security key as
			// arn:aws:iam::ACCOUNT:u2f/user/NAME/KEY-ID; GetSessionToken
			// and AssumeRole take a TokenCode, which only TOTP devices make.
			return fmt.Errorf("mfa_serial %q is a FIDO security key: STS takes only virtual and hardware TOTP devices (6-digit codes); name a virtual MFA device (arn:aws:iam::123456789012:mfa/NAME) or a hardware TOTP token's serial", clip(value))
		}
		if err := checkARNPartition("mfa_serial", value); err != nil {
			return err
		}
		p.MFASerial = value
	case "external_id":
		if !lengthIn(value, 2, 1224) || !externalIDPattern.MatchString(value) {
			return fmt.Errorf("external_id must be 2 to 1224 characters of letters, digits and +=,.@:/-")
		}
		p.ExternalID = value
	case "source_identity":
		// AssumeRole's SourceIdentity: 2 to 64 characters of [\w+=,.@-],
		// never starting with "aws:" (reserved; the pattern already
		// leaves out the colon).
		if !lengthIn(value, 2, 64) || !sessionNamePattern.MatchString(value) {
			return fmt.Errorf("source_identity %q must be 2 to 64 characters of letters, digits and _+=,.@-", clip(value))
		}
		p.SourceIdentity = value
	case "mfa_process":
		p.MFAProcess = value
	case "role_session_name":
		if !lengthIn(value, 2, 64) || !sessionNamePattern.MatchString(value) {
			return fmt.Errorf("role_session_name %q must be 2 to 64 characters of letters, digits and _+=,.@-", clip(value))
		}
		p.RoleSessionName = value
	case "duration_seconds":
		n, err := strconv.ParseInt(value, 10, 32)
		if err != nil || n < MinDuration || n > MaxSessionTokenDuration {
			return fmt.Errorf("duration_seconds %q must be a whole number of seconds from %d to %d", clip(value), MinDuration, MaxSessionTokenDuration)
		}
		p.DurationSeconds = int32(n)
	case "region":
		if !regionPattern.MatchString(value) {
			return fmt.Errorf("region %q is not an AWS region name such as us-east-1", clip(value))
		}
		p.Region = value
	case "endpoint_url":
		if err := checkEndpoint("endpoint_url", value); err != nil {
			return err
		}
		p.EndpointURL = value
	case "services":
		p.Services = value
	case "ca_bundle":
		p.CABundle = value
	case "ignore_configured_endpoint_urls":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("ignore_configured_endpoint_urls %q must be true or false", clip(value))
		}
		p.IgnoreConfiguredEndpointURLs, p.IgnoreSet = b, true
	case "use_fips_endpoint", "use_dualstack_endpoint":
		b, err := parseSwitch(value)
		if err != nil {
			return fmt.Errorf("%s %q must be true or false", key, clip(value))
		}
		if key == "use_fips_endpoint" {
			p.UseFIPSEndpoint = &b
		} else {
			p.UseDualStackEndpoint = &b
		}
	case "credential_process":
		p.CredentialProcess = value
		p.runs = credbrokerTarget(value)
	}
	return nil
}

// parseSwitch reads a use_*_endpoint value as the SDKs do: true or false
// in any case (the Go SDK's env_config, botocore's ensure_boolean).
func parseSwitch(v string) (bool, error) {
	switch {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return false, errors.New("not true or false")
}

func (s Services) set(key, value string, _ int) error {
	if value == "" {
		s[key] = map[string]string{} // sub-properties follow
	}
	return nil
}

func (s Services) setSub(parent, key, value string) {
	if s[parent] == nil {
		s[parent] = map[string]string{}
	}
	s[parent][key] = value
}

func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// check validates what needs the whole profile.
func (cfg *Config) check(p *Profile) error {
	at := func(key, format string, args ...any) error {
		s, ok := p.at[key]
		if !ok {
			s = setting{file: p.File, line: p.Line}
		}
		return &ConfigError{Path: s.file, Line: s.line, Msg: fmt.Sprintf("profile %s: ", p.Name) + fmt.Sprintf(format, args...)}
	}
	// A source_profile naming the profile itself means its own key, as in
	// aws-vault's include_profile examples ("parent" style).
	if p.SourceProfile != "" && p.SourceProfile != p.Name && p.RoleARN == "" {
		return at("source_profile", "source_profile needs role_arn: a source profile is only used to assume a role")
	}
	if p.RoleARN != "" && p.DurationSeconds > MaxRoleDuration {
		return at("duration_seconds", "duration_seconds %d exceeds %d, the longest role session STS issues", p.DurationSeconds, MaxRoleDuration)
	}
	if p.Services != "" {
		if _, ok := cfg.Services[p.Services]; !ok {
			return at("services", "services %s names no [services %s] section", p.Services, p.Services)
		}
	}
	return nil
}

// Names lists the profiles in the file, sorted.
func (cfg *Config) Names() []string {
	return slices.Sorted(maps.Keys(cfg.Profiles))
}
