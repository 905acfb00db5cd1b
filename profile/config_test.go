package profile

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const sampleConfig = `# credbroker profiles
[default]
region = eu-west-1

[profile base]
mfa_serial = arn:aws:iam::111122223333:mfa/alice   # Alice's phone
duration_seconds = 28800

[profile prod]
role_arn = arn:aws:iam::444455556666:role/Admin
source_profile = base
external_id = shared-secret-not
role_session_name = alice
Region = us-west-2

[profile ops]
role_arn = arn:aws:iam::777788889999:role/Ops
source_profile = prod
duration_seconds = 7200

[profile local]
endpoint_url = http://127.0.0.1:4566
services = dev

[services dev]
sts =
  endpoint_url = http://127.0.0.1:5000

[sso-session corp]
sso_start_url = https://example.awsapps.com/start

[profile self]
role_arn = arn:aws:iam::111122223333:role/Self
source_profile = self
`

func parse(t testing.TB, text string) *Config {
	t.Helper()
	cfg, err := ParseConfig("/etc/credbroker/config", strings.NewReader(text))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	cfg := parse(t, sampleConfig)
	if got := strings.Join(cfg.Names(), ","); got != "base,default,local,ops,prod,self" {
		t.Fatalf("profiles = %s", got)
	}
	prod := cfg.Profiles["prod"]
	if prod.RoleARN != "arn:aws:iam::444455556666:role/Admin" || prod.SourceProfile != "base" ||
		prod.ExternalID != "shared-secret-not" || prod.RoleSessionName != "alice" || prod.Region != "us-west-2" {
		t.Errorf("prod = %+v", prod)
	}
	if got := cfg.Profiles["base"].MFASerial; got != "arn:aws:iam::111122223333:mfa/alice" {
		t.Errorf("inline comment not stripped: mfa_serial = %q", got)
	}
	if got := cfg.Profiles["base"].DurationSeconds; got != 28800 {
		t.Errorf("duration_seconds = %d", got)
	}
	if got := cfg.Services["dev"]["sts"]["endpoint_url"]; got != "http://127.0.0.1:5000" {
		t.Errorf("services dev sts endpoint_url = %q", got)
	}
}

// TestSectionHeaderComment: a comment after a section header, which
// botocore accepts (its header ends at the last ]), is one here too.
func TestSectionHeaderComment(t *testing.T) {
	t.Parallel()
	cfg := parse(t, "[profile dev]   ; the dev account\nregion = us-east-1\n[default] # mine\n")
	if got := strings.Join(cfg.Names(), ","); got != "default,dev" || cfg.Profiles["dev"].Region != "us-east-1" {
		t.Fatalf("profiles %s, dev %+v", got, cfg.Profiles["dev"])
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, want string
	}{
		{"no equals", "[profile a]\nregion us-east-1\n", ":2: expected key = value"},
		{"no equals before an ARN", "[profile a]\nrole_arn arn:aws:iam::210987654321:role/Admin\n", `:2: expected key = value, found "role_arn arn:aws:iam::210987654321:role/Admin"`},
		{"no key before a colon", "[profile a]\n: x\n", ":2: a line starts with : and has no key"},
		{"outside section", "region = us-east-1\n", ":1: \"region = us-east-1\" is outside any section"},
		{"unclosed header", "[profile a\n", ":1: section header"},
		{"text after a header", "[profile a] b\n", `:1: section header "[profile a] b" has "b" after its closing ]`},
		{"bare section", "[prod]\nregion = us-east-1\n", ":1: section [prod] is not a profile: write [profile prod]"},
		{"duplicate section", "[profile a]\n[profile a]\n", ":2: section [profile a] is already defined at line 1"},
		{"default twice", "[default]\n[profile default]\n", ":2: profile default is already defined at line 1"},
		{"duplicate key", "[profile a]\nregion = us-east-1\nREGION = eu-west-1\n", ":3: key region is already set at line 2"},
		{"bad role arn", "[profile a]\nrole_arn = arn:aws:iam::12:role/x\n", ":2: role_arn \"arn:aws:iam::12:role/x\" is not an IAM role ARN"},
		{"bad duration", "[profile a]\nduration_seconds = 1h\n", ":2: duration_seconds \"1h\" must be a whole number of seconds from 900 to 129600"},
		{"short duration", "[profile a]\nduration_seconds = 60\n", ":2: duration_seconds \"60\""},
		{"role duration", "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/x\nduration_seconds = 50000\n", ":3: profile a: duration_seconds 50000 exceeds 43200"},
		{"bad region", "[profile a]\nregion = Europe\n", ":2: region \"Europe\" is not an AWS region name"},
		{"bad endpoint", "[profile a]\nendpoint_url = sts.amazonaws.com\n", ":2: endpoint_url: \"sts.amazonaws.com\" is not an http:// or https:// URL"},
		{"bad mfa", "[profile a]\nmfa_serial = 123\n", ":2: mfa_serial \"123\" is neither an MFA device ARN"},
		{"source without role", "[profile a]\nsource_profile = b\n", ":2: profile a: source_profile needs role_arn"},
		{"bad profile name", "[profile a b]\n", ":1: invalid profile name \"a b\""},
		{"missing services", "[profile a]\nservices = nope\n", ":2: profile a: services nope names no [services nope] section"},
		{"bad session name", "[profile a]\nrole_session_name = a b\n", ":2: role_session_name \"a b\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig("cfg", strings.NewReader(tc.text))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if !strings.HasPrefix(err.Error(), "cfg:") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err spans lines: %q", err)
			}
		})
	}
}

