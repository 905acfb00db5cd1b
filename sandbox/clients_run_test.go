package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// runGoSDK is the AWS SDK for Go's STS client over the network.
func runGoSDK(t *testing.T, fx *clientFixture, u clientUser) clientResult {
	t.Helper()
	ctx := context.Background()
	client := func(id, secret, token string) *sts.Client { return sdkClient(fx.url, creds{id, secret, token}, nil) }
	fromCreds := func(c *types.Credentials) *sts.Client {
		return client(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	}
	failure := func(err error) clientError {
		if err == nil {
			return clientError{Message: "succeeded", Status: 200}
		}
		var re *awshttp.ResponseError
		status := 0
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		msg := err.Error()
		if i := strings.Index(msg, "api error "+apiCode(err)+": "); i >= 0 {
			msg = msg[i+len("api error "+apiCode(err)+": "):]
		}
		return clientError{Code: apiCode(err), Message: msg, Status: status}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var res clientResult
	base := client(u.keyID, u.secret, "")
	id, err := base.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(err)
	res.Identity.Arn, res.Identity.UserID, res.Identity.Account = *id.Arn, *id.UserId, *id.Account
	info, err := base.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(u.keyID)})
	must(err)
	res.KeyAccount = *info.Account
	admin := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/Admin"), RoleSessionName: aws.String(u.name)}
	_, err = base.AssumeRole(ctx, admin)
	res.Denied = failure(err)
	_, enc, _ := strings.Cut(res.Denied.Message, "Encoded authorization failure message: ")
	dec, err := base.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(enc)})
	must(err)
	res.Decoded = *dec.DecodedMessage
	code, _ := codeAt(u.seed, time.Now().Unix()/totpPeriod)
	st, err := base.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900), SerialNumber: aws.String(u.serial), TokenCode: aws.String(code)})
	must(err)
	res.SessionAccessKeyID, res.SessionExpiration = *st.Credentials.AccessKeyId, st.Credentials.Expiration.Format(time.RFC3339)
	res.Refusals = map[string]clientError{}
	for name, c := range map[string]string{"wrongCode": envValue(fx.env(t, u), "SANDBOX_WRONG_CODE"), "reusedCode": code} {
		_, err := base.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900), SerialNumber: aws.String(u.serial), TokenCode: aws.String(c)})
		res.Refusals[name] = failure(err)
	}
	for name, role := range map[string]string{"untrusted": elsewhereRole, "noExternalId": partnerRole} {
		_, err := base.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String(u.name)})
		res.Refusals[name] = failure(err)
	}
	mfa := fromCreds(st.Credentials)
	sid, err := mfa.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(err)
	res.SessionIdentity = *sid.Arn
	res.IAM = runGoSDKIAM(t, fx, u, creds{*st.Credentials.AccessKeyId, *st.Credentials.SecretAccessKey, *st.Credentials.SessionToken})
	role, err := mfa.AssumeRole(ctx, admin)
	must(err)
	res.RoleArn = *role.AssumedRoleUser.Arn
	rid, err := fromCreds(role.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(err)
	res.RoleIdentity = *rid.Arn
	long := *admin
	long.DurationSeconds = aws.Int32(7200)
	_, err = mfa.AssumeRole(ctx, &long)
	res.TooLong = failure(err)
	fed, err := base.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String(u.name), Policy: aws.String(federationPolicy)})
	must(err)
	res.FederatedArn = *fed.FederatedUser.Arn
	fid, err := fromCreds(fed.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(err)
	res.FederatedIdentity = *fid.Arn
	now := time.Now().Unix()
	token := jwt(t, oidcKey, map[string]any{"iss": issuer, "sub": "repo:credbroker/" + u.name, "aud": clientID, "iat": now, "exp": now + 600})
	web, err := client("", "", "").AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(ciRole), RoleSessionName: aws.String(u.name), WebIdentityToken: aws.String(token)})
	must(err)
	res.WebIdentityArn, res.WebIdentitySubject = *web.AssumedRoleUser.Arn, *web.SubjectFromWebIdentityToken
	return res
}

