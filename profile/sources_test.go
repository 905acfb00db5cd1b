package profile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testdataSources are the fixture files, as absolute paths.
func testdataSources(t *testing.T) Sources {
	t.Helper()
	own, err := filepath.Abs("testdata/sources/credbroker.conf")
	if err != nil {
		t.Fatal(err)
	}
	aws, err := filepath.Abs("testdata/sources/aws-config")
	if err != nil {
		t.Fatal(err)
	}
	return Sources{Credbroker: own, AWS: aws}
}

func warningStrings(cfg *Config) []string {
	var out []string
	for _, w := range cfg.Warnings {
		out = append(out, w.String())
	}
	return out
}

func TestLoadSources(t *testing.T) {
	t.Parallel()
	src := testdataSources(t)
	cfg, err := LoadSources(src)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != src.Credbroker || cfg.AWSPath != src.AWS {
		t.Errorf("Path, AWSPath = %q, %q", cfg.Path, cfg.AWSPath)
	}
	if got := strings.Join(cfg.Names(), ","); got != "admin,base,broken,default,dev,typo,uses-local,uses-other" {
		t.Errorf("profiles = %s", got)
	}
	// admin is in both files: credbroker's section wins whole, so the AWS
	// file's credential_process is not merged into it.
	admin := cfg.Profiles["admin"]
	if admin.File != src.Credbroker || admin.Line != 5 || admin.RoleARN == "" || admin.CredentialProcess != "" {
		t.Errorf("admin = %+v", admin)
	}
	if base := cfg.Profiles["base"]; base.File != src.AWS || base.Line != 5 {
		t.Errorf("base comes from %s:%d", base.File, base.Line)
	}
	if got := cfg.Services["local"]["sts"]["endpoint_url"]; got != "https://own.example" {
		t.Errorf("[services local] = %q, want credbroker's", got)
	}
	if got := cfg.Services["other"]["sts"]["endpoint_url"]; got != "https://other.example" {
		t.Errorf("[services other] = %q, want the AWS file's", got)
	}
	if cfg.Daemon.SocketGroup != "credbroker" || len(cfg.Access) != 1 || cfg.Access[0].Name != "ops" {
		t.Errorf("daemon %+v, access %+v: want credbroker's own only", cfg.Daemon, cfg.Access)
	}
	want := []string{
		src.AWS + ":21: unknown key role_ar in profile typo (a typo of role_arn?)",
		src.AWS + ":31: section [daemon] is read only from credbroker's own config file: ignored here",
		src.AWS + ":34: section [access all] is read only from credbroker's own config file: ignored here",
		src.AWS + ":44: section [prod] is not a profile and the AWS CLI ignores it: ignored (a profile is [profile prod])",
		src.AWS + `:48: profile broken: region "Europe" is not an AWS region name such as us-east-1 (credbroker refuses this profile)`,
	}
	if got := warningStrings(cfg); !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"base", "loose"}, nil }, Getenv: func(string) string { return "" }}
	c, err := r.Resolve("admin")
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != "base" || c.MFASerial != "arn:aws:iam::123456789012:mfa/alice" || len(c.Steps) != 1 || c.Region != "eu-west-1" {
		t.Errorf("admin chain = %+v", c)
	}
	// One bad profile of ~/.aws/config does not stop the others, and
	// asking for it names the line.
	_, err = r.Resolve("broken")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Path != src.AWS || ce.Line != 48 {
		t.Errorf("broken: err = %v", err)
	}
	for name, want := range map[string]string{
		"uses-local": "https://own.example ([services local] in " + src.Credbroker + ")",
		"uses-other": "https://other.example ([services other] in " + src.AWS + ")",
	} {
		r := *r
		r.Stored = func() ([]string, error) { return []string{name}, nil }
		c, err := r.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Endpoint.URL + " (" + strings.TrimPrefix(c.Endpoint.Source, "from ") + ")"; got != want {
			t.Errorf("%s endpoint = %s, want %s", name, got, want)
		}
	}
	for name, want := range map[string]string{"admin": src.Credbroker, "base": src.AWS, "loose": "keystore"} {
		if got, err := r.Origin(name); err != nil || got != want {
			t.Errorf("Origin(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := r.Origin("nope"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("Origin(nope): err = %v", err)
	}
}

func TestLoadSourcesFiles(t *testing.T) {
	t.Parallel()
	src := testdataSources(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		sources  Sources
		profiles string
		warnings int
		err      string
	}{
		{"credbroker's file missing", Sources{Credbroker: filepath.Join(dir, "none"), AWS: src.AWS}, "admin,base,broken,default,dev,typo,uses-local,uses-other", 5, ""},
		{"AWS file missing", Sources{Credbroker: src.Credbroker, AWS: filepath.Join(dir, "none")}, "admin", 0, ""},
		{"no AWS file", Sources{Credbroker: src.Credbroker}, "admin", 0, ""},
		// One file named twice is read once, as credbroker's.
		{"same file", Sources{Credbroker: src.Credbroker, AWS: src.Credbroker}, "admin", 0, ""},
		{"relative path", Sources{Credbroker: "credbroker.conf"}, "", 0, `config path "credbroker.conf" is not absolute`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := LoadSources(tc.sources)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(cfg.Names(), ","); got != tc.profiles {
				t.Errorf("profiles = %s, want %s", got, tc.profiles)
			}
			if len(cfg.Warnings) != tc.warnings {
				t.Errorf("warnings = %q", warningStrings(cfg))
			}
		})
	}
}

func TestLoadSourcesUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("[default]\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSources(Sources{AWS: path}); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("err = %v", err)
	}
}

// TestParseAWSConfigSections: botocore's section rules, and what
// credbroker says about what it ignores.
func TestParseAWSConfigSections(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		profiles   string
		warnings   []string
	}{
		{"profiles and default", "[default]\nregion = eu-west-1\n[profile a]\n", "a,default", nil},
		{"colon delimiter", "[profile a]\nregion: eu-west-1\nrole_arn: arn:aws:iam::123456789012:role/R\nmfa_serial = arn:aws:iam::123456789012:mfa/a\n", "a", nil},
		{"other tools' sections", "[sso-session corp]\nsso_region = eu-west-1\n[plugins]\nx = y\n[preview]\nsdb = true\n[services s]\nsts =\n  endpoint_url = https://x.example\n", "", nil},
		{"bare section", "[prod]\nregion = us-east-1\n", "", []string{"c:1: section [prod] is not a profile and the AWS CLI ignores it: ignored (a profile is [profile prod])"}},
		{"botocore's prefix quirk", "[profiles x]\n", "", []string{"c:1: section [profiles x] is not a profile and the AWS CLI ignores it: ignored (a profile is [profile profiles x])"}},
		{"credbroker's sections", "[daemon]\naudit_log = relative\n[access x]\n", "", []string{
			"c:1: section [daemon] is read only from credbroker's own config file: ignored here",
			"c:3: section [access x] is read only from credbroker's own config file: ignored here"}},
		{"a name credbroker cannot keep", "[profile a b]\nregion = us-east-1\n[profile ok]\n", "ok", []string{
			`c:1: invalid profile name "a b": use up to 128 letters, digits and . _ - @ + =, starting with a letter or digit: credbroker ignores this profile`}},
		{"default twice: the later wins", "[profile default]\nregion = eu-west-1\n[default]\nregion = us-west-2\n", "default", []string{
			"c:3: profile default is also defined at line 1: this section is used, as the AWS CLI uses the later one"}},
		{"static keys are never read", "[profile k]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t-value\n", "k", []string{
			"c:2: profile k has aws_access_key_id in a config file: credbroker never reads keys from files; store the key with credbroker add k and delete the line",
			"c:3: profile k has aws_secret_access_key in a config file: credbroker never reads keys from files; store the key with credbroker add k and delete the line"}},
		{"other tools' keys", `[profile t]
output = json
cli_pager =
cli_timestamp_format = iso8601
region = eu-west-1
credential_process = /usr/local/bin/other-tool --json
s3 =
  max_concurrent_requests = 20
retry_mode = standard
max_attempts = 5
ca_bundle = /etc/ssl/ca.pem
duration_seconds = 3600
parameter_validation = false
tcp_keepalive = true
endpoint_discovery_enabled = true
sts_regional_endpoints = regional
granted_sso_start_url = https://example.awsapps.com/start
`, "t", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseAWSConfig("c", strings.NewReader(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(cfg.Names(), ","); got != tc.profiles {
				t.Errorf("profiles = %s, want %s", got, tc.profiles)
			}
			if got := warningStrings(cfg); !slices.Equal(got, tc.warnings) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.warnings, "\n"))
			}
			for _, w := range cfg.Warnings {
				if strings.Contains(w.Msg, "s3cr3t") || strings.Contains(w.Msg, "AKIAEXAMPLE") {
					t.Errorf("a warning carries a secret: %s", w)
				}
			}
			if cfg.Path != "" || cfg.AWSPath != "c" {
				t.Errorf("Path, AWSPath = %q, %q", cfg.Path, cfg.AWSPath)
			}
		})
	}
	cfg, _ := ParseAWSConfig("c", strings.NewReader("[profile a]\nregion: eu-west-1\nrole_arn: arn:aws:iam::123456789012:role/R\n"))
	if p := cfg.Profiles["a"]; p.Region != "eu-west-1" || p.RoleARN != "arn:aws:iam::123456789012:role/R" {
		t.Errorf("colon delimiter: a = %+v", p)
	}
	cfg, _ = ParseAWSConfig("c", strings.NewReader("[profile default]\nregion = eu-west-1\n[default]\nregion = us-west-2\n"))
	if p := cfg.Profiles["default"]; p.Region != "us-west-2" || p.Line != 3 {
		t.Errorf("default = %+v, want the later section", p)
	}
}

