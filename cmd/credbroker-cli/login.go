package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// federationEndpointVar overrides the console sign-in federation endpoint
// (a stand-in such as credbroker sandbox, or a partition credbroker has
// no endpoint for).
const federationEndpointVar = "CREDBROKER_FEDERATION_ENDPOINT"

// allowAllPolicy is the session policy of an IAM user's console session
// when the profile names none: GetFederationToken without a policy gives
// a session with no permissions at all, and with this one the session may
// do what the IAM user may (the intersection of the user's policies and
// this), less what federated users never may (IAM calls, STS calls but
// GetCallerIdentity). aws-vault's login sends the same policy.
const allowAllPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"TheIAMUsersOwnPermissions","Effect":"Allow","Action":"*","Resource":"*"}]}`

// defaultFederationDuration is how long an IAM user's console session
// lasts without --duration.
const defaultFederationDuration = time.Hour

// consoleSites are each partition's federation endpoint and console (IAM
// User Guide, "Enable custom identity broker access to the AWS console";
// AWS GovCloud (US) and China user guides).
var consoleSites = map[string]struct{ federation, console string }{
	"aws":        {"https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com/"},
	"aws-us-gov": {"https://signin.amazonaws-us-gov.com/federation", "https://console.amazonaws-us-gov.com/"},
	"aws-cn":     {"https://signin.amazonaws.cn/federation", "https://console.amazonaws.cn/"},
}

func newLoginCmd(a *app) *cobra.Command {
	var (
		toStdout bool
		duration time.Duration
	)
	c := &cobra.Command{
		Use:   "login PROFILE [--stdout] [--duration D]",
		Short: "Open the AWS console signed in with PROFILE's credentials",
		Long: `Sign in to the AWS console with PROFILE's credentials through the
federation endpoint (getSigninToken, then login), and open the sign-in URL in
the desktop's browser (xdg-open, open), or print it with --stdout.

A role profile signs in with its role session, from the daemon as
credential_process gets it; --duration (15m to 12h) then sets the console
session's length, except for a role assumed with temporary credentials (an MFA
session or another role: role chaining), whose console session lasts as long
as its credentials.

An IAM user's profile signs in as a federated user (GetFederationToken signed
with the stored key, named after the IAM user, --duration 15m to 36h, 1h by
default), with the profile's session_policy when it has one; otherwise with a
policy that allows "*" on "*", so that the session may do what the IAM user
may, less what federated users never may (IAM calls, STS calls but
GetCallerIdentity). GetFederationToken takes no MFA code.

The federation endpoint is the partition's (signin.aws.amazon.com,
signin.amazonaws-us-gov.com, signin.amazonaws.cn), or $CREDBROKER_FEDERATION_ENDPOINT
(required when STS is a custom endpoint, such as credbroker sandbox's
http://127.0.0.1:PORT/federation).

The URL signs in whoever opens it within 15 minutes: it is never logged, and
is handed to the browser through a one-time loopback address rather than on a
command line other users can read.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			if duration != 0 && (duration < 15*time.Minute || duration > 36*time.Hour) {
				return usageError{c, fmt.Sprintf("--duration %s: want 15m to 12h for a role, 15m to 36h for an IAM user", duration)}
			}
			signin, err := a.signinURL(c.Context(), args[0], duration)
			if err != nil {
				return err
			}
			if toStdout {
				_, err := fmt.Fprintln(a.stdout, signin)
				return err
			}
			return a.openInBrowser(c.Context(), signin)
		},
	}
	c.Flags().BoolVar(&toStdout, "stdout", false, "print the sign-in URL instead of opening it")
	c.Flags().DurationVar(&duration, "duration", 0, "the console session's length")
	addMFACodeFlag(c, a)
	return c
}

// signinURL makes the console sign-in URL of profile name.
func (a *app) signinURL(ctx context.Context, name string, duration time.Duration) (string, error) {
	b, r, err := a.broker()
	if err != nil {
		return "", err
	}
	chain, err := r.Resolve(name)
	if err != nil {
		return "", err
	}
	federation, console, err := a.consoleSite(chain)
	if err != nil {
		return "", err
	}
	var (
		creds    wire.ProcessOutput
		sessDurn time.Duration
	)
	if len(chain.Steps) > 0 {
		if duration > 12*time.Hour {
			return "", fmt.Errorf("--duration %s: a role's console session lasts at most 12h", duration)
		}
		if duration != 0 && (chain.SessionToken || len(chain.Steps) > 1) {
			return "", fmt.Errorf("--duration: profile %s assumes its role with temporary credentials (role chaining), and AWS takes no console session duration for such a session: it lasts as long as the credentials; leave --duration out", name)
		}
		if creds, err = a.processOutput(ctx, name, true, credentialProcessTimeout); err != nil {
			return "", err
		}
		if creds.SessionToken == "" {
			return "", errors.New("the daemon's answer is not credential_process JSON")
		}
		sessDurn = duration
	} else {
		if creds, err = a.federationToken(ctx, b, r, chain, duration); err != nil {
			return "", err
		}
	}
	httpClient, err := broker.NewHTTPClient(chain.Endpoint.CABundle)
	if err != nil {
		return "", err
	}
	token, err := getSigninToken(ctx, httpClient, federation, creds, sessDurn)
	if err != nil {
		return "", err
	}
	q := url.Values{"Action": {"login"}, "Issuer": {"credbroker"}, "Destination": {console}, "SigninToken": {token}}
	return federation + "?" + q.Encode(), nil
}