// cliError is how the AWS CLI prints an error answer.
var cliError = regexp.MustCompile(`An error occurred \(([A-Za-z]+)\) when calling the [A-Za-z]+ operation(?: \([^)]*\))?: (.*)`)

// runAWSCLI runs the AWS CLI of a major version, one command per
// operation, JSON output. CLI v2 from Debian (2.9) predates the
// service-specific endpoint variables, so it is given --endpoint-url.
func runAWSCLI(t *testing.T, fx *clientFixture, u clientUser, major string) clientResult {
	t.Helper()
	path := awsCLIs()[major]
	if path == "" {
		needTool(t, "the AWS CLI v"+major, map[string]string{"1": "it comes with the machine image (pyenv)", "2": "apt-get install awscli"}[major])
	}
	base := fx.env(t, u)
	aws := func(env []string, args ...string) (map[string]any, clientError) {
		t.Helper()
		if major == "2" {
			args = append(args, "--endpoint-url", fx.url)
		}
		cmd := exec.Command(path, append(args, "--output", "json")...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if m := cliError.FindStringSubmatch(string(ee.Stderr)); m != nil {
					return nil, clientError{Code: m[1], Message: strings.TrimSpace(m[2])}
				}
				t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
			}
			t.Fatal(err)
		}
		v := map[string]any{}
		if len(strings.TrimSpace(string(out))) == 0 {
			return v, clientError{} // an action without output
		}
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %s printed %q: %v", strings.Join(args, " "), out, err)
		}
		return v, clientError{}
	}
	ok := func(env []string, args ...string) map[string]any {
		t.Helper()
		v, e := aws(env, args...)
		if e.Code != "" {
			t.Fatalf("aws %s: %s: %s", strings.Join(args, " "), e.Code, e.Message)
		}
		return v
	}
	as := func(c any) []string {
		m := c.(map[string]any)
		return append(withoutKeys(base), "AWS_ACCESS_KEY_ID="+m["AccessKeyId"].(string),
			"AWS_SECRET_ACCESS_KEY="+m["SecretAccessKey"].(string), "AWS_SESSION_TOKEN="+m["SessionToken"].(string))
	}
	s := func(v any, path ...string) string {
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v.(string)
	}
	var res clientResult
	id := ok(base, "sts", "get-caller-identity")
	res.Identity.Arn, res.Identity.UserID, res.Identity.Account = s(id, "Arn"), s(id, "UserId"), s(id, "Account")
	res.KeyAccount = s(ok(base, "sts", "get-access-key-info", "--access-key-id", u.keyID), "Account")
	admin := []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::222222222222:role/Admin", "--role-session-name", u.name}
	_, res.Denied = aws(base, admin...)
	_, enc, _ := strings.Cut(res.Denied.Message, "Encoded authorization failure message: ")
	res.Decoded = s(ok(base, "sts", "decode-authorization-message", "--encoded-message", enc), "DecodedMessage")
	code, _ := codeAt(u.seed, time.Now().Unix()/totpPeriod)
	st := ok(base, "sts", "get-session-token", "--duration-seconds", "900", "--serial-number", u.serial, "--token-code", code)["Credentials"]
	res.SessionAccessKeyID, res.SessionExpiration = s(st, "AccessKeyId"), s(st, "Expiration")
	res.Refusals = map[string]clientError{}
	for name, c := range map[string]string{"wrongCode": envValue(base, "SANDBOX_WRONG_CODE"), "reusedCode": code} {
		_, res.Refusals[name] = aws(base, "sts", "get-session-token", "--duration-seconds", "900", "--serial-number", u.serial, "--token-code", c)
	}
	for name, role := range map[string]string{"untrusted": elsewhereRole, "noExternalId": partnerRole} {
		_, res.Refusals[name] = aws(base, "sts", "assume-role", "--role-arn", role, "--role-session-name", u.name)
	}
	res.SessionIdentity = s(ok(as(st), "sts", "get-caller-identity"), "Arn")
	role := ok(as(st), admin...)
	res.RoleArn = s(role, "AssumedRoleUser", "Arn")
	res.RoleIdentity = s(ok(as(role["Credentials"]), "sts", "get-caller-identity"), "Arn")
	_, res.TooLong = aws(as(st), append(admin, "--duration-seconds", "7200")...)
	fed := ok(base, "sts", "get-federation-token", "--name", u.name, "--policy", federationPolicy)
	res.FederatedArn = s(fed, "FederatedUser", "Arn")
	res.FederatedIdentity = s(ok(as(fed["Credentials"]), "sts", "get-caller-identity"), "Arn")
	web := ok(base, "sts", "assume-role-with-web-identity", "--role-arn", ciRole, "--role-session-name", u.name, "--web-identity-token", envValue(base, "SANDBOX_WEB_IDENTITY_TOKEN"))
	res.WebIdentityArn, res.WebIdentitySubject = s(web, "AssumedRoleUser", "Arn"), s(web, "SubjectFromWebIdentityToken")
	res.IAM = &iamResult{User: s(ok(as(st), "iam", "get-user"), "User", "Arn")}
	for _, k := range ok(as(st), "iam", "list-access-keys")["AccessKeyMetadata"].([]any) {
		res.IAM.Keys = append(res.IAM.Keys, s(k, "AccessKeyId"))
	}
	for _, d := range ok(as(st), "iam", "list-mfa-devices")["MFADevices"].([]any) {
		res.IAM.MFADevices = append(res.IAM.MFADevices, s(d, "SerialNumber"))
	}
	res.IAM.Round = awsCLIIAMRound(t, u, func(args ...string) map[string]any { return ok(as(st), args...) })
	return res
}

