package sandbox

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/credbroker/credbroker/policy"
)

// stringParam reads a parameter within its model's length bounds and
// character set (allowed reports whether a character may appear; nil:
// any). Member is the model's camelCase name, as validation errors say it.
func (c *call) stringParam(name, member string, required bool, minLen, maxLen int, pattern string, allowed func(rune) bool) (string, *apiError) {
	v := c.params.Get(name)
	switch {
	case v == "" && required:
		return "", validationNull(member)
	case v == "":
		return "", nil
	case len(v) < minLen:
		return "", validation(clip(v, 64), member, "have length greater than or equal to "+strconv.Itoa(minLen))
	case len(v) > maxLen:
		return "", validation(clip(v, 64), member, "have length less than or equal to "+strconv.Itoa(maxLen))
	}
	if allowed != nil && strings.IndexFunc(v, func(r rune) bool { return !allowed(r) }) >= 0 {
		return "", validation(clip(v, 64), member, "satisfy regular expression pattern: "+pattern)
	}
	return v, nil
}

// Character sets of the STS and IAM models' patterns.
func nameChar(r rune) bool { // [\w+=,.@-]
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_+=,.@-", r))
}

func externalIDChar(r rune) bool { return nameChar(r) || r == ':' || r == '/' } // [\w+=,.@:\/-]

func wordChar(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
} // [\w]

// durationParam reads DurationSeconds: def when absent, else an integer
// within the model's bounds.
func (c *call) durationParam(def time.Duration, minSec, maxSec int) (time.Duration, *apiError) {
	v := c.params.Get("DurationSeconds")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, newError("ValidationError", "Value '%s' for parameter DurationSeconds is invalid. Expected an integer", clip(v, 16))
	case n < minSec:
		return 0, validation(v, "durationSeconds", "have value greater than or equal to "+strconv.Itoa(minSec))
	case n > maxSec:
		return 0, validation(v, "durationSeconds", "have value less than or equal to "+strconv.Itoa(maxSec))
	}
	return time.Duration(n) * time.Second, nil
}

// members reads a Query protocol list, NAME.member.1, NAME.member.2, ...
func (c *call) members(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := c.params[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// sessionPolicyParam reads the inline session policy (Policy): at most
// 2048 characters STS accepts, a valid identity-based policy
// (policy.CheckSessionPolicy). It returns the text and its
// PackedPolicySize, the percentage of the limit it uses.
func (c *call) sessionPolicyParam() (string, int, *apiError) {
	if _, ok := c.params["PolicyArns.member.1.arn"]; ok {
		// Managed session policies narrow a session; ignoring them would
		// hand out more than was asked for, so they are refused.
		return "", 0, newError("ValidationError", "PolicyArns (managed session policies) are not supported by the sandbox: pass the policy inline with Policy")
	}
	doc := c.params.Get("Policy")
	if doc == "" {
		return "", 0, nil
	}
	if err := policy.CheckSessionPolicy([]byte(doc)); err != nil {
		if errors.Is(err, policy.ErrSessionPolicyTooLong) {
			return "", 0, validation("...", "policy", "have length less than or equal to 2048")
		}
		return "", 0, newError("MalformedPolicyDocument", "%v", err)
	}
	return doc, (len(doc)*100 + policy.MaxSessionPolicyChars - 1) / policy.MaxSessionPolicyChars, nil
}

// tagsParam reads session tags, Tags.member.N.Key and .Value.
func (c *call) tagsParam() (map[string]string, *apiError) {
	var tags map[string]string
	for i := 1; ; i++ {
		prefix := "Tags.member." + strconv.Itoa(i)
		k, ok := c.params[prefix+".Key"]
		if !ok {
			return tags, nil
		}
		if k[0] == "" || len(k[0]) > 128 {
			return nil, validation(clip(k[0], 64), "tags.member."+strconv.Itoa(i)+".member.key", "have length between 1 and 128")
		}
		if tags == nil {
			tags = map[string]string{}
		}
		tags[k[0]] = c.params.Get(prefix + ".Value")
	}
}

// issue makes temporary credentials for cl, valid for d from now: a new
// ASIA key id of cl's account, the secret derived from it, and the sealed
// claims as session token.
func (c *call) issue(cl *sessionClaims, d time.Duration) (credentialsXML, *apiError) {
	id, err := newKeyID(c.s.rand(), "ASIA", cl.Account)
	if err != nil {
		return credentialsXML{}, asAPIError(err)
	}
	now := c.now.Truncate(time.Second)
	cl.AccessKeyID, cl.Issued, cl.Expires = id, now.Unix(), now.Add(d).Unix()
	token, err := c.sn.seal.seal(c.s.rand(), sealSession, cl, base64.StdEncoding)
	if err != nil {
		return credentialsXML{}, asAPIError(err)
	}
	return credentialsXML{
		AccessKeyID:     id,
		SecretAccessKey: temporarySecret(c.sn.st.SealKey, id),
		SessionToken:    token,
		// On the clients' clocks (see Server.Advanced), as they read it.
		Expiration: awsTime(now.Add(d).Add(c.clientNow.Sub(c.now))),
	}, nil
}
