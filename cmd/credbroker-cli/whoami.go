package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
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
			s, err := a.stsSession(ctx, name)
			if err != nil {
				return err
			}
			id, err := broker.CallerIdentity(ctx, name, s.region, s.ep, s.creds, s.trace)
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

// stsSession is what a command that asks STS as a profile needs: the
// profile's temporary credentials, the region and endpoint they are for,
// and the option that traces each call under --debug.
type stsSession struct {
	creds  cache.Credentials
	region string
	ep     profile.Endpoint
	trace  func(*sts.Options)
}

// stsSession gets profile name's temporary credentials from the daemon as
// credential_process gets them (starting one, asking for an MFA code on
// the terminal when one is needed), and where STS is for them
// (stsLocation).
func (a *app) stsSession(ctx context.Context, name string) (stsSession, error) {
	out, err := a.processOutput(ctx, name, true, credentialProcessTimeout)
	if err != nil {
		return stsSession{}, err
	}
	exp, _ := time.Parse(time.RFC3339, out.Expiration)
	s := stsSession{creds: cache.Credentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey, SessionToken: out.SessionToken, Expires: exp}}
	if s.region, s.ep, err = a.stsLocation(name); err != nil {
		return stsSession{}, err
	}
	s.trace = a.traceSTS(cache.LastFour(s.creds.AccessKeyID))
	return s, nil
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