func TestParseConfigTooLarge(t *testing.T) {
	t.Parallel()
	text := "[profile a]\n# " + strings.Repeat("x", maxConfigSize) + "\n"
	_, err := ParseConfig("cfg", strings.NewReader(text))
	if err == nil || !strings.Contains(err.Error(), "cfg:2:") {
		t.Fatalf("err = %v, want a size error at line 2", err)
	}
}

func resolver(t *testing.T, text string, stored []string, env map[string]string) *Resolver {
	t.Helper()
	return &Resolver{
		Config: parse(t, text),
		Stored: func() ([]string, error) { return stored, nil },
		Getenv: func(k string) string { return env[k] },
	}
}

func TestResolveChains(t *testing.T) {
	t.Parallel()
	r := resolver(t, sampleConfig, []string{"base", "self", "loose"}, nil)
	for _, tc := range []struct {
		profile      string
		source       string
		mfa          string
		sessionToken bool
		sessionDur   time.Duration
		roles        []string
		durations    []time.Duration
		chained      []bool
		region       string
	}{
		{profile: "base", source: "base", mfa: "arn:aws:iam::111122223333:mfa/alice", sessionToken: true, sessionDur: 28800 * time.Second, region: "us-east-1"},
		{profile: "prod", source: "base", mfa: "arn:aws:iam::111122223333:mfa/alice", sessionToken: true, sessionDur: 28800 * time.Second,
			roles: []string{"arn:aws:iam::444455556666:role/Admin"}, durations: []time.Duration{time.Hour}, chained: []bool{true}, region: "us-west-2"},
		// ops asks for 2 h, but every role after the MFA session is chained: 1 h.
		{profile: "ops", source: "base", mfa: "arn:aws:iam::111122223333:mfa/alice", sessionToken: true, sessionDur: 28800 * time.Second,
			roles: []string{"arn:aws:iam::444455556666:role/Admin", "arn:aws:iam::777788889999:role/Ops"}, durations: []time.Duration{time.Hour, time.Hour}, chained: []bool{true, true}, region: "us-west-2"},
		// No MFA: AssumeRole straight from the key, not chained.
		{profile: "self", source: "self", roles: []string{"arn:aws:iam::111122223333:role/Self"}, durations: []time.Duration{time.Hour}, chained: []bool{false}, region: "us-east-1"},
		// A stored key without a section: a plain session.
		{profile: "loose", source: "loose", sessionToken: true, sessionDur: time.Hour, region: "us-east-1"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			c, err := r.Resolve(tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != tc.source || c.MFASerial != tc.mfa || c.SessionToken != tc.sessionToken || c.SessionDuration != tc.sessionDur || c.Region != tc.region {
				t.Errorf("chain = %+v", c)
			}
			if len(c.Steps) != len(tc.roles) {
				t.Fatalf("steps = %+v, want roles %v", c.Steps, tc.roles)
			}
			for i, s := range c.Steps {
				if s.RoleARN != tc.roles[i] || s.Duration != tc.durations[i] || s.Chained != tc.chained[i] {
					t.Errorf("step %d = %+v", i, s)
				}
			}
		})
	}
	ops, _ := r.Resolve("ops")
	if !ops.Steps[1].Clamped || ops.Steps[0].Clamped {
		t.Errorf("only ops's own 7200 s should be clamped: %+v", ops.Steps)
	}
}

