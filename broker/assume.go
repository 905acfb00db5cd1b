package broker

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
)

// roleCall is what one AssumeRole is made with: the step, its session
// policy document, the credentials that sign it, the chain's long-lived
// key (whose IAM user names a session that role_session_name does not),
// whether the signer is temporary, and a code a human gave for a step
// that carries the MFA device itself.
type roleCall struct {
	step   profile.RoleStep
	policy string
	signer cache.Credentials
	// keyID is the long-lived key's id; source reads the key itself.
	keyID     string
	source    func() (cache.Credentials, error)
	temporary bool
	code      string
}

func (b *Broker) assumeRole(ctx context.Context, client STS, chain *profile.RoleChain, ep profile.Endpoint, rc roleCall, fp string) (cache.Entry, error) {
	step := rc.step
	// The AWS CLI's way for a role session over an hour: the code goes
	// with this AssumeRole, signed by the long-lived key. Asked for first,
	// so that a code nobody can give costs no STS call.
	code, generated := rc.code, false
	if step.MFA && code == "" {
		var err error
		if code, err = b.codes.Code(ctx, chain); err != nil {
			return cache.Entry{}, &MFAError{Profile: chain.Profile, Device: chain.MFASerial, Err: err}
		}
		generated = b.codes.Unattended(chain)
	}
	name := step.SessionName
	if name == "" {
		var err error
		if name, err = b.defaultSessionName(ctx, client, chain, ep, rc.keyID, rc.source); err != nil {
			return cache.Entry{}, err
		}
	}
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(step.RoleARN),
		RoleSessionName: aws.String(name),
		DurationSeconds: aws.Int32(int32(step.Duration.Seconds())),
	}
	if step.ExternalID != "" {
		in.ExternalId = aws.String(step.ExternalID)
	}
	if step.SourceIdentity != "" {
		in.SourceIdentity = aws.String(step.SourceIdentity)
	}
	if rc.policy != "" {
		in.Policy = aws.String(rc.policy)
	}
	for _, arn := range step.PolicyARNs {
		in.PolicyArns = append(in.PolicyArns, types.PolicyDescriptorType{Arn: aws.String(arn)})
	}
	if step.MFA {
		in.SerialNumber, in.TokenCode = aws.String(chain.MFASerial), aws.String(code)
	}
	issued := b.now()
	out, err := client.AssumeRole(ctx, in, signWith(rc.signer), noRetryWithMFA(step.MFA))
	if err != nil {
		se := classify(err, "AssumeRole", step.RoleARN, step.Profile, ep, step.MFA, rc.temporary)
		se.GeneratedCode = generated
		return cache.Entry{}, se
	}
	return b.store(roleCacheName(step.Profile), out.Credentials, issued, step.Duration, fp, "AssumeRole", chain, ep)
}
