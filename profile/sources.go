package profile

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Sources names the files profiles are read from.
type Sources struct {
	// Credbroker is credbroker's own file (CREDBROKER_CONFIG or its
	// default); AWS is the AWS CLI's (AWS_CONFIG_FILE or ~/.aws/config),
	// "" for none. Both are absolute; either may not exist.
	Credbroker, AWS string
}

// LoadSources reads both files into one Config. A profile defined in both
// is credbroker's file's, whole (its keys are not merged with the other
// one's), so credbroker's file can hold the chain of a profile whose
// ~/.aws/config section only runs credbroker. [services NAME] sections
// come from both (credbroker's file wins per name); [daemon] and [access
// NAME] only from credbroker's file. A problem with one profile of the
// AWS file does not stop the others: it is a Warning, and the error of
// resolving that profile.
func LoadSources(s Sources) (*Config, error) {
	for _, p := range []string{s.Credbroker, s.AWS} {
		if p != "" && !filepath.IsAbs(p) {
			return nil, fmt.Errorf("config path %q is not absolute", p)
		}
	}
	own, err := readFile(s.Credbroker, false)
	if err != nil {
		return nil, err
	}
	var aws *rawFile
	if s.AWS != "" && filepath.Clean(s.AWS) != filepath.Clean(s.Credbroker) {
		if aws, err = readFile(s.AWS, true); err != nil {
			return nil, err
		}
	}
	return assemble(own, aws)
}

// ParseAWSConfig parses the AWS CLI's config file with botocore's section
// rules: [default] and [profile NAME] are profiles, [sso-session NAME],
// [plugins] and [preview] are other tools', [services NAME] are endpoint
// sections; any other section is ignored, as botocore ignores it, with a
// Warning. credbroker's own [daemon] and [access NAME] sections are
// ignored here with a Warning. Problems with one profile are kept for
// when it is resolved (see LoadSources). The Config's Path is "" and
// AWSPath is path.
func ParseAWSConfig(path string, r io.Reader) (*Config, error) {
	f, err := parseFile(path, r, true)
	if err != nil {
		return nil, err
	}
	return assemble(nil, f)
}

