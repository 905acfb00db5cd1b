// Package fakests is a stand-in for STS behind the broker's narrow STS
// interface, and an MFA code source, for the unit tests of broker and
// daemon. It issues numbered credentials, records who signed each call,
// and fails on demand.
package fakests

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/credbroker/credbroker/profile"
)

// STS stands in for STS: it issues numbered credentials, records who
// signed each call, and fails on demand.
type STS struct {
	mu sync.Mutex
	// Now is the clock expirations are made from.
	Now   func() time.Time
	n     int
	Calls []Call
	// fail, when set, decides an error for a call (SetFail).
	fail func(c Call) error
	// ARN is who GetCallerIdentity says the caller is.
	ARN string
	// Tag, when set, is part of every secret issued, to tell fakes apart.
	Tag string
	// Overissue is added to every expiration: an endpoint that issues
	// longer than asked.
	Overissue time.Duration
}

// Call is one call STS received.
type Call struct {
	Op, Signer, Token, Code, Role string
	// Policy and PolicyARNs are AssumeRole's session policies.
	Policy     string
	PolicyARNs []string
	// SessionName, SourceIdentity and Serial are AssumeRole's
	// RoleSessionName, SourceIdentity and SerialNumber (Serial also
	// GetSessionToken's).
	SessionName, SourceIdentity, Serial string
	Duration                            int32
	Attempts                            int
}

func (f *STS) record(ctx context.Context, c Call, optFns []func(*sts.Options)) (Call, error) {
	var o sts.Options
	for _, fn := range optFns {
		fn(&o)
	}
	creds, err := o.Credentials.Retrieve(ctx)
	if err != nil {
		return c, err
	}
	c.Signer, c.Token, c.Attempts = creds.AccessKeyID, creds.SessionToken, o.RetryMaxAttempts
	f.mu.Lock()
	f.Calls = append(f.Calls, c)
	fail := f.fail
	f.mu.Unlock()
	// fail may block (a test holding STS): never under the lock.
	if fail != nil {
		if err := fail(c); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (f *STS) issue(d int32) *types.Credentials {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return &types.Credentials{
		AccessKeyId:     aws.String(fmt.Sprintf("ASIAFAKE%012d", f.n)),
		SecretAccessKey: aws.String(fmt.Sprintf("secret-%s%d", f.Tag, f.n)),
		SessionToken:    aws.String(fmt.Sprintf("token-%s%d", f.Tag, f.n)),
		Expiration:      aws.Time(f.Now().Add(time.Duration(d)*time.Second + f.Overissue)),
	}
}

// GetSessionToken issues numbered credentials.
func (f *STS) GetSessionToken(ctx context.Context, in *sts.GetSessionTokenInput, optFns ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error) {
	if _, err := f.record(ctx, Call{Op: "GetSessionToken", Code: aws.ToString(in.TokenCode), Serial: aws.ToString(in.SerialNumber), Duration: aws.ToInt32(in.DurationSeconds)}, optFns); err != nil {
		return nil, err
	}
	return &sts.GetSessionTokenOutput{Credentials: f.issue(aws.ToInt32(in.DurationSeconds))}, nil
}

// AssumeRole issues numbered credentials.
func (f *STS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	c := Call{Op: "AssumeRole", Role: aws.ToString(in.RoleArn), Duration: aws.ToInt32(in.DurationSeconds), Policy: aws.ToString(in.Policy),
		SessionName: aws.ToString(in.RoleSessionName), SourceIdentity: aws.ToString(in.SourceIdentity),
		Code: aws.ToString(in.TokenCode), Serial: aws.ToString(in.SerialNumber)}
	for _, p := range in.PolicyArns {
		c.PolicyARNs = append(c.PolicyARNs, aws.ToString(p.Arn))
	}
	if _, err := f.record(ctx, c, optFns); err != nil {
		return nil, err
	}
	return &sts.AssumeRoleOutput{Credentials: f.issue(aws.ToInt32(in.DurationSeconds))}, nil
}

// GetCallerIdentity answers ARN.
func (f *STS) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if _, err := f.record(ctx, Call{Op: "GetCallerIdentity"}, optFns); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Arn: aws.String(f.ARN), Account: aws.String("123456789012")}, nil
}

// Ops lists the operations called, in order.
func (f *STS) Ops() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ops []string
	for _, c := range f.Calls {
		ops = append(ops, c.Op)
	}
	return strings.Join(ops, ",")
}

// Reset forgets the calls made.
func (f *STS) Reset() {
	f.mu.Lock()
	f.Calls = nil
	f.mu.Unlock()
}

// Codes makes numbered MFA codes without a human (as a stored seed
// would), counting them.
type Codes struct {
	mu sync.Mutex
	n  int
}

// Code returns the next code.
func (c *Codes) Code(context.Context, *profile.RoleChain) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return fmt.Sprintf("%06d", c.n), nil
}

// Unattended: the codes need no human.
func (c *Codes) Unattended(*profile.RoleChain) bool { return true }

// N is how many codes were made.
func (c *Codes) N() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Calls returns a copy of the calls made.
func (f *STS) CallList() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.Calls...)
}

// SetFail makes fail decide an error for each call from now on (nil: none).
func (f *STS) SetFail(fail func(c Call) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// Config is a config file of profiles for tests: base (an MFA device),
// prod (a role from base), plain (a key of its own), direct (a role straight
// from its own key, 2 h).
const Config = `[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile prod]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = base
[profile plain]
[profile direct]
role_arn = arn:aws:iam::210987654321:role/Direct
duration_seconds = 7200
`
