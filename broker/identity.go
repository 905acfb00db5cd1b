package broker

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
)

// Identity is what GetCallerIdentity answers, under the names the AWS CLI
// prints (`aws sts get-caller-identity`).
type Identity struct {
	UserID  string `json:"UserId"`
	Account string `json:"Account"`
	ARN     string `json:"Arn"`
}

// CallerIdentity asks STS who creds (a profile's temporary credentials)
// belong to: GetCallerIdentity at the endpoint STSEndpoint gives for
// region and ep, signed with creds. optFns change the call (a trace of
// what is called where). Errors are *STSError.
func CallerIdentity(ctx context.Context, profileName, region string, ep profile.Endpoint, creds cache.Credentials, optFns ...func(*sts.Options)) (Identity, error) {
	client, ep, err := clientFor(region, ep)
	if err != nil {
		return Identity{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, STSBudget)
	defer cancel()
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, append(optFns, signWith(creds))...)
	if err != nil {
		return Identity{}, classify(err, "GetCallerIdentity", "", profileName, ep, false, creds.SessionToken != "")
	}
	return Identity{UserID: aws.ToString(out.UserId), Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}, nil
}

// DecodeAuthorizationMessage asks STS what an encoded authorization
// failure message says (the caller needs sts:DecodeAuthorizationMessage,
// in the account the message was issued to), signed with creds at the
// endpoint STSEndpoint gives for region and ep. It returns the decoded
// message: a JSON document. Errors are *STSError.
func DecodeAuthorizationMessage(ctx context.Context, profileName, region string, ep profile.Endpoint, creds cache.Credentials, message string, optFns ...func(*sts.Options)) (string, error) {
	client, ep, err := clientFor(region, ep)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, STSBudget)
	defer cancel()
	out, err := client.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(message)},
		append(optFns, signWith(creds))...)
	if err != nil {
		return "", classify(err, "DecodeAuthorizationMessage", "", profileName, ep, false, creds.SessionToken != "")
	}
	if out.DecodedMessage == nil {
		return "", &STSError{Op: "DecodeAuthorizationMessage", Profile: profileName, Endpoint: ep, Kind: ErrSTSUnavailable,
			Err: errors.New("STS answered without a decoded message")}
	}
	return *out.DecodedMessage, nil
}

// clientFor is the STS client for region and ep, and the endpoint it
// calls; its callers give each call STSBudget, as the broker's own calls
// have.
func clientFor(region string, ep profile.Endpoint) (*sts.Client, profile.Endpoint, error) {
	ep, err := STSEndpoint(region, ep)
	if err != nil {
		return nil, ep, err
	}
	client, err := newSTSClient(region, ep)
	return client, ep, err
}