// readFile parses one file; a missing one is empty.
func readFile(path string, aws bool) (*rawFile, error) {
	f, err := OpenRegular(path)
	if errors.Is(err, os.ErrNotExist) {
		return newRawFile(path, aws), nil
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	return parseFile(path, f, aws)
}

// rawFile is one file's sections, its profiles as written (before
// include_profile and before the files are merged).
type rawFile struct {
	path string
	// aws: the AWS CLI's file, read with botocore's section rules.
	aws        bool
	profiles   map[string]*rawProfile
	services   map[string]Services
	servicesAt map[string]setting
	daemon     DaemonSettings
	access     []*AccessRule
	warnings   []Warning
}

func newRawFile(path string, aws bool) *rawFile {
	return &rawFile{path: path, aws: aws, profiles: map[string]*rawProfile{}, services: map[string]Services{}, servicesAt: map[string]setting{}}
}

func (f *rawFile) warn(line int, format string, args ...any) {
	f.warnings = append(f.warnings, Warning{File: f.path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// rawProfile is a profile section as written.
type rawProfile struct {
	name, file string
	line       int
	// values holds the keys credbroker reads or refuses (supported and
	// unsupported); other tools' keys are dropped.
	values map[string]setting
	f      *rawFile
}

// section is one section of the file: it takes the key = value lines
// (and sub-properties) written under its header.
type section interface {
	set(key, value string, line int) error
	setSub(parent, key, value string)
}

// ignored is a section of another tool's (sso-session, plugins, preview)
// or one credbroker skips with a Warning.
type ignored struct{}

func (ignored) set(string, string, int) error { return nil }
func (ignored) setSub(string, string, string) {}

func parseFile(path string, r io.Reader, aws bool) (*rawFile, error) {
	f := newRawFile(path, aws)
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
			// botocore's configparser is strict: a repeated section or
			// key fails the whole file for the AWS CLI too.
			if prev, dup := headers[e.Section]; dup {
				return fail("section [%s] is already defined at line %d", e.Section, prev)
			}
			headers[e.Section] = e.Line
			keys = map[string]int{}
			var err error
			if cur, err = f.newSection(e.Section, e.Line); err != nil {
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
	for _, r := range f.access {
		if err := r.check(); err != nil {
			return nil, &ConfigError{Path: path, Line: r.Line, Msg: err.Error()}
		}
	}
	return f, nil
}

// newSection makes the section for a header and files it in f.
func (f *rawFile) newSection(header string, line int) (section, error) {
	name, isProfile := strings.CutPrefix(header, "profile ")
	switch {
	case header == "default":
		name, isProfile = "default", true
	case isProfile:
	case strings.HasPrefix(header, "services "):
		s := Services{}
		n := strings.TrimPrefix(header, "services ")
		f.services[n] = s
		f.servicesAt[n] = setting{file: f.path, line: line}
		return s, nil
	case f.aws && (header == "daemon" || strings.HasPrefix(header, "access ")):
		f.warn(line, "section [%s] is read only from credbroker's own config file: ignored here", header)
		return ignored{}, nil
	case header == "daemon":
		f.daemon.Line = line
		return &f.daemon, nil
	case strings.HasPrefix(header, "access "):
		rule := &AccessRule{Name: strings.TrimPrefix(header, "access "), Line: line}
		f.access = append(f.access, rule)
		return rule, nil
	case strings.HasPrefix(header, "sso-session "), header == "plugins", header == "preview":
		return ignored{}, nil
	case f.aws:
		// botocore's build_profile_map files such a section apart from
		// the profiles: the AWS CLI never uses it as one.
		f.warn(line, "section [%s] is not a profile and the AWS CLI ignores it: ignored (a profile is [profile %s])", header, header)
		return ignored{}, nil
	default:
		return nil, fmt.Errorf("section [%s] is not a profile: write [profile %s] (the ~/.aws/config form)", header, header)
	}
	if err := ValidProfileName(name); err != nil {
		if f.aws {
			f.warn(line, "%v: credbroker ignores this profile", err)
			return ignored{}, nil
		}
		return nil, err
	}
	if p, dup := f.profiles[name]; dup {
		if !f.aws {
			return nil, fmt.Errorf("profile %s is already defined at line %d", name, p.line)
		}
		// [default] and [profile default] fill one entry of botocore's
		// profile map, in file order: the later one is used.
		f.warn(line, "profile %s is also defined at line %d: this section is used, as the AWS CLI uses the later one", name, p.line)
	}
	p := &rawProfile{name: name, file: f.path, line: line, values: map[string]setting{}, f: f}
	f.profiles[name] = p
	return p, nil
}

func (p *rawProfile) setSub(string, string, string) {}

func (p *rawProfile) set(key, value string, line int) error {
	if value == "" && classifyKey(key) != keyUnknown {
		return nil // unset, or a key of another tool's sub-properties
	}
	switch classifyKey(key) {
	case keySupported, keyUnsupported:
		p.values[key] = setting{value: value, file: p.file, line: line}
	case keySecret:
		p.f.warn(line, "profile %s has %s in a config file: credbroker never reads keys from files; store the key with credbroker add %s and delete the line", p.name, key, p.name)
	case keyUnknown:
		if key == "parent_profile" {
			// aws-vault 5's name for include_profile, which wins when
			// both are written.
			p.f.warn(line, "parent_profile is aws-vault 5's name for include_profile: read as include_profile")
			if _, set := p.values["include_profile"]; !set && value != "" {
				p.values["include_profile"] = setting{value: value, file: p.file, line: line}
			}
			return nil
		}
		p.f.warn(line, "%s", unknownKeyMessage(key, p.name))
	}
	return nil
}

// assemble merges the files (own may be nil for the AWS file alone, aws
// nil for credbroker's alone), applies include_profile and checks each
// profile.
func assemble(own, aws *rawFile) (*Config, error) {
	cfg := emptyConfig("")
	raws := map[string]*rawProfile{}
	for _, f := range []*rawFile{aws, own} { // own last: it wins
		if f == nil {
			continue
		}
		maps.Copy(raws, f.profiles)
		maps.Copy(cfg.Services, f.services)
		maps.Copy(cfg.servicesAt, f.servicesAt)
	}
	if own != nil {
		cfg.Path, cfg.Daemon, cfg.Access = own.path, own.daemon, own.access
		cfg.Warnings = append(cfg.Warnings, own.warnings...)
	}
	if aws != nil {
		cfg.AWSPath = aws.path
		cfg.Warnings = append(cfg.Warnings, aws.warnings...)
	}
	// A fragment is a profile another profile includes: aws-vault's
	// "mixin" example has one with source_profile and no role_arn, which
	// is fine until the fragment itself is resolved.
	fragments := map[string]bool{}
	for _, rp := range raws {
		if inc, ok := rp.values["include_profile"]; ok {
			fragments[inc.value] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(raws)) {
		rp := raws[name]
		fatal := !rp.f.aws // credbroker's own file: its owner fixes it now
		p, err := build(raws, rp)
		if err == nil {
			if err = cfg.check(p); err != nil && fragments[name] {
				p.err = err // waits until the fragment is resolved
				cfg.Profiles[name] = p
				continue
			}
		}
		if err != nil {
			if fatal {
				return nil, err
			}
			var ce *ConfigError
			if errors.As(err, &ce) {
				msg := ce.Msg
				if !strings.HasPrefix(msg, "profile "+name+": ") {
					msg = "profile " + name + ": " + msg
				}
				cfg.Warnings = append(cfg.Warnings, Warning{File: ce.Path, Line: ce.Line, Msg: msg + " (credbroker refuses this profile)"})
			}
			p = &Profile{Name: rp.name, File: rp.file, Line: rp.line, err: err}
		}
		cfg.Profiles[name] = p
	}
	// File order, credbroker's file first.
	slices.SortStableFunc(cfg.Warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(boolInt(a.File != cfg.Path), boolInt(b.File != cfg.Path)), cmp.Compare(a.Line, b.Line))
	})
	return cfg, nil
}

// build makes a profile from its section and, by aws-vault's
// include_profile rule, from the profiles it includes: each key the
// profile does not set is taken from the included profile, then from the
// profile that one includes, and so on (aws-vault's
// ConfigLoader.populateFromConfigFile). An include of no profile, or a
// loop of includes, is a *ConfigError at the include_profile line.
func build(raws map[string]*rawProfile, rp *rawProfile) (*Profile, error) {
	values := maps.Clone(rp.values)
	chain := []string{rp.name}
	for from := rp; ; {
		inc, ok := from.values["include_profile"]
		if !ok {
			break
		}
		if err := ValidProfileName(inc.value); err != nil {
			return nil, &ConfigError{Path: inc.file, Line: inc.line, Msg: "include_profile: " + err.Error()}
		}
		next, ok := raws[inc.value]
		if !ok {
			return nil, &ConfigError{Path: inc.file, Line: inc.line, Msg: fmt.Sprintf("profile %s: include_profile %s names no profile", from.name, inc.value)}
		}
		if slices.Contains(chain, next.name) {
			return nil, &ConfigError{Path: inc.file, Line: inc.line, Msg: "include_profile cycle: " + strings.Join(append(chain, next.name), " -> ")}
		}
		chain = append(chain, next.name)
		for k, v := range next.values {
			// credential_process is the AWS CLI's, which knows no
			// include_profile: it stays in its own section.
			if _, set := values[k]; !set && k != "include_profile" && k != "credential_process" {
				values[k] = v
			}
		}
		from = next
	}
	_, cliRole := rp.values["role_arn"]
	p := &Profile{Name: rp.name, File: rp.file, Line: rp.line, at: values, cliRole: cliRole}
	// In file order, the profile's own keys first: the first problem is
	// the one reported.
	keys := slices.SortedFunc(maps.Keys(values), func(a, b string) int {
		va, vb := values[a], values[b]
		return cmp.Or(
			cmp.Compare(boolInt(va.file != rp.file), boolInt(vb.file != rp.file)),
			cmp.Compare(va.file, vb.file),
			cmp.Compare(va.line, vb.line),
			cmp.Compare(a, b))
	})
	for _, k := range keys {
		v := values[k]
		if classifyKey(k) == keyUnsupported {
			p.Unsupported = append(p.Unsupported, k)
			continue
		}
		if err := p.set(k, v.value); err != nil {
			return nil, &ConfigError{Path: v.file, Line: v.line, Msg: err.Error()}
		}
	}
	return p, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