// TestParseAWSConfigErrors: what fails botocore's strict configparser
// fails the whole file here too.
func TestParseAWSConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, text, want string }{
		{"duplicate section", "[profile a]\n[profile a]\n", "c:2: section [profile a] is already defined at line 1"},
		{"duplicate key", "[profile a]\nregion = us-east-1\nregion = eu-west-1\n", "c:3: key region is already set at line 2"},
		{"outside section", "region = us-east-1\n", `c:1: "region = us-east-1" is outside any section`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAWSConfig("c", strings.NewReader(tc.text))
			if !errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

// TestAWSConfigProfileErrorsWait: a profile of ~/.aws/config that
// credbroker refuses is a Warning when read and the error of resolving it
// (or a chain through it); in credbroker's own file the same line fails
// the file.
func TestAWSConfigProfileErrorsWait(t *testing.T) {
	t.Parallel()
	text := `[profile bad]
role_arn = arn:aws:iam::123:role/X
[profile http]
endpoint_url = http://10.0.0.5:4566
[profile fine]
region = eu-west-1
[profile via-bad]
role_arn = arn:aws:iam::123456789012:role/V
source_profile = bad
[profile lonely]
source_profile = fine
`
	cfg, err := ParseAWSConfig("/home/u/.aws/config", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`/home/u/.aws/config:2: profile bad: role_arn "arn:aws:iam::123:role/X" is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME) (credbroker refuses this profile)`,
		"/home/u/.aws/config:4: profile http: endpoint_url http://10.0.0.5:4566: plain http is accepted only on loopback: use https (credbroker refuses this profile)",
		"/home/u/.aws/config:11: profile lonely: source_profile needs role_arn: a source profile is only used to assume a role (credbroker refuses this profile)",
	}
	if got := warningStrings(cfg); !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"bad", "fine"}, nil }, Getenv: func(string) string { return "" }}
	if _, err := r.Resolve("fine"); err != nil {
		t.Errorf("fine: %v", err)
	}
	for name, line := range map[string]int{"bad": 2, "http": 4, "via-bad": 2, "lonely": 11} {
		_, err := r.Resolve(name)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Line != line || ce.Path != "/home/u/.aws/config" {
			t.Errorf("%s: err = %v, want a *ConfigError at line %d", name, err, line)
		}
	}
	if _, err := ParseConfig("own", strings.NewReader(text)); err == nil || !strings.HasPrefix(err.Error(), "own:2: role_arn") {
		t.Errorf("credbroker's file: err = %v", err)
	}
}

func TestUnknownKeyWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, want string }{
		{"role_ar", "unknown key role_ar in profile admin (a typo of role_arn?)"},
		{"mfa_seriall", "unknown key mfa_seriall in profile admin (a typo of mfa_serial?)"},
		{"regoin", "unknown key regoin in profile admin (a typo of region?)"},
		{"source_profil", "unknown key source_profil in profile admin (a typo of source_profile?)"},
		{"sourceprofile", "unknown key sourceprofile in profile admin (a typo of source_profile?)"},
		{"include_profiles", "unknown key include_profiles in profile admin (a typo of include_profile?)"},
		{"use_fips_endpoints", "unknown key use_fips_endpoints in profile admin (a typo of use_fips_endpoint?)"},
		{"colour", "unknown key colour in profile admin"},
		{"rl", "unknown key rl in profile admin"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			text := "# ~/.aws/config\n\n[default]\nregion = us-east-1\n\n[profile admin]\n" + tc.key + " = x\n"
			cfg, err := ParseAWSConfig("/home/u/.aws/config", strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if got := warningStrings(cfg); len(got) != 1 || got[0] != "/home/u/.aws/config:7: "+want {
				t.Errorf("warnings = %q, want %q", got, "/home/u/.aws/config:7: "+want)
			}
		})
	}
	// credbroker's own file warns the same way, and still loads.
	cfg := parse(t, "[profile a]\nrole_ar = x\n")
	if got := warningStrings(cfg); len(got) != 1 || got[0] != "/etc/credbroker/config:2: unknown key role_ar in profile a (a typo of role_arn?)" {
		t.Errorf("own file warnings = %q", got)
	}
}

func TestUnsupportedKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, keys, want string
		line             int
	}{
		{"sso_session", "sso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev", "sso_session", 2},
		// sso_session names the kind of credentials, even when written
		// after the other sso_* keys.
		{"sso_session last", "sso_account_id = 111122223333\nsso_session = corp", "sso_session", 3},
		{"legacy sso", "sso_account_id = 111122223333\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1", "sso_start_url", 3},
		{"sso_region", "sso_region = eu-west-1", "sso_region", 2},
		{"sso_role_name", "sso_role_name = Dev", "sso_role_name", 2},
		{"sso_registration_scopes", "sso_registration_scopes = sso:account:access", "sso_registration_scopes", 2},
		{"any sso_ key", "sso_something_new = x", "sso_something_new", 2},
		{"credential_source with role_arn", "role_arn = arn:aws:iam::123456789012:role/R\ncredential_source = Ec2InstanceMetadata", "credential_source", 3},
		{"web identity", "role_arn = arn:aws:iam::123456789012:role/R\nweb_identity_token_file = /var/run/token", "web_identity_token_file", 3},
		{"session_tags", "session_tags = team=dev", "session_tags", 2},
		{"login_session", "login_session = arn:aws:iam::123456789012:user/alice", "login_session", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text := "[profile dev]\n" + tc.keys + "\n[profile r]\nrole_arn = arn:aws:iam::123456789012:role/Uses\nsource_profile = dev\n"
			cfg, err := ParseAWSConfig("/home/u/.aws/config", strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Warnings) != 0 {
				t.Errorf("warnings = %q: an unsupported key is not unknown", warningStrings(cfg))
			}
			if !slices.Contains(cfg.Profiles["dev"].Unsupported, tc.want) {
				t.Errorf("Unsupported = %q", cfg.Profiles["dev"].Unsupported)
			}
			r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"dev"}, nil }, Getenv: func(string) string { return "" }}
			for _, asked := range []string{"dev", "r"} {
				_, err := r.Resolve(asked)
				var ue *UnsupportedError
				if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) {
					t.Fatalf("%s: err = %v, want an *UnsupportedError", asked, err)
				}
				if want := "profile dev uses " + tc.want + ", which credbroker does not support yet"; err.Error() != want {
					t.Errorf("%s: err = %q, want %q", asked, err, want)
				}
				if ue.Profile != "dev" || ue.Key != tc.want || ue.File != "/home/u/.aws/config" || ue.Line != tc.line {
					t.Errorf("%s: %+v", asked, ue)
				}
				if strings.Contains(err.Error(), "credbroker add") || strings.Contains(ue.Hint(), "credbroker add") {
					t.Errorf("%s: an unsupported profile is not fixed by storing a key: %q / %q", asked, err, ue.Hint())
				}
			}
		})
	}
}