// consoleSite is the federation endpoint and console for chain: the
// partition's, or the override's (with the partition's console).
func (a *app) consoleSite(chain *profile.RoleChain) (federation, console string, err error) {
	site, known := consoleSites[chain.Partition]
	console = site.console
	if !known {
		console = consoleSites["aws"].console
	}
	// The console opens in the region the profile or the environment
	// names; without one, in the console's own choice.
	if region := a.regionOrEnv(chain.Profile); region != "" && known {
		console += "console/home?region=" + url.QueryEscape(region)
	}
	if v := a.getenv(federationEndpointVar); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return "", "", fmt.Errorf("%s=%q is not an http:// or https:// URL without a query", federationEndpointVar, v)
		}
		if u.Scheme == "http" && !profile.LoopbackHost(u.Hostname()) {
			return "", "", fmt.Errorf("%s %s: plain http is accepted only on loopback: use https", federationEndpointVar, v)
		}
		return v, console, nil
	}
	if chain.Endpoint.URL != "" {
		// Credentials of another STS mean nothing to AWS's sign-in, and
		// are not sent there.
		return "", "", fmt.Errorf("profile %s gets its credentials from STS at %s, not AWS's: set %s to the federation endpoint that takes them", chain.Profile, chain.Endpoint, federationEndpointVar)
	}
	if !known {
		return "", "", fmt.Errorf("no console federation endpoint is known for partition %s: set %s", chain.Partition, federationEndpointVar)
	}
	return site.federation, console, nil
}

// federationToken signs an IAM user's profile in as a federated user
// named after the user: GetFederationToken with the stored key and the
// profile's session policy, or allowAllPolicy.
func (a *app) federationToken(ctx context.Context, b *broker.Broker, r *profile.Resolver, chain *profile.RoleChain, duration time.Duration) (wire.ProcessOutput, error) {
	var out wire.ProcessOutput
	if duration == 0 {
		duration = defaultFederationDuration
	}
	doc := allowAllPolicy
	cfg, _ := a.config()
	if p := cfg.Profiles[chain.Profile]; p != nil && p.SessionPolicy != "" {
		data, err := broker.ReadSessionPolicy(p.SessionPolicy, chain.Profile)
		if err != nil {
			return out, err
		}
		doc = data
	}
	k, err := a.ownKeyOf(b, r, chain, "login")
	if err != nil {
		return out, err
	}
	key := k.key
	_, user, err := k.user(ctx)
	if err != nil {
		return out, err
	}
	ep, err := broker.STSEndpoint(chain.Region, chain.Endpoint)
	if err != nil {
		return out, err
	}
	client, err := broker.NewSTSClient(chain.Region, ep)
	if err != nil {
		return out, err
	}
	res, err := client.GetFederationToken(ctx, &sts.GetFederationTokenInput{
		Name:            aws.String(federatedName(user)),
		DurationSeconds: aws.Int32(int32(duration.Seconds())),
		Policy:          aws.String(doc),
	}, func(o *sts.Options) {
		o.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey, Source: "credbroker"}, nil
		}))
	})
	if err != nil {
		return out, fmt.Errorf("profile %s: GetFederationToken at %s: %s", chain.Profile, ep, iamFault(err))
	}
	c := res.Credentials
	if c == nil || aws.ToString(c.SessionToken) == "" {
		return out, fmt.Errorf("profile %s: GetFederationToken answered without credentials", chain.Profile)
	}
	out.AccessKeyID, out.SecretAccessKey, out.SessionToken = aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)
	return out, nil
}

// federatedName is a GetFederationToken Name made from an IAM user name:
// 2 to 32 of the characters [\w+=,.@-] (user names allow the same set,
// up to 64 long).
func federatedName(user string) string {
	if len(user) > 32 {
		user = user[:32]
	}
	if len(user) < 2 {
		user += "-credbroker"
	}
	return user
}

// getSigninToken trades temporary credentials for a sign-in token at the
// federation endpoint, through client (the one of credbroker's AWS calls:
// its timeouts, proxy settings and AWS_CA_BUNDLE). sessionDuration 0 leaves the console session as
// long as the credentials (SessionDuration is for role sessions only).
func getSigninToken(ctx context.Context, client interface {
	Do(*http.Request) (*http.Response, error)
}, federation string, creds wire.ProcessOutput, sessionDuration time.Duration) (string, error) {
	session, _ := json.Marshal(map[string]string{"sessionId": creds.AccessKeyID, "sessionKey": creds.SecretAccessKey, "sessionToken": creds.SessionToken})
	q := url.Values{"Action": {"getSigninToken"}, "Session": {string(session)}}
	if sessionDuration > 0 {
		q.Set("SessionDuration", strconv.Itoa(int(sessionDuration.Seconds())))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, federation+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("federation endpoint %s: %w", federation, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which holds the credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("getSigninToken at %s: %w", federation, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("getSigninToken at %s: %w", federation, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("getSigninToken at %s: HTTP %d: %s", federation, resp.StatusCode, firstLine(body))
	}
	var answer struct {
		SigninToken string `json:"SigninToken"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.SigninToken == "" {
		return "", fmt.Errorf("getSigninToken at %s: the answer holds no SigninToken", federation)
	}
	return answer.SigninToken, nil
}

// firstLine is the start of an error page, for a message.
func firstLine(body []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return "(no message)"
	}
	return s
}
