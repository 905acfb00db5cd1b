package profile

import (
	"errors"
	"strings"
	"testing"
)

func TestEndpointVariants(t *testing.T) {
	t.Parallel()
	text := `[profile fips]
use_fips_endpoint = true
[profile dual]
use_dualstack_endpoint = TRUE
[profile both]
use_fips_endpoint = true
use_dualstack_endpoint = true
[profile off]
use_fips_endpoint = false
[profile child]
role_arn = arn:aws:iam::123456789012:role/C
source_profile = fips
[profile child-off]
role_arn = arn:aws:iam::123456789012:role/C
source_profile = fips
use_fips_endpoint = False
[profile custom]
endpoint_url = https://sts.example
use_fips_endpoint = true
[profile ignoring]
endpoint_url = https://sts.example
ignore_configured_endpoint_urls = true
use_fips_endpoint = true
`
	for _, tc := range []struct {
		name, profile string
		env           map[string]string
		fips, dual    bool
		str           string
	}{
		{"none", "plain", nil, false, false, "the default STS endpoint"},
		{"profile fips", "fips", nil, true, false, "the default STS endpoint (FIPS)"},
		{"profile dual-stack", "dual", nil, false, true, "the default STS endpoint (dual-stack)"},
		{"both", "both", nil, true, true, "the default STS endpoint (FIPS, dual-stack)"},
		{"env", "plain", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "True"}, true, true, ""},
		{"env false wins", "both", map[string]string{"AWS_USE_FIPS_ENDPOINT": "false", "AWS_USE_DUALSTACK_ENDPOINT": "FALSE"}, false, false, ""},
		{"env true wins", "off", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, true, false, ""},
		{"inherited from the source", "child", nil, true, false, ""},
		{"the asked profile's own wins", "child-off", nil, false, false, ""},
		{"ignored endpoint leaves the switch", "ignoring", nil, true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := resolver(t, text, []string{"plain", "fips", "dual", "both", "off", "ignoring"}, tc.env)
			c, err := r.Resolve(tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint.UseFIPS != tc.fips || c.Endpoint.UseDualStack != tc.dual || c.Endpoint.URL != "" {
				t.Errorf("endpoint = %+v", c.Endpoint)
			}
			if tc.str != "" && c.Endpoint.String() != tc.str {
				t.Errorf("String = %q, want %q", c.Endpoint.String(), tc.str)
			}
			if c.TrustDomain() != "partition:aws" {
				t.Errorf("TrustDomain = %s", c.TrustDomain())
			}
		})
	}
	for _, tc := range []struct {
		name, profile string
		env           map[string]string
		want          string
	}{
		{"bad env value", "plain", map[string]string{"AWS_USE_FIPS_ENDPOINT": "yes"}, `AWS_USE_FIPS_ENDPOINT="yes" must be true or false`},
		{"bad dual-stack env value", "plain", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "1"}, `AWS_USE_DUALSTACK_ENDPOINT="1" must be true or false`},
		{"FIPS and a custom endpoint", "custom", nil, "use_fips_endpoint in profile custom asks for the FIPS endpoint, but STS is at the custom endpoint https://sts.example (from profile custom in /etc/credbroker/config): the AWS SDKs refuse FIPS with a custom endpoint; unset one of them"},
		{"env dual-stack and env endpoint", "plain", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:4566"},
			"AWS_USE_DUALSTACK_ENDPOINT asks for the dual-stack endpoint, but STS is at the custom endpoint http://127.0.0.1:4566 (from AWS_ENDPOINT_URL_STS): the AWS SDKs refuse dual-stack with a custom endpoint; unset one of them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := resolver(t, text, []string{"plain", "custom"}, tc.env)
			_, err := r.Resolve(tc.profile)
			var ce *ConfigError
			if !errors.As(err, &ce) || err.Error() != tc.want {
				t.Errorf("err = %v\nwant   %s", err, tc.want)
			}
		})
	}
	for _, v := range []string{"yes", "1", "on"} {
		_, err := ParseConfig("cfg", strings.NewReader("[profile p]\nuse_dualstack_endpoint = "+v+"\n"))
		if want := `cfg:2: use_dualstack_endpoint "` + v + `" must be true or false`; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	}
}

func TestEndpointLoopbackOnlyForHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:4566", true},
		{"http://127.8.9.10", true},
		{"http://[::1]:4566", true},
		{"http://localhost:4566", true},
		{"http://LOCALHOST", true},
		{"https://10.0.0.5:4566", true},
		{"https://sts.example", true},
		{"http://10.0.0.5:4566", false},
		{"http://sts.example", false},
		{"http://localhost.example.com", false},
		{"http://[::ffff:10.0.0.1]", false},
		{"http://0.0.0.0:4566", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			for _, env := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
				r := resolver(t, "", []string{"k"}, map[string]string{env: tc.url})
				c, err := r.Resolve("k")
				if tc.ok {
					if err != nil || c.Endpoint.URL != tc.url || c.TrustDomain() != "endpoint:"+tc.url {
						t.Errorf("%s: err = %v, chain = %+v", env, err, c)
					}
					continue
				}
				want := env + " " + tc.url + ": plain http is accepted only on loopback: use https"
				var ce *ConfigError
				if !errors.As(err, &ce) || err.Error() != want {
					t.Errorf("%s: err = %v, want %s", env, err, want)
				}
			}
			_, err := ParseConfig("cfg", strings.NewReader("[profile p]\nendpoint_url = "+tc.url+"\n"))
			if tc.ok != (err == nil) {
				t.Errorf("endpoint_url: err = %v", err)
			}
			if !tc.ok && (err == nil || err.Error() != "cfg:2: endpoint_url "+tc.url+": plain http is accepted only on loopback: use https") {
				t.Errorf("endpoint_url: err = %v", err)
			}
			r := resolver(t, "[profile p]\nservices = s\n[services s]\nsts =\n  endpoint_url = "+tc.url+"\n", []string{"p"}, nil)
			_, err = r.Resolve("p")
			if tc.ok != (err == nil) {
				t.Errorf("[services]: err = %v", err)
			}
			if !tc.ok && (err == nil || err.Error() != "/etc/credbroker/config:3: [services s] sts endpoint_url "+tc.url+": plain http is accepted only on loopback: use https") {
				t.Errorf("[services]: err = %v", err)
			}
		})
	}
	// The brief's example, word for word.
	r := resolver(t, "", []string{"k"}, map[string]string{"AWS_ENDPOINT_URL_STS": "http://10.0.0.5:4566"})
	if _, err := r.Resolve("k"); err == nil || err.Error() != "AWS_ENDPOINT_URL_STS http://10.0.0.5:4566: plain http is accepted only on loopback: use https" || !errors.Is(err, ErrConfig) {
		t.Errorf("err = %v", err)
	}
}

func TestEndpointStringAndTrustDomain(t *testing.T) {
	t.Parallel()
	custom := &RoleChain{Partition: "aws", Endpoint: Endpoint{URL: "https://sts.example", Source: "AWS_ENDPOINT_URL_STS"}}
	if got := custom.Endpoint.String(); got != "https://sts.example (from AWS_ENDPOINT_URL_STS)" {
		t.Errorf("String = %q", got)
	}
	if got := custom.TrustDomain(); got != "endpoint:https://sts.example" {
		t.Errorf("TrustDomain = %q", got)
	}
	// Two regions of one partition are one trust domain; two partitions,
	// or a custom endpoint, are not.
	r := resolver(t, "[profile a]\nregion = eu-west-1\n[profile b]\nregion = us-west-2\n[profile cn]\nregion = cn-north-1\n", []string{"a", "b", "cn"}, nil)
	domain := func(name string) string {
		c, err := r.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		return c.TrustDomain()
	}
	if domain("a") != domain("b") || domain("a") == domain("cn") || domain("cn") != "partition:aws-cn" || domain("a") == custom.TrustDomain() {
		t.Errorf("trust domains: a %s, b %s, cn %s", domain("a"), domain("b"), domain("cn"))
	}
}

func TestIAMEndpoint(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig("/cfg", strings.NewReader(`
[profile base]
endpoint_url = https://base.example
[profile svc]
services = local
[services local]
iam =
  endpoint_url = http://127.0.0.1:4566
[profile plain]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    []string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"partition's", []string{"plain"}, nil, "", ""},
		{"profile endpoint_url", []string{"base"}, nil, "https://base.example", ""},
		{"inherited along source_profile", []string{"plain", "base"}, nil, "https://base.example", ""},
		{"services section", []string{"svc"}, nil, "http://127.0.0.1:4566", ""},
		{"AWS_ENDPOINT_URL first", []string{"base"}, map[string]string{"AWS_ENDPOINT_URL": "https://all.example"}, "https://all.example", ""},
		{"AWS_ENDPOINT_URL_IAM before it", []string{"base"}, map[string]string{"AWS_ENDPOINT_URL": "https://all.example", "AWS_ENDPOINT_URL_IAM": "https://iam.example"}, "https://iam.example", ""},
		{"AWS_ENDPOINT_URL_STS is STS's only", []string{"plain"}, map[string]string{"AWS_ENDPOINT_URL_STS": "https://sts.example"}, "", ""},
		{"ignored", []string{"base"}, map[string]string{"AWS_ENDPOINT_URL_IAM": "https://iam.example", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", ""},
		{"plain http elsewhere", []string{"plain"}, map[string]string{"AWS_ENDPOINT_URL_IAM": "http://iam.example"}, "", "IAM endpoint http://iam.example (from AWS_ENDPOINT_URL_IAM): plain http is accepted only on loopback: use https"},
		{"not a URL", []string{"plain"}, map[string]string{"AWS_ENDPOINT_URL_IAM": "iam.example"}, "", `IAM endpoint "iam.example" (from AWS_ENDPOINT_URL_IAM) is not an http:// or https:// URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Resolver{Config: cfg, Getenv: func(k string) string { return tc.env[k] }}
			ep, err := r.IAMEndpoint(&RoleChain{Path: tc.path, Endpoint: Endpoint{CABundle: "/ca.pem"}})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || ep.URL != tc.want || ep.CABundle != "/ca.pem" {
				t.Fatalf("IAMEndpoint = %+v, %v; want %q", ep, err, tc.want)
			}
		})
	}
}