func withoutKeys(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			out = append(out, kv)
		}
	}
	return out
}

func envValue(env []string, k string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}

// checkClient checks what a client parsed: the same for every client.
func checkClient(t *testing.T, u clientUser, r clientResult) {
	t.Helper()
	userARN := "arn:aws:iam::111111111111:user/" + u.name
	check := func(what string, ok bool, got any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: got %+v", what, got)
		}
	}
	check("GetCallerIdentity", r.Identity.Arn == userARN && r.Identity.UserID == u.userID && r.Identity.Account == DevAccount, r.Identity)
	check("GetAccessKeyInfo", r.KeyAccount == DevAccount, r.KeyAccount)
	check("AssumeRole without MFA", r.Denied.Code == "AccessDenied" && (r.Denied.Status == 0 || r.Denied.Status == 403) &&
		strings.HasPrefix(r.Denied.Message, "User: "+userARN+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/Admin"), r.Denied)
	var decoded struct {
		Allowed bool `json:"allowed"`
		Context struct {
			Action    string
			Principal struct{ Arn string }
		} `json:"context"`
	}
	check("DecodeAuthorizationMessage", json.Unmarshal([]byte(r.Decoded), &decoded) == nil && !decoded.Allowed &&
		decoded.Context.Action == "sts:AssumeRole" && decoded.Context.Principal.Arn == userARN, r.Decoded)
	exp, err := time.Parse(time.RFC3339, r.SessionExpiration)
	check("GetSessionToken", err == nil && strings.HasPrefix(r.SessionAccessKeyID, "ASIA") && time.Until(exp) > 800*time.Second && time.Until(exp) <= 900*time.Second,
		r.SessionAccessKeyID+" "+r.SessionExpiration)
	check("GetCallerIdentity with the MFA session", r.SessionIdentity == userARN, r.SessionIdentity)
	roleARN := "arn:aws:sts::222222222222:assumed-role/Admin/" + u.name
	check("AssumeRole with MFA", r.RoleArn == roleARN && r.RoleIdentity == roleARN, r.RoleArn+" "+r.RoleIdentity)
	check("AssumeRole for too long", r.TooLong.Code == "ValidationError" && (r.TooLong.Status == 0 || r.TooLong.Status == 400) &&
		r.TooLong.Message == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", r.TooLong)
	fedARN := "arn:aws:sts::111111111111:federated-user/" + u.name
	check("GetFederationToken", r.FederatedArn == fedARN && r.FederatedIdentity == fedARN, r.FederatedArn+" "+r.FederatedIdentity)
	check("AssumeRoleWithWebIdentity", r.WebIdentityArn == "arn:aws:sts::222222222222:assumed-role/CI/"+u.name && r.WebIdentitySubject == "repo:credbroker/"+u.name,
		r.WebIdentityArn+" "+r.WebIdentitySubject)
	// A wrong or used MFA code, and a role whose trust policy does not let
	// the caller in: AccessDenied, 403, in AWS's words.
	for name, role := range map[string]string{"wrongCode": "", "reusedCode": "", "untrusted": elsewhereRole, "noExternalId": partnerRole} {
		e, ok := r.Refusals[name]
		want := "MultiFactorAuthentication failed with invalid MFA one time pass code."
		if role != "" {
			want = "User: " + userARN + " is not authorized to perform: sts:AssumeRole on resource: " + role
		}
		check("refused: "+name, ok && e.Code == "AccessDenied" && (e.Status == 0 || e.Status == 403) && strings.HasPrefix(e.Message, want), e)
	}
	if u.name == "js-sdk-v3" { // the one client whose clock can be set back
		e := r.Refusals["tenMinutesOld"]
		check("refused: signed 10 minutes ago", e.Code == "SignatureDoesNotMatch" && e.Status == 403 && strings.HasPrefix(e.Message, "Signature expired: "), e)
	}
	if r.IAM != nil {
		check("IAM GetUser, ListAccessKeys, ListMFADevices", r.IAM.User == userARN && len(r.IAM.Keys) == 1 && r.IAM.Keys[0] == u.keyID &&
			len(r.IAM.MFADevices) == 1 && r.IAM.MFADevices[0] == u.serial, *r.IAM)
		if r.IAM.Round != nil {
			checkIAMRound(t, u, r.IAM.Round)
		}
	}
}

// checkIAMRound checks what a client parsed of every other IAM action.
func checkIAMRound(t *testing.T, u clientUser, r *iamRound) {
	t.Helper()
	check := func(what string, ok bool, got any) {
		t.Helper()
		if !ok {
			t.Errorf("IAM %s: got %+v", what, got)
		}
	}
	own := u.keyID + ":Active"
	check("CreateAccessKey", regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(r.CreatedKey) && r.CreatedKey != u.keyID && r.CreatedSecretLength == 40,
		r.CreatedKey+" "+strconv.Itoa(r.CreatedSecretLength))
	check("ListAccessKeys after CreateAccessKey", slices.Equal(r.KeysAfterCreate, []string{own, r.CreatedKey + ":Active"}), r.KeysAfterCreate)
	check("UpdateAccessKey", slices.Equal(r.KeysAfterUpdate, []string{own, r.CreatedKey + ":Inactive"}), r.KeysAfterUpdate)
	used, err := time.Parse(time.RFC3339, r.LastUsed.Date)
	check("GetAccessKeyLastUsed", r.LastUsed.User == u.name && r.LastUsed.Service == "sts" && r.LastUsed.Region == "us-east-1" &&
		err == nil && time.Since(used) < 5*time.Minute && time.Since(used) > -time.Minute, r.LastUsed)
	check("DeleteAccessKey", slices.Equal(r.KeysAfterDelete, []string{own}), r.KeysAfterDelete)
	serial := "arn:aws:iam::" + DevAccount + ":mfa/" + u.name + "-2"
	check("CreateVirtualMFADevice", r.VirtualSerial == serial && r.VirtualSeedLength == 32, r.VirtualSerial+" "+strconv.Itoa(r.VirtualSeedLength))
	check("EnableMFADevice", slices.Equal(r.DevicesAfterEnable, []string{u.serial, serial}), r.DevicesAfterEnable)
	check("DeactivateMFADevice", slices.Equal(r.DevicesAfterDeactivate, []string{u.serial}), r.DevicesAfterDeactivate)
	check("SimulateCustomPolicy", slices.Equal(r.CustomDecisions, []string{"s3:GetObject:allowed", "s3:PutObject:implicitDeny"}), r.CustomDecisions)
	check("SimulatePrincipalPolicy", slices.Equal(r.PrincipalDecisions, []string{"iam:ListAccessKeys:allowed", "iam:CreateUser:implicitDeny"}), r.PrincipalDecisions)
}
