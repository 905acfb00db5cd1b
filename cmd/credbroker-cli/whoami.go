package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

func newWhoamiCmd(a *app) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "whoami [PROFILE]",
		Short: "Show whose credentials PROFILE gets (STS GetCallerIdentity)",
		Long: `Ask STS who PROFILE's temporary credentials belong to (GetCallerIdentity),
with the credentials the daemon serves for it, at the profile's STS endpoint,
and print the ARN, the account and the user id. Without PROFILE: $AWS_PROFILE,
else "default", as the AWS CLI chooses.

--output json prints what the AWS CLI prints for aws sts get-caller-identity:
{"UserId", "Account", "Arn"}.`,
		Args: optionalProfile,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(c, output); err != nil {
				return err
			}
			name, err := a.profileArg(c, args)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context(), credentialProcessTimeout)
			defer cancel()
			creds, err := a.sessionCredentials(ctx, name)
			if err != nil {
				return err
			}
			region, ep, err := a.stsLocation(name)
			if err != nil {
				return err
			}
			id, err := broker.CallerIdentity(ctx, name, region, ep, creds, a.traceSTS(cache.LastFour(creds.AccessKeyID)))
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(a.stdout, id)
			}
			_, err = fmt.Fprintf(a.stdout, "Arn:     %s\nAccount: %s\nUserId:  %s\n", id.ARN, id.Account, id.UserID)
			return err
		},
	}
	outputFlag(c, &output)
	addMFACodeFlag(c, a)
	return c
}

// optionalProfile accepts at most one valid PROFILE argument.
func optionalProfile(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return exactProfile(c, args)
}

// profileArg is the profile a command names, else the one the AWS CLI
// would use: $AWS_PROFILE, else "default".
func (a *app) profileArg(c *cobra.Command, args []string) (string, error) {
	if len(args) > 0 {
		return args[0], nil
	}
	name := a.getenv("AWS_PROFILE")
	if name == "" {
		return "default", nil
	}
	if err := profile.ValidProfileName(name); err != nil {
		return "", usageError{c, "AWS_PROFILE: " + err.Error()}
	}
	return name, nil
}

// sessionCredentials are profile name's temporary credentials, from the
// daemon as credential_process gets them (starting one, asking for an MFA
// code on the terminal when one is needed).
func (a *app) sessionCredentials(ctx context.Context, name string) (cache.Credentials, error) {
	body, err := a.fetch(ctx, name, true)
	if err != nil {
		return cache.Credentials{}, err
	}
	var out wire.ProcessOutput
	if err := json.Unmarshal(body, &out); err != nil || out.AccessKeyID == "" || out.SecretAccessKey == "" {
		return cache.Credentials{}, errors.New("the daemon's answer is not credential_process JSON")
	}
	exp, _ := time.Parse(time.RFC3339, out.Expiration)
	return cache.Credentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey, SessionToken: out.SessionToken, Expires: exp}, nil
}

// stsLocation is the region and STS endpoint of profile name's
// credentials, as this process's config and settings resolve its chain
// (those the daemon made them with: every request carries them); for a
// profile that is only a stored key, where its key is checked.
func (a *app) stsLocation(name string) (string, profile.Endpoint, error) {
	r, err := a.resolver()
	if err != nil {
		return "", profile.Endpoint{}, err
	}
	if chain, err := r.Resolve(name); err == nil {
		return chain.Region, chain.Endpoint, nil
	}
	return r.Locate(name)
}
