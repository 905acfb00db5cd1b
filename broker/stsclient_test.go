package broker

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
)

// TestCABundle: an STS endpoint whose certificate only a CA bundle vouches
// for (a TLS-inspecting proxy, a private endpoint) is reached with
// AWS_CA_BUNDLE's certificates and refused without them, as the SDKs do.
func TestCABundle(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	call := func(ep profile.Endpoint) error {
		c, err := newSTSClient("us-east-1", ep)
		if err != nil {
			return err
		}
		_, err = c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{},
			signWith(cache.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: strings.Repeat("s", 40)}))
		return err
	}
	if err := call(profile.Endpoint{URL: srv.URL, CABundle: bundle}); err != nil {
		t.Errorf("with the bundle: %v", err)
	}
	if err := call(profile.Endpoint{URL: srv.URL}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the bundle: %v, want a certificate error", err)
	}
	for _, bad := range []string{empty, filepath.Join(dir, "missing.pem")} {
		if err := call(profile.Endpoint{URL: srv.URL, CABundle: bad}); !errors.Is(err, profile.ErrConfig) || !strings.Contains(err.Error(), bad) {
			t.Errorf("bundle %s: %v, want a config error naming it", bad, err)
		}
	}
}

// TestSTSEndpoint: the partition comes from the role ARN, the MFA serial
// or the region, and with it the STS endpoint the SDK's rules give; FIPS
// and dual-stack settings choose those endpoints; a custom endpoint is
// used as it is. No network: the URLs are the SDK's own rules'.
func TestSTSEndpoint(t *testing.T) {
	t.Parallel()
	const cfg = `[profile cn]
role_arn = arn:aws-cn:iam::123456789012:role/Admin
[profile gov]
region = us-gov-west-1
[profile fips]
region = us-east-2
use_fips_endpoint = true
[profile dual]
region = eu-west-1
use_dualstack_endpoint = true
[profile local]
endpoint_url = http://127.0.0.1:4566
`
	stored := []string{"cn", "gov", "fips", "dual", "local", "plain"}
	for _, tc := range []struct {
		profile string
		env     map[string]string
		want    string
	}{
		{"cn", nil, "https://sts.cn-north-1.amazonaws.com.cn"},
		{"gov", nil, "https://sts.us-gov-west-1.amazonaws.com"},
		{"fips", nil, "https://sts-fips.us-east-2.amazonaws.com"},
		{"dual", nil, "https://sts.eu-west-1.api.aws"},
		{"plain", map[string]string{"AWS_REGION": "ap-southeast-2"}, "https://sts.ap-southeast-2.amazonaws.com"},
		{"plain", map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "true"}, "https://sts-fips.us-east-1.amazonaws.com"},
		{"local", nil, "http://127.0.0.1:4566"},
	} {
		t.Run(tc.profile+fmt.Sprint(tc.env), func(t *testing.T) {
			c, err := profile.ParseConfig("cfg", strings.NewReader(cfg))
			if err != nil {
				t.Fatal(err)
			}
			r := &profile.Resolver{Config: c, Getenv: func(k string) string { return tc.env[k] },
				Stored: func() ([]string, error) { return stored, nil }}
			chain, err := r.Resolve(tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			ep, err := STSEndpoint(chain.Region, chain.Endpoint)
			if err != nil || ep.URL != tc.want {
				t.Fatalf("STSEndpoint = %q, %v; want %s", ep.URL, err, tc.want)
			}
		})
	}
}
