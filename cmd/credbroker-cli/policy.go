package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/policy"
	"github.com/credbroker/credbroker/profile"
)

func newPolicyCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "Evaluate and lint IAM policies offline",
	}
	c.AddCommand(newPolicySimulateCmd(a), newPolicyLintCmd(a))
	return c
}

func newPolicySimulateCmd(a *app) *cobra.Command {
	var (
		sim                               policy.Simulation
		identity                          []string
		resourcePolicy, session, boundary string
		output, fromProfile               string
	)
	c := &cobra.Command{
		Use:   "simulate",
		Short: "Decide whether a principal may perform actions, as IAM would",
		Long: `Evaluate identity-based policies, a resource-based policy, a permissions
boundary and a session policy for a caller, offline, following the IAM User
Guide's policy evaluation logic (same-account and cross-account). For each
--action it prints allowed, explicitDeny or implicitDeny and the statements
that decided.

  credbroker policy simulate --identity-policy role.json \
    --resource-policy bucket.json --principal arn:aws:sts::111122223333:assumed-role/App/s \
    --action s3:GetObject --resource arn:aws:s3:::my_bucket/report.csv \
    --resource-account 111122223333 --context aws:SourceIp=ip:203.0.113.7

--context takes KEY=TYPE:VALUE[,VALUE...] with TYPE string, numeric,
boolean, date, ip, arn or binary (base64); several values, or TYPE with
List (stringList), make a multivalued key. The exit status is 0 whatever the
decision; only bad input is an error.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			if fromProfile != "" {
				if session != "" {
					return usageError{c, "give --profile or --session-policy, not both"}
				}
				var err error
				if session, err = a.profileSessionPolicy(fromProfile); err != nil {
					return err
				}
			}
			for _, f := range identity {
				p, err := policy.ParseFile(f)
				if err != nil {
					return err
				}
				sim.Identity = append(sim.Identity, p)
			}
			for _, opt := range []struct {
				file string
				dst  **policy.Policy
			}{{resourcePolicy, &sim.Resource}, {session, &sim.Session}, {boundary, &sim.Boundary}} {
				if opt.file == "" {
					continue
				}
				p, err := policy.ParseFile(opt.file)
				if err != nil {
					return err
				}
				*opt.dst = p
			}
			rep, err := sim.Run()
			if err != nil {
				return err
			}
			if output == "json" {
				return rep.WriteJSON(a.stdout)
			}
			return rep.WriteText(a.stdout)
		},
	}
	f := c.Flags()
	f.StringArrayVar(&identity, "identity-policy", nil, "identity-based policy `FILE` (repeatable)")
	f.StringVar(&resourcePolicy, "resource-policy", "", "resource-based policy `FILE`")
	f.StringVar(&session, "session-policy", "", "session policy `FILE`")
	f.StringVar(&boundary, "boundary", "", "permissions boundary `FILE`")
	f.StringArrayVar(&sim.Actions, "action", nil, "`ACTION` to simulate, such as s3:GetObject (repeatable)")
	f.StringVar(&sim.ResourceARN, "resource", "*", "resource `ARN`")
	f.StringVar(&sim.Principal, "principal", "", "the caller's `ARN` (user, role, assumed-role session, federated user) or a service principal")
	f.StringVar(&sim.ResourceAccount, "resource-account", "", "account `ID` that owns the resource when its ARN has none (S3); default the caller's")
	f.StringArrayVar(&sim.Context, "context", nil, "request context `KEY=TYPE:VALUE[,VALUE...]` (repeatable)")
	f.StringVar(&output, "output", "text", "output format: text or json")
	f.StringVar(&fromProfile, "profile", "", "take the session policy from `PROFILE`'s session_policy")
	return c
}

// profileSessionPolicy is the session_policy file of the last role of
// profile name's chain: the policy its credentials are narrowed with.
func (a *app) profileSessionPolicy(name string) (string, error) {
	if err := profile.ValidProfileName(name); err != nil {
		return "", err
	}
	_, r, err := a.broker()
	if err != nil {
		return "", err
	}
	chain, err := r.Resolve(name)
	if err != nil {
		return "", err
	}
	if n := len(chain.Steps); n > 0 && chain.Steps[n-1].SessionPolicy != "" {
		return chain.Steps[n-1].SessionPolicy, nil
	}
	return "", fmt.Errorf("profile %s has no session_policy", name)
}

func newPolicyLintCmd(a *app) *cobra.Command {
	var opts policy.LintOptions
	c := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Report risky or broken statements in IAM policy files",
		Long: `Check IAM policy files and print one line per finding:

  FILE:LINE:COL: severity: message (fix: ...)

An error means the policy does not do what it says or lets principals nobody
chose in (anyone may assume the role, any role may be passed); a warning
means it works but grants more than it likely needs. The exit status is 1
when any finding is an error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			errs := 0
			for _, file := range args {
				doc, err := os.ReadFile(file)
				if err != nil {
					return fmt.Errorf("read policy: %w", err)
				}
				for _, finding := range policy.Lint(file, doc, opts) {
					fmt.Fprintln(a.stdout, finding)
					if finding.Severity == policy.SeverityError {
						errs++
					}
				}
			}
			if errs > 0 {
				return fmt.Errorf("policy lint found %d error(s)", errs)
			}
			return nil
		},
	}
	c.Flags().StringVar(&opts.RoleAccount, "role-account", "", "account `ID` that owns the role, to tell other accounts in a trust policy")
	return c
}
