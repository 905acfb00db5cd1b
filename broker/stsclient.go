package broker

import (
	"context"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
)

// Network limits for STS calls: credential_process callers wait on us, so a
// dead endpoint must fail in seconds, not minutes.
const (
	stsDialTimeout    = 5 * time.Second
	stsRequestTimeout = 20 * time.Second
	stsMaxAttempts    = 3
)

// NewSTSClient returns the SDK's STS client for region, talking to ep (or
// the SDK's regional endpoint when ep.URL is empty). It has no credentials
// of its own: every call passes them with signWith.
func NewSTSClient(region string, ep profile.Endpoint) *sts.Client {
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(stsRequestTimeout).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = stsDialTimeout })
	return sts.New(sts.Options{
		Region:           region,
		BaseEndpoint:     nilIfEmpty(ep.URL),
		HTTPClient:       httpClient,
		AppID:            "credbroker",
		RetryMaxAttempts: stsMaxAttempts,
	})
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
