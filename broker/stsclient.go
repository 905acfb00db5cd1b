package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
)

// STSBudget bounds one STS call, every attempt and the pauses between
// them included. credential_process callers wait on it: the small
// credbroker program gives the daemon 10 s (then credbroker-cli asks
// again, joining the same refresh), so an STS that accepts a connection
// and never answers is named within that, not after minutes.
const STSBudget = 8 * time.Second

// Limits of one attempt: STS answers in well under a second, so an
// attempt that has no answer after stsAnswerTimeout is given up and, if
// another fits in STSBudget, retried (another connection may reach
// another STS host).
const (
	stsDialTimeout   = 2 * time.Second
	stsAnswerTimeout = 3 * time.Second
	stsMaxAttempts   = 3
	stsMinBackoff    = 250 * time.Millisecond
	stsMaxBackoff    = time.Second
)

// newSTSClient is newWatchedSTSClient with nobody watching STS's clock.
func newSTSClient(region string, ep profile.Endpoint) (*sts.Client, error) {
	return newWatchedSTSClient(region, ep, nil)
}

// newWatchedSTSClient returns the SDK's STS client for region, talking to
// ep (or the SDK's regional endpoint when ep.URL is empty), trusting the
// certificates of ep.CABundle when it names one. It has no credentials of
// its own: every call passes them with signWith. sawDate, when set, hears
// the Date header of every answer with when the request was sent and the
// answer came (see ClockReading).
func newWatchedSTSClient(region string, ep profile.Endpoint, sawDate func(date, sent, got time.Time, endpoint string)) (*sts.Client, error) {
	httpClient, err := NewHTTPClient(ep.CABundle)
	if err != nil {
		return nil, err
	}
	var hc sts.HTTPClient = httpClient
	if sawDate != nil {
		hc = dateWatcher{hc, sawDate}
	}
	return sts.New(sts.Options{
		Region:       region,
		BaseEndpoint: nilIfEmpty(ep.URL),
		HTTPClient:   hc,
		AppID:        "credbroker",
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff = stsMaxAttempts, stsMaxBackoff
		}),
	}), nil
}

// NewSTSClient is newSTSClient for the CLI's own STS calls (console
// sign-in's GetFederationToken): the same limits and CA bundle.
func NewSTSClient(region string, ep profile.Endpoint) (*sts.Client, error) {
	return newSTSClient(region, ep)
}

// NewHTTPClient is the HTTP client of every AWS call credbroker makes (STS,
// and IAM for rotate and mfa enrol): an attempt without an answer in
// stsAnswerTimeout is given up, and the certificates of caBundle are
// trusted instead of the system's when it names a file.
func NewHTTPClient(caBundle string) (*awshttp.BuildableClient, error) {
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(STSBudget).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = stsDialTimeout }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.ResponseHeaderTimeout = stsAnswerTimeout
			tr.TLSHandshakeTimeout = stsAnswerTimeout
		})
	if caBundle != "" {
		roots, err := loadCABundle(caBundle)
		if err != nil {
			return nil, err
		}
		httpClient = httpClient.WithTransportOptions(func(tr *http.Transport) {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			tr.TLSClientConfig.RootCAs = roots
		})
	}
	return httpClient, nil
}

// STSEndpoint is the endpoint a call for region goes to: ep's own URL when
// the settings name one, else the URL the SDK's endpoint rules give for
// the region (its partition's DNS suffix, FIPS and dual-stack when asked),
// named as where it came from. Calls are made to exactly this URL, so
// what errors and status report is what was called.
func STSEndpoint(region string, ep profile.Endpoint) (profile.Endpoint, error) {
	if ep.URL != "" {
		return ep, nil
	}
	params := sts.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(ep.UseFIPS), UseDualStack: aws.Bool(ep.UseDualStack)}
	resolved, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(context.Background(), params)
	if err != nil {
		return ep, &profile.ConfigError{Msg: fmt.Sprintf("no STS endpoint for region %s: %v", region, err)}
	}
	out := ep
	out.URL = resolved.URI.String()
	out.Source = "the SDK's STS endpoint for " + region
	out.UseFIPS, out.UseDualStack = false, false // in the URL now
	return out, nil
}

// maxCABundle bounds what is read: a bundle of every public root is
// about 200 KiB.
const maxCABundle = 4 << 20

// loadCABundle reads a PEM file of certificates, as the SDKs read
// AWS_CA_BUNDLE: they replace the system's roots, not add to them.
func loadCABundle(path string) (*x509.CertPool, error) {
	f, err := profile.OpenRegular(path)
	var ce *profile.ConfigError
	if errors.As(err, &ce) {
		return nil, &profile.ConfigError{Path: path, Msg: "CA bundle (AWS_CA_BUNDLE or ca_bundle): " + ce.Msg}
	}
	if err != nil {
		return nil, &profile.ConfigError{Path: path, Msg: fmt.Sprintf("CA bundle (AWS_CA_BUNDLE or ca_bundle): %v", errors.Unwrap(err))}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCABundle))
	if err != nil {
		return nil, fmt.Errorf("read CA bundle %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, &profile.ConfigError{Path: path, Msg: "CA bundle (AWS_CA_BUNDLE or ca_bundle) holds no PEM certificate"}
	}
	return pool, nil
}

// signWith makes one call use c.
func signWith(c cache.Credentials) func(*sts.Options) {
	return func(o *sts.Options) {
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "credbroker"}, nil
		})
	}
}

// noRetryWithMFA turns the SDK's retries off for a request that carries an
// MFA code: if a first attempt reached AWS, a retry would send the same code
// again, which AWS rejects, and repeated failures can lock the device.
func noRetryWithMFA(withMFA bool) func(*sts.Options) {
	return func(o *sts.Options) {
		if withMFA {
			o.RetryMaxAttempts = 1
		}
	}
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
