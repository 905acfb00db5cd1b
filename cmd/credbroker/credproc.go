package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"
)

// processOutput is what the AWS SDKs parse from credential_process
// (Version 1; Expiration in RFC 3339).
type processOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// credentialProcessTimeout bounds a call: long enough for a human to type an
// MFA code, short enough that a hung STS does not hang the SDK forever.
const credentialProcessTimeout = 3 * time.Minute

func newCredentialProcessCmd(a *app) *cobra.Command {
	var profile string
	c := &cobra.Command{
		Use:   "credential-process --profile PROFILE",
		Short: "Print temporary credentials as credential_process JSON",
		Long: `Print temporary credentials for PROFILE in the JSON the AWS SDKs and CLI read
from credential_process. Put this in ~/.aws/config:

  [profile PROFILE]
  credential_process = credbroker credential-process --profile PROFILE

On failure nothing is printed on stdout, one line on stderr says what is wrong
and what to do, and the exit code is 1.`,
		Args: cobraNoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if profile == "" {
				return usageError{c, "credential-process needs --profile PROFILE"}
			}
			b, err := a.broker()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context(), credentialProcessTimeout)
			defer cancel()
			creds, err := b.Credentials(ctx, profile)
			if err != nil {
				return err
			}
			out, err := json.Marshal(processOutput{
				Version:         1,
				AccessKeyID:     creds.AccessKeyID,
				SecretAccessKey: creds.SecretAccessKey,
				SessionToken:    creds.SessionToken,
				Expiration:      creds.Expires.UTC().Format(time.RFC3339),
			})
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(append(out, '\n'))
			return err
		},
	}
	c.Flags().StringVar(&profile, "profile", "", "the profile to get credentials for")
	return c
}

func cobraNoArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{c, c.CommandPath() + " takes no arguments; name the profile with --profile"}
	}
	return nil
}
