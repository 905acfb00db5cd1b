package profile

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Profile is one [profile NAME] (or [default]) section. The keys mean what
// they mean in ~/.aws/config.
type Profile struct {
	Name string
	// Line is where the section starts, for messages.
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

	// lines remembers where each key was set, for messages.
	lines map[string]int
}

// Services is a [services NAME] section: service id (lower case, as in the
// file) -> key -> value.
type Services map[string]map[string]string

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
	// Users and Groups are names or numeric ids.
	Users, Groups []string
	// Profiles are globs (path.Match syntax: *, ?, [a-z]).
	Profiles []string
}

// Config is the broker's profile file: AWS shared-config syntax, the same
// keys, and credbroker's own [daemon] and [access NAME] sections.
type Config struct {
	// Path is the file the config was read from ("" when there is none).
	Path     string
	Profiles map[string]*Profile
	Services map[string]Services
	// Daemon is the [daemon] section.
	Daemon DaemonSettings
	// Access holds the [access NAME] sections, in file order.
	Access []*AccessRule
}

// ConfigError is a problem at a line of the config file.
type ConfigError struct {
	Path string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line == 0 {
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
	return &Config{Path: path, Profiles: map[string]*Profile{}, Services: map[string]Services{}}
}

// LoadConfig reads the config file at path. A missing file is an empty
// config: profiles can also live in the keystore alone.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return emptyConfig(path), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	return ParseConfig(path, f)
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
	regionPattern      = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-\d+$`)
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

// section is one typed section of the file: it takes the key = value
// lines (and sub-properties) written under its header.
type section interface {
	set(key, value string, line int) error
	setSub(parent, key, value string)
}

// ParseConfig parses AWS shared-config syntax: [profile NAME], [default],
// [services NAME] and [sso-session NAME] sections, and credbroker's own
// [daemon] and [access NAME] sections; key = value lines; comments
// starting with # or ;; indented lines continuing a key whose value is
// empty (sub-properties, as in services sections). As in botocore, keys are
// case-insensitive and a repeated section or key is an error.
func ParseConfig(path string, r io.Reader) (*Config, error) {
	cfg := emptyConfig(path)
	headers := map[string]int{}
	var (
		cur  section
		keys map[string]int
	)
	err := lex(path, r, func(e entry) error {
		fail := func(format string, args ...any) error {
			return &ConfigError{Path: path, Line: e.Line, Msg: fmt.Sprintf(format, args...)}
		}
		if e.Key == "" { // a header
			if prev, dup := headers[e.Section]; dup {
				return fail("section [%s] is already defined at line %d", e.Section, prev)
			}
			headers[e.Section] = e.Line
			keys = map[string]int{}
			var err error
			if cur, err = cfg.newSection(e.Section, e.Line); err != nil {
				return fail("%v", err)
			}
			return nil
		}
		if e.Parent != "" {
			cur.setSub(e.Parent, e.Key, e.Value)
			return nil
		}
		if prev, dup := keys[e.Key]; dup {
			return fail("key %s is already set at line %d", e.Key, prev)
		}
		keys[e.Key] = e.Line
		if err := cur.set(e.Key, e.Value, e.Line); err != nil {
			return fail("%v", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range cfg.Names() {
		if err := cfg.check(cfg.Profiles[name]); err != nil {
			return nil, err
		}
	}
	for _, r := range cfg.Access {
		if err := r.check(); err != nil {
			return nil, &ConfigError{Path: path, Line: r.Line, Msg: err.Error()}
		}
	}
	return cfg, nil
}

// newSection makes the typed section for a header and files it in cfg.
func (cfg *Config) newSection(header string, line int) (section, error) {
	name, isProfile := strings.CutPrefix(header, "profile ")
	switch {
	case header == "default":
		name, isProfile = "default", true
	case isProfile:
	case strings.HasPrefix(header, "services "):
		s := Services{}
		cfg.Services[strings.TrimPrefix(header, "services ")] = s
		return s, nil
	case header == "daemon":
		cfg.Daemon.Line = line
		return &cfg.Daemon, nil
	case strings.HasPrefix(header, "access "):
		rule := &AccessRule{Name: strings.TrimPrefix(header, "access "), Line: line}
		cfg.Access = append(cfg.Access, rule)
		return rule, nil
	case strings.HasPrefix(header, "sso-session "), header == "plugins", header == "preview":
		return ignored{}, nil
	default:
		return nil, fmt.Errorf("section [%s] is not a profile: write [profile %s] (the ~/.aws/config form)", header, header)
	}
	if err := ValidProfileName(name); err != nil {
		return nil, err
	}
	if p, dup := cfg.Profiles[name]; dup {
		return nil, fmt.Errorf("profile %s is already defined at line %d", name, p.Line)
	}
	p := &Profile{Name: name, Line: line, lines: map[string]int{}}
	cfg.Profiles[name] = p
	return p, nil
}

// ignored is a section of another tool's (sso-session, plugins, preview).
type ignored struct{}

func (ignored) set(string, string, int) error { return nil }
func (ignored) setSub(string, string, string) {}

func lengthIn(s string, lo, hi int) bool { return len(s) >= lo && len(s) <= hi }

func (p *Profile) setSub(string, string, string) {}

func (p *Profile) set(key, value string, line int) error {
	p.lines[key] = line
	if value == "" {
		return nil // a key that opens sub-properties: none are a profile's
	}
	switch key {
	case "role_arn":
		if !lengthIn(value, 20, 2048) || !roleARNPattern.MatchString(value) {
			return fmt.Errorf("role_arn %q is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)", clip(value))
		}
		p.RoleARN = value
	case "source_profile":
		if err := ValidProfileName(value); err != nil {
			return fmt.Errorf("source_profile: %w", err)
		}
		p.SourceProfile = value
	case "mfa_serial":
		if !lengthIn(value, 9, 256) || !mfaSerialPattern.MatchString(value) {
			return fmt.Errorf("mfa_serial %q is neither an MFA device ARN (arn:aws:iam::123456789012:mfa/NAME) nor a hardware serial", clip(value))
		}
		p.MFASerial = value
	case "external_id":
		if !lengthIn(value, 2, 1224) || !externalIDPattern.MatchString(value) {
			return fmt.Errorf("external_id must be 2 to 1224 characters of letters, digits and +=,.@:/-")
		}
		p.ExternalID = value
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
		if err := checkEndpoint(value); err != nil {
			return fmt.Errorf("endpoint_url: %w", err)
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
	}
	// Other keys (output, cli_pager, credential_process, sso_*...) belong
	// to other tools; like the SDKs, ignore them.
	return nil
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
	if len(r.Users) == 0 && len(r.Groups) == 0 {
		return fmt.Errorf("access %s: name users or groups", r.Name)
	}
	if len(r.Profiles) == 0 {
		return fmt.Errorf("access %s: name profiles (globs such as prod-*, or * for all)", r.Name)
	}
	return nil
}

func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// check validates what needs the whole profile.
func (cfg *Config) check(p *Profile) error {
	at := func(key, format string, args ...any) error {
		line := p.lines[key]
		if line == 0 {
			line = p.Line
		}
		return &ConfigError{Path: cfg.Path, Line: line, Msg: fmt.Sprintf("profile %s: ", p.Name) + fmt.Sprintf(format, args...)}
	}
	if p.SourceProfile != "" && p.RoleARN == "" {
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

func checkEndpoint(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", clip(v))
	}
	return nil
}
