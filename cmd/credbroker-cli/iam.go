package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
)

// ownKey is a profile that starts from its own stored access key, with
// that key: what credbroker rotate, mfa enrol and login act on as the
// key's IAM user.
type ownKey struct {
	name  string
	b     *broker.Broker
	r     *profile.Resolver
	chain *profile.RoleChain
	keys  *keystore.Store
	key   keystore.AccessKey
}

// ownKey resolves profile name and reads its stored access key. A profile
// whose chain starts from another profile's key is refused, with the
// credbroker command to run for that one.
func (a *app) ownKey(name, command string) (*ownKey, error) {
	b, r, err := a.broker()
	if err != nil {
		return nil, err
	}
	chain, err := r.Resolve(name)
	if err != nil {
		return nil, err
	}
	return a.ownKeyOf(b, r, chain, command)
}

// ownKeyOf is ownKey for a chain already resolved.
func (a *app) ownKeyOf(b *broker.Broker, r *profile.Resolver, chain *profile.RoleChain, command string) (*ownKey, error) {
	name := chain.Profile
	if chain.Source != name {
		return nil, fmt.Errorf("profile %s uses the key of profile %s: run credbroker %s %s", name, chain.Source, command, chain.Source)
	}
	keys, err := a.keystore()
	if err != nil {
		return nil, err
	}
	key, err := keys.AccessKey(name)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, &broker.NoAccessKeyError{Profile: name, Source: name}
	}
	if err != nil {
		return nil, fmt.Errorf("profile %s: read access key: %w", name, err)
	}
	return &ownKey{name: name, b: b, r: r, chain: chain, keys: keys, key: key}, nil
}

// errNotIAMUser: the stored key is not an IAM user's (the root user's).
var errNotIAMUser = errors.New("not an IAM user's")

// user asks STS whose the key is (GetCallerIdentity): its ARN, and the
// IAM user's name. A key that is not an IAM user's is refused
// (errNotIAMUser).
func (k *ownKey) user(ctx context.Context) (arn, user string, err error) {
	arn, err = k.b.CheckKey(ctx, k.r, k.name, k.key, false)
	if err != nil {
		return "", "", err
	}
	if user = userNameOf(arn); user == "" {
		return "", "", fmt.Errorf("profile %s: the stored key is %s's, %w", k.name, arn, errNotIAMUser)
	}
	return arn, user, nil
}

// iamClient is an IAM client at the chain's IAM endpoint
// (profile.Resolver.IAMEndpoint), and that endpoint, for messages.
func (k *ownKey) iamClient() (*iam.Client, profile.Endpoint, error) {
	ep, err := k.r.IAMEndpoint(k.chain)
	if err != nil {
		return nil, ep, err
	}
	client, err := newIAMClient(k.chain.Region, ep)
	return client, ep, err
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
