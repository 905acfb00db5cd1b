package broker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Profile is one [profile NAME] section of the broker's config file. The keys
// mean what they mean in ~/.aws/config.
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
	// IgnoreConfiguredEndpointURLs is ignore_configured_endpoint_urls.
	IgnoreConfiguredEndpointURLs bool

	// lines remembers where each key was set, for messages.
	lines map[string]int
}

// Config is the broker's profile file: AWS shared-config syntax, the same keys.
type Config struct {
	// Path is the file the config was read from ("" when there is none).
	Path     string
	Profiles map[string]*Profile
	// Services holds [services NAME] sections: service id (lower case,
	// as in the file) -> key -> value.
	Services map[string]map[string]map[string]string
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

// LoadConfig reads the config file at path. A missing file is an empty
// config: profiles can also live in the keystore alone.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Config{Path: path, Profiles: map[string]*Profile{}, Services: map[string]map[string]map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	return ParseConfig(path, f)
}

// maxConfigSize bounds what is read: a profile file is a few kilobytes.
const maxConfigSize = 1 << 20

var (
	// Validation patterns from the STS API reference (AssumeRole,
	// GetSessionToken request parameters).
	// Lengths are checked apart (lengthIn): a bounded repeat such as
	// {1,512} compiles into a large program, which would cost every
	// credbroker process a millisecond at start.
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

// ParseConfig parses AWS shared-config syntax: [profile NAME], [default],
// [services NAME] and [sso-session NAME] sections, and credbroker's own
// [daemon] and [access NAME] sections; key = value lines;
// comments starting with # or ;; indented lines continuing a key whose value
// is empty (sub-properties, as in services sections). As in botocore, keys
// are case-insensitive and a repeated section or key is an error.
func ParseConfig(path string, r io.Reader) (*Config, error) {
	cfg := &Config{Path: path, Profiles: map[string]*Profile{}, Services: map[string]map[string]map[string]string{}}
	sc := bufio.NewScanner(io.LimitReader(r, maxConfigSize+1))
	sc.Buffer(make([]byte, 64*1024), maxConfigSize+1)
	var (
		lineNo   int
		size     int
		kind     string // "profile", "services", "daemon", "access", "ignored", ""
		prof     *Profile
		rule     *AccessRule
		services map[string]map[string]string
		parent   string // key whose sub-properties follow
		seen     = map[string]int{}
		keysSeen map[string]int
	)
	fail := func(format string, args ...any) error {
		return &ConfigError{Path: path, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		size += len(raw) + 1
		if size > maxConfigSize {
			return nil, fail("file is larger than %d bytes", maxConfigSize)
		}
		if lineNo == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		indented := raw[0] == ' ' || raw[0] == '\t'
		if trimmed[0] == '[' {
			parent = ""
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fail("section header %q has no closing ]", trimmed)
			}
			header := strings.Join(strings.Fields(trimmed[1:len(trimmed)-1]), " ")
			if prev, dup := seen[header]; dup {
				return nil, fail("section [%s] is already defined at line %d", header, prev)
			}
			seen[header] = lineNo
			keysSeen = map[string]int{}
			prof, services, rule, kind = nil, nil, nil, ""
			name, isProfile := strings.CutPrefix(header, "profile ")
			switch {
			case header == "default":
				name, isProfile = "default", true
			case isProfile:
			case strings.HasPrefix(header, "services "):
				services = map[string]map[string]string{}
				cfg.Services[strings.TrimPrefix(header, "services ")] = services
				kind = "services"
				continue
			case header == "daemon":
				kind = "daemon"
				cfg.Daemon.Line = lineNo
				continue
			case strings.HasPrefix(header, "access "):
				rule = &AccessRule{Name: strings.TrimPrefix(header, "access "), Line: lineNo}
				cfg.Access = append(cfg.Access, rule)
				kind = "access"
				continue
			case strings.HasPrefix(header, "sso-session "), header == "plugins", header == "preview":
				kind = "ignored"
				continue
			case header == "":
				return nil, fail("empty section header []")
			default:
				return nil, fail("section [%s] is not a profile: write [profile %s] (the ~/.aws/config form)", header, header)
			}
			if err := ValidProfileName(name); err != nil {
				return nil, fail("%v", err)
			}
			if p, dup := cfg.Profiles[name]; dup {
				return nil, fail("profile %s is already defined at line %d", name, p.Line)
			}
			prof = &Profile{Name: name, Line: lineNo, lines: map[string]int{}}
			cfg.Profiles[name] = prof
			kind = "profile"
			continue
		}
		if kind == "" {
			return nil, fail("%q is outside any section: start with [profile NAME]", clip(trimmed))
		}
		key, value, ok := strings.Cut(trimmed, "=")
		if !ok {
			return nil, fail("expected key = value, found %q", clip(trimmed))
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = stripInlineComment(strings.TrimSpace(value))
		if key == "" {
			return nil, fail("a line starts with = and has no key")
		}
		if indented && parent != "" {
			if kind == "services" {
				services[parent][key] = value
			}
			continue
		}
		parent = ""
		if prev, dup := keysSeen[key]; dup {
			return nil, fail("key %s is already set at line %d", key, prev)
		}
		keysSeen[key] = lineNo
		if value == "" {
			parent = key
			if kind == "services" {
				services[key] = map[string]string{}
			}
			continue
		}
		var err error
		switch kind {
		case "profile":
			err = prof.set(key, value)
			prof.lines[key] = lineNo
		case "daemon":
			err = cfg.Daemon.set(key, value)
		case "access":
			err = rule.set(key, value)
		}
		if err != nil {
			return nil, fail("%v", err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fail("line is longer than %d bytes", maxConfigSize)
		}
		return nil, fmt.Errorf("read config %s: %w", path, err)
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

// stripInlineComment drops " # comment" and " ; comment" after a value, as
// the AWS SDKs do: the comment character must follow whitespace.
func stripInlineComment(v string) string {
	for i := 1; i < len(v); i++ {
		if (v[i] == '#' || v[i] == ';') && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

func lengthIn(s string, lo, hi int) bool { return len(s) >= lo && len(s) <= hi }

// clip keeps messages to one readable line.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func (p *Profile) set(key, value string) error {
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
		if err != nil || n < minDuration || n > maxSessionTokenDuration {
			return fmt.Errorf("duration_seconds %q must be a whole number of seconds from %d to %d", clip(value), minDuration, maxSessionTokenDuration)
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
	case "ignore_configured_endpoint_urls":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("ignore_configured_endpoint_urls %q must be true or false", clip(value))
		}
		p.IgnoreConfiguredEndpointURLs = b
	}
	// Other keys (output, cli_pager, credential_process, sso_*...) belong
	// to other tools; like the SDKs, ignore them.
	return nil
}

// check validates what needs the whole profile.
func (c *Config) check(p *Profile) error {
	at := func(key, format string, args ...any) error {
		line := p.lines[key]
		if line == 0 {
			line = p.Line
		}
		return &ConfigError{Path: c.Path, Line: line, Msg: fmt.Sprintf("profile %s: ", p.Name) + fmt.Sprintf(format, args...)}
	}
	if p.SourceProfile != "" && p.RoleARN == "" {
		return at("source_profile", "source_profile needs role_arn: a source profile is only used to assume a role")
	}
	if p.RoleARN != "" && p.DurationSeconds > maxRoleDuration {
		return at("duration_seconds", "duration_seconds %d exceeds %d, the longest role session STS issues", p.DurationSeconds, maxRoleDuration)
	}
	if p.Services != "" {
		if _, ok := c.Services[p.Services]; !ok {
			return at("services", "services %s names no [services %s] section", p.Services, p.Services)
		}
	}
	return nil
}

// Names lists the profiles in the file, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func checkEndpoint(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", clip(v))
	}
	return nil
}
