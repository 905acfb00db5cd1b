package broker

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/profile"
)

// defaultSessionName names a role session that role_session_name does not:
// the IAM user name of the chain's long-lived key, as GetCallerIdentity
// reports it, and when the session was made, e.g. alice-1764470000. So
// CloudTrail shows who assumed the role (assumed-role/Admin/alice-...),
// each session has a name of its own, and a trust policy may ask for it
// (StringLike sts:RoleSessionName "${aws:username}-*"). The user name is
// asked once per key while the broker runs.
func (b *Broker) defaultSessionName(ctx context.Context, client STS, chain *profile.RoleChain, ep profile.Endpoint, keyID string, key func() (cache.Credentials, error)) (string, error) {
	user, err := b.keyUser(ctx, client, chain, ep, keyID, key)
	if err != nil {
		return "", err
	}
	return sessionNameFor(user, b.now().Unix()), nil
}

// keyUser is the IAM user name of the key keyID (read by key), from
// memory or GetCallerIdentity.
func (b *Broker) keyUser(ctx context.Context, client STS, chain *profile.RoleChain, ep profile.Endpoint, keyID string, key func() (cache.Credentials, error)) (string, error) {
	if u, ok := b.keyUsers.Load(keyID); ok {
		return u.(string), nil
	}
	v, err, _ := b.flights.Do("caller-identity|"+fingerprint(keyID), func() (any, error) {
		signer, err := key()
		if err != nil {
			return "", err
		}
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, signWith(signer))
		if err != nil {
			return "", classify(err, "GetCallerIdentity", "", chain.Source, ep, false, false)
		}
		u := callerNameOf(aws.ToString(out.Arn))
		b.keyUsers.Store(keyID, u)
		return u, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// maxSessionName is AssumeRole's limit on RoleSessionName; a unix time
// and its dash take 11 of it.
const maxSessionName = 64

var sessionNameUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// sessionNameFor is user-UNIXTIME, valid for RoleSessionName's pattern
// [\w+=,.@-]{2,64}: an IAM user name may be 64 characters, so it is cut
// to leave room for the time.
func sessionNameFor(user string, unix int64) string {
	user = sessionNameUnsafe.ReplaceAllString(user, "_")
	suffix := "-" + strconv.FormatInt(unix, 10)
	if user == "" {
		user = "credbroker"
	}
	if len(user) > maxSessionName-len(suffix) {
		user = user[:maxSessionName-len(suffix)]
	}
	return user + suffix
}

// callerNameOf is the name in an ARN's resource: alice in
// arn:aws:iam::123456789012:user/division/alice, root for the root user
// (whose key is used only when forced), "" when arn is not an ARN.
func callerNameOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	res := parts[5]
	return res[strings.LastIndex(res, "/")+1:]
}

// stepMFA names, for fingerprints and ChainID, the MFA device a step
// carries itself ("" when it carries none).
func stepMFA(chain *profile.RoleChain, st profile.RoleStep) string {
	if !st.MFA {
		return ""
	}
	return "mfa:" + chain.MFASerial
}
