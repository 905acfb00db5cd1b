package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
)

// outputFlag adds --output text|json to c.
func outputFlag(c *cobra.Command, output *string) {
	c.Flags().StringVar(output, "output", "text", "text or json")
}

// checkOutput refuses an --output other than text or json, before the
// command does anything.
func checkOutput(c *cobra.Command, output string) error {
	if output != "text" && output != "json" {
		return usageError{c, fmt.Sprintf("--output %q: want text or json", output)}
	}
	return nil
}

// printJSON prints v as indented JSON, as the AWS CLI prints its answers
// (four spaces), with a final newline.
func printJSON(w io.Writer, v any) error {
	out, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// listedProfile is one profile in `credbroker list --output json`. It
// never holds a secret.
type listedProfile struct {
	Profile string `json:"profile"`
	// AccessKey is the stored key's id, all but its last four characters
	// masked; absent when no key is stored.
	AccessKey string `json:"access_key,omitempty"`
	TOTPSeed  bool   `json:"totp_seed"`
	// Credentials says how they are made; Error why they cannot be.
	Credentials   string `json:"credentials,omitempty"`
	SourceProfile string `json:"source_profile,omitempty"`
	MFASerial     string `json:"mfa_serial,omitempty"`
	RoleARN       string `json:"role_arn,omitempty"`
	Region        string `json:"region,omitempty"`
	Error         string `json:"error,omitempty"`
	// From is the file the profile is defined in, or "keystore".
	From string `json:"from,omitempty"`
}

// listing is `credbroker list --output json`.
type listing struct {
	Profiles []listedProfile `json:"profiles"`
}

func newListing(profiles []broker.ProfileSummary, r *profile.Resolver) listing {
	l := listing{Profiles: []listedProfile{}}
	for _, p := range profiles {
		lp := listedProfile{Profile: p.Name, AccessKey: p.KeyID, TOTPSeed: p.Seed}
		if p.Err != nil {
			lp.Error = p.Err.Error()
		} else {
			lp.Credentials, lp.SourceProfile, lp.MFASerial, lp.Region = p.Chain.Describe(), p.Chain.Source, p.Chain.MFASerial, p.Chain.Region
			if n := len(p.Chain.Steps); n > 0 {
				lp.RoleARN = p.Chain.Steps[n-1].RoleARN
			}
		}
		lp.From, _ = r.Origin(p.Name)
		l.Profiles = append(l.Profiles, lp)
	}
	return l
}