func TestIncludeProfile(t *testing.T) {
	t.Parallel()
	// aws-vault's USAGE.md examples, with 12-digit account ids.
	const mixin = `; The "common" profile here operates as a "config fragment" rather than a profile
[profile common]
region=eu-west-1
mfa_serial=arn:aws:iam::123456789012:mfa/johnsmith
source_profile = root

[profile root]
include_profile = common

[profile order-dev]
include_profile = common
role_arn=arn:aws:iam::123456789012:role/developers

[profile order-staging-admin]
include_profile = common
role_arn=arn:aws:iam::123456789012:role/administrators
`
	const parent = `[profile root]
region=eu-west-1
mfa_serial=arn:aws:iam::123456789012:mfa/johnsmith
source_profile = root

[profile order-dev]
include_profile = root
role_arn=arn:aws:iam::123456789012:role/developers

[profile order-staging-admin]
include_profile = root
role_arn=arn:aws:iam::123456789012:role/administrators
`
	const chained = `[profile a]
include_profile = b
region = us-west-2
[profile b]
include_profile = c
region = eu-west-1
role_session_name = from-b
[profile c]
role_session_name = from-c
external_id = from-c
role_arn = arn:aws:iam::123456789012:role/C
mfa_serial = arn:aws:iam::123456789012:mfa/c
`
	const mfa = "arn:aws:iam::123456789012:mfa/johnsmith"
	for _, tc := range []struct {
		name, text, profile string
		stored              []string
		source, mfa, region string
		roles               []string
		sessionName         string
	}{
		{"mixin root", mixin, "root", []string{"root"}, "root", mfa, "eu-west-1", nil, ""},
		{"mixin role", mixin, "order-dev", []string{"root"}, "root", mfa, "eu-west-1", []string{"arn:aws:iam::123456789012:role/developers"}, ""},
		{"mixin other role", mixin, "order-staging-admin", []string{"root"}, "root", mfa, "eu-west-1", []string{"arn:aws:iam::123456789012:role/administrators"}, ""},
		{"parent root", parent, "root", []string{"root"}, "root", mfa, "eu-west-1", nil, ""},
		{"parent role", parent, "order-dev", []string{"root"}, "root", mfa, "eu-west-1", []string{"arn:aws:iam::123456789012:role/developers"}, ""},
		// a's own region, b's session name (b before c), c's role.
		{"chain of includes", chained, "a", []string{"a"}, "a", "arn:aws:iam::123456789012:mfa/c", "us-west-2", []string{"arn:aws:iam::123456789012:role/C"}, "from-b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, parse := range []func(string, string) (*Config, error){
				func(p, s string) (*Config, error) { return ParseConfig(p, strings.NewReader(s)) },
				func(p, s string) (*Config, error) { return ParseAWSConfig(p, strings.NewReader(s)) },
			} {
				cfg, err := parse("cfg", tc.text)
				if err != nil {
					t.Fatal(err)
				}
				if len(cfg.Warnings) != 0 {
					t.Errorf("warnings = %q", warningStrings(cfg))
				}
				r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return tc.stored, nil }, Getenv: func(string) string { return "" }}
				c, err := r.Resolve(tc.profile)
				if err != nil {
					t.Fatal(err)
				}
				var roles []string
				for _, s := range c.Steps {
					roles = append(roles, s.RoleARN)
				}
				if c.Source != tc.source || c.MFASerial != tc.mfa || c.Region != tc.region || !slices.Equal(roles, tc.roles) || !c.SessionToken {
					t.Errorf("chain = %+v", c)
				}
				if tc.sessionName != "" && c.Steps[0].SessionName != tc.sessionName {
					t.Errorf("session name = %s, want %s", c.Steps[0].SessionName, tc.sessionName)
				}
			}
		})
	}
	// The mixin fragment is fine to read and refused when asked for.
	cfg := parse(t, mixin)
	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"root"}, nil }, Getenv: func(string) string { return "" }}
	if _, err := r.Resolve("common"); err == nil || err.Error() != "/etc/credbroker/config:5: profile common: source_profile needs role_arn: a source profile is only used to assume a role" {
		t.Errorf("common: err = %v", err)
	}
	if p := cfg.Profiles["order-dev"]; p.IncludeProfile != "common" || p.Region != "eu-west-1" || p.SourceProfile != "root" {
		t.Errorf("order-dev = %+v", p)
	}
}

func TestIncludeProfileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, text, want string }{
		{"unknown", "[profile a]\nregion = eu-west-1\ninclude_profile = ghost\n", "cfg:3: profile a: include_profile ghost names no profile"},
		{"unknown further down", "[profile a]\ninclude_profile = b\n[profile b]\ninclude_profile = ghost\n", "cfg:4: profile b: include_profile ghost names no profile"},
		{"cycle", "[profile a]\ninclude_profile = b\n[profile b]\ninclude_profile = a\n", "cfg:4: include_profile cycle: a -> b -> a"},
		{"itself", "[profile a]\ninclude_profile = a\n", "cfg:2: include_profile cycle: a -> a"},
		{"bad name", "[profile a]\ninclude_profile = a b\n", `cfg:2: include_profile: invalid profile name "a b"`},
		// A bad value met through an include is reported where it is
		// written.
		{"bad included value", "[profile a]\ninclude_profile = b\n[profile b]\nregion = Europe\n", `cfg:4: region "Europe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig("cfg", strings.NewReader(tc.text))
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("credbroker's file: err = %v, want %s", err, tc.want)
			}
			// In ~/.aws/config the same is the error of resolving a.
			cfg, err := ParseAWSConfig("cfg", strings.NewReader(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return nil, nil }, Getenv: func(string) string { return "" }}
			if _, err := r.Resolve("a"); !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("AWS file: err = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestIncludeAcrossFilesAndAliases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	own, aws := filepath.Join(dir, "credbroker"), filepath.Join(dir, "aws")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(own, "[profile ci]\ninclude_profile = shared\nrole_arn = arn:aws:iam::123456789012:role/CI\n")
	write(aws, "[profile shared]\nsource_profile = key\nmfa_serial = arn:aws:iam::123456789012:mfa/ci\n[profile key]\n[profile old]\nparent_profile = shared\nrole_arn = arn:aws:iam::123456789012:role/Old\n[profile sso]\ninclude_profile = corp\n[profile corp]\nsso_session = corp\n")
	cfg, err := LoadSources(Sources{Credbroker: own, AWS: aws})
	if err != nil {
		t.Fatal(err)
	}
	if got := warningStrings(cfg); !slices.Equal(got, []string{aws + ":6: parent_profile is aws-vault 5's name for include_profile: read as include_profile"}) {
		t.Errorf("warnings = %q", got)
	}
	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"key"}, nil }, Getenv: func(string) string { return "" }}
	for _, name := range []string{"ci", "old"} {
		c, err := r.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Source != "key" || c.MFASerial != "arn:aws:iam::123456789012:mfa/ci" || len(c.Steps) != 1 {
			t.Errorf("%s: chain = %+v", name, c)
		}
	}
	// An unsupported key that arrives through an include is named where
	// it is written.
	_, err = r.Resolve("sso")
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Profile != "sso" || ue.Key != "sso_session" || ue.File != aws || ue.Line != 11 {
		t.Errorf("sso: err = %v (%+v)", err, ue)
	}
}

// TestAWSVaultStyleExample is the example: admin-cb runs
// credbroker for admin, whose chain is built from base's key alone.
func TestAWSVaultStyleExample(t *testing.T) {
	t.Parallel()
	const text = `[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile admin]
source_profile = base
role_arn = arn:aws:iam::210987654321:role/Admin
[profile admin-cb]
credential_process = credbroker credential-process --profile admin
`
	dir := t.TempDir()
	awsPath := filepath.Join(dir, "config")
	if err := os.WriteFile(awsPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	fromSources, err := LoadSources(Sources{Credbroker: filepath.Join(dir, "missing"), AWS: awsPath})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]*Config{"LoadSources": fromSources, "ParseConfig": parse(t, text)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"base"}, nil }, Getenv: func(string) string { return "" }}
			c, err := r.Resolve("admin")
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != "base" || !c.SessionToken || c.MFASerial != "arn:aws:iam::123456789012:mfa/alice" || c.SessionDuration != 8*time.Hour ||
				len(c.Steps) != 1 || c.Steps[0].RoleARN != "arn:aws:iam::210987654321:role/Admin" || !c.Steps[0].Chained ||
				c.Partition != "aws" || c.Region != "us-east-1" || !slices.Equal(c.Path, []string{"admin", "base"}) {
				t.Errorf("admin chain = %+v", c)
			}
			if got := c.Describe(); got != "role arn:aws:iam::210987654321:role/Admin via base with MFA" {
				t.Errorf("Describe = %q", got)
			}
			_, err = r.Resolve("admin-cb")
			var de *DelegatedProfileError
			if !errors.As(err, &de) || err.Error() != "profile admin-cb hands out profile admin's credentials through credential_process: ask for admin" || de.Line != 7 {
				t.Errorf("admin-cb: err = %v", err)
			}
			if cfg.Profiles["admin-cb"].CredbrokerProfile() != "admin" {
				t.Errorf("CredbrokerProfile = %q", cfg.Profiles["admin-cb"].CredbrokerProfile())
			}
		})
	}
}
