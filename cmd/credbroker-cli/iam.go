package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
)

// iamEndpoint is where IAM calls for chain go, found as the AWS SDKs find
// a service's endpoint: nothing configured when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's
// ignore_configured_endpoint_urls) is true; else AWS_ENDPOINT_URL_IAM,
// AWS_ENDPOINT_URL, the iam endpoint_url of the profile's [services]
// section, the profile's endpoint_url (each inherited along
// source_profile, the nearest winning). URL "" is the partition's IAM
// endpoint, which the SDK resolves from the chain's region (IAM is global
// in each partition: iam.amazonaws.com, iam.us-gov.amazonaws.com,
// iam.cn-north-1.amazonaws.com.cn) and signs for the partition's region.
func (a *app) iamEndpoint(cfg *profile.Config, chain *profile.RoleChain) (profile.Endpoint, error) {
	ep := profile.Endpoint{CABundle: chain.Endpoint.CABundle}
	ignore, services := false, ""
	var own *profile.Profile
	for i := len(chain.Path) - 1; i >= 0; i-- {
		p := cfg.Profiles[chain.Path[i]]
		if p == nil {
			continue
		}
		if p.IgnoreSet {
			ignore = p.IgnoreConfiguredEndpointURLs
		}
		if p.Services != "" {
			services = p.Services
		}
		if p.EndpointURL != "" {
			own = p
		}
	}
	if v := a.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ep, fmt.Errorf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=%q must be true or false", v)
		}
		ignore = b
	}
	if ignore {
		return ep, nil
	}
	for _, env := range []string{"AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"} {
		if v := a.getenv(env); v != "" {
			ep.URL, ep.Source = v, env
			return ep, checkIAMEndpoint(ep)
		}
	}
	if v := cfg.Services[services]["iam"]["endpoint_url"]; services != "" && v != "" {
		ep.URL, ep.Source = v, "[services "+services+"]"
		return ep, checkIAMEndpoint(ep)
	}
	if own != nil {
		ep.URL, ep.Source = own.EndpointURL, "endpoint_url of profile "+own.Name
		return ep, checkIAMEndpoint(ep)
	}
	return ep, nil
}

// checkIAMEndpoint accepts https, or plain http on loopback only: a
// request signed with a long-lived key, and the secret of a new key in
// CreateAccessKey's answer, never cross a network in clear.
func checkIAMEndpoint(ep profile.Endpoint) error {
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("IAM endpoint %q (from %s) is not an http:// or https:// URL", ep.URL, ep.Source)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("IAM endpoint %s (from %s): plain http is accepted only on loopback: use https", ep.URL, ep.Source)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// describeIAMEndpoint names ep for messages.
func describeIAMEndpoint(ep profile.Endpoint) string {
	if ep.URL == "" {
		return "the partition's IAM endpoint"
	}
	return ep.URL + " (from " + ep.Source + ")"
}

// newIAMClient is an IAM client for chain's region at ep, with no
// credentials of its own: every call is signed with signedBy.
func newIAMClient(region string, ep profile.Endpoint) (*iam.Client, error) {
	httpClient, err := broker.NewHTTPClient(ep.CABundle)
	if err != nil {
		return nil, err
	}
	o := iam.Options{Region: region, HTTPClient: httpClient, AppID: "credbroker", RetryMaxAttempts: 3}
	if ep.URL != "" {
		o.BaseEndpoint = aws.String(ep.URL)
	}
	return iam.New(o), nil
}

// signedBy makes one IAM call use c.
func signedBy(c cache.Credentials) func(*iam.Options) {
	return func(o *iam.Options) {
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "credbroker"}, nil
		})
	}
}

// sentOnce turns the SDK's retries off for a call that makes something:
// a retry after a lost answer would make a second key or device.
func sentOnce(o *iam.Options) { o.RetryMaxAttempts = 1 }

// iamFault is the short form of an IAM error: its code and message (IAM
// never echoes a secret), or the error itself when it is not IAM's.
func iamFault(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + strings.TrimSuffix(api.ErrorMessage(), ".")
	}
	return err.Error()
}

// iamCode is the IAM error code of err ("" when IAM did not answer one).
func iamCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// userNameOf is the IAM user name in an IAM user's ARN
// (arn:aws:iam::123456789012:user/path/alice), "" for any other ARN.
func userNameOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "user/") {
		return ""
	}
	res := parts[5]
	return res[strings.LastIndex(res, "/")+1:]
}