func TestResolveRoleWithoutMFANotChained(t *testing.T) {
	t.Parallel()
	r := resolver(t, "[profile k]\n[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = k\nduration_seconds = 43200\n", []string{"k"}, nil)
	c, err := r.Resolve("r")
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionToken || len(c.Steps) != 1 || c.Steps[0].Chained || c.Steps[0].Duration != 12*time.Hour {
		t.Errorf("chain = %+v", c)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	text := `[profile a]
role_arn = arn:aws:iam::123456789012:role/A
source_profile = b
[profile b]
role_arn = arn:aws:iam::123456789012:role/B
source_profile = c
[profile c]
role_arn = arn:aws:iam::123456789012:role/C
source_profile = a
[profile d]
role_arn = arn:aws:iam::123456789012:role/D
source_profile = ghost
`
	r := resolver(t, text, []string{"k"}, nil)
	_, err := r.Resolve("a")
	var cycle *CycleError
	if !errors.As(err, &cycle) || !strings.Contains(err.Error(), "source_profile cycle: a -> b -> c -> a") {
		t.Errorf("cycle: err = %v", err)
	}
	// The keystore is listed once for an unknown profile, not again for
	// the names it knows.
	stored, lists := r.Stored, 0
	r.Stored = func() ([]string, error) { lists++; return stored() }
	_, err = r.Resolve("nope")
	if !errors.Is(err, ErrUnknownProfile) || err.Error() != "unknown profile nope (known: a, b, c, d, k)" || lists != 1 {
		t.Errorf("unknown: err = %v, keystore listed %d times", err, lists)
	}
	_, err = r.Resolve("d")
	if !errors.Is(err, ErrUnknownProfile) || !strings.Contains(err.Error(), "profile d: source_profile ghost is not a known profile") {
		t.Errorf("unknown source: err = %v", err)
	}
}

func TestEndpointPrecedence(t *testing.T) {
	t.Parallel()
	text := `[profile p]
endpoint_url = https://profile.example
services = s
[services s]
sts =
  endpoint_url = https://services.example
[profile plain]
endpoint_url = https://profile.example
[profile ignoring]
endpoint_url = https://profile.example
ignore_configured_endpoint_urls = true
[profile child]
role_arn = arn:aws:iam::123456789012:role/C
source_profile = plain
`
	for _, tc := range []struct {
		name, profile string
		env           map[string]string
		want          string
	}{
		{"service env wins", "p", map[string]string{"AWS_ENDPOINT_URL_STS": "https://sts-env.example", "AWS_ENDPOINT_URL": "https://env.example"}, "https://sts-env.example"},
		{"global env next", "p", map[string]string{"AWS_ENDPOINT_URL": "https://env.example"}, "https://env.example"},
		{"services section next", "p", nil, "https://services.example"},
		{"profile endpoint_url last", "plain", nil, "https://profile.example"},
		{"inherited from source_profile", "child", nil, "https://profile.example"},
		{"ignored by env", "p", map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL_STS": "https://sts-env.example"}, ""},
		{"ignored by profile", "ignoring", nil, ""},
		{"env false beats profile true", "ignoring", map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}, "https://profile.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := resolver(t, text, []string{"p", "plain", "ignoring"}, tc.env)
			c, err := r.Resolve(tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint.URL != tc.want {
				t.Errorf("endpoint = %q (%s), want %q", c.Endpoint.URL, c.Endpoint.Source, tc.want)
			}
		})
	}
	r := resolver(t, text, []string{"p"}, map[string]string{"AWS_ENDPOINT_URL_STS": "localhost:5000"})
	if _, err := r.Resolve("p"); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_STS") {
		t.Errorf("bad env endpoint: err = %v", err)
	}
}

func TestCABundleResolution(t *testing.T) {
	t.Parallel()
	text := "[profile a]\nca_bundle = /etc/ssl/a.pem\n[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = a\n"
	for _, tc := range []struct {
		name, profile, env, want string
	}{
		{"profile's own", "a", "", "/etc/ssl/a.pem"},
		{"environment wins", "a", "/env.pem", "/env.pem"},
		{"not from the source profile", "r", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := resolver(t, text, []string{"a"}, map[string]string{"AWS_CA_BUNDLE": tc.env})
			chain, err := r.Resolve(tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			if chain.Endpoint.CABundle != tc.want {
				t.Errorf("CABundle = %q, want %q", chain.Endpoint.CABundle, tc.want)
			}
		})
	}
}

// TestSessionPolicyKeys: session_policy names a file (relative to the
// config file's folder) and policy_arns managed policies; both go with
// the role step that sets them.
func TestSessionPolicyKeys(t *testing.T) {
	t.Parallel()
	text := "[profile base]\n[profile ro]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = base\n" +
		"session_policy = policies/ro.json\npolicy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws:iam::123456789012:policy/Mine\n"
	cfg, err := ParseConfig("/etc/credbroker/config", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Config: cfg, Getenv: func(string) string { return "" }, Stored: func() ([]string, error) { return []string{"base"}, nil }}
	chain, err := r.Resolve("ro")
	if err != nil {
		t.Fatal(err)
	}
	st := chain.Steps[0]
	if st.SessionPolicy != "/etc/credbroker/policies/ro.json" || strings.Join(st.PolicyARNs, ",") != "arn:aws:iam::aws:policy/ReadOnlyAccess,arn:aws:iam::123456789012:policy/Mine" {
		t.Errorf("step = %+v", st)
	}
	for _, bad := range []string{"policy_arns = arn:aws:iam::123:policy/x", "policy_arns = " + strings.Repeat("arn:aws:iam::aws:policy/P,", 11)} {
		if _, err := ParseConfig("cfg", strings.NewReader("[profile a]\n"+bad+"\n")); err == nil || !strings.Contains(err.Error(), "policy_arns") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
