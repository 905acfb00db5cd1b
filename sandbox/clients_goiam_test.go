package sandbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// runGoSDKIAM is the AWS SDK for Go's IAM client over the network, with
// the MFA session c (GetSessionToken credentials reach IAM only with MFA):
// every IAM action the sandbox answers, as the other clients call them.
func runGoSDKIAM(t *testing.T, fx *clientFixture, u clientUser, c creds) *iamResult {
	t.Helper()
	ctx := context.Background()
	client := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(fx.url), RetryMaxAttempts: 1, Credentials: staticCreds(c)})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	keys := func() []string {
		t.Helper()
		out, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		must(err)
		var ks []string
		for _, k := range out.AccessKeyMetadata {
			ks = append(ks, *k.AccessKeyId+":"+string(k.Status))
		}
		return ks
	}
	devices := func() []string {
		t.Helper()
		out, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
		must(err)
		var ds []string
		for _, d := range out.MFADevices {
			ds = append(ds, *d.SerialNumber)
		}
		return ds
	}
	user, err := client.GetUser(ctx, &iam.GetUserInput{})
	must(err)
	res := &iamResult{User: *user.User.Arn, MFADevices: devices(), Round: &iamRound{}}
	listed, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	must(err)
	for _, k := range listed.AccessKeyMetadata {
		res.Keys = append(res.Keys, *k.AccessKeyId)
	}
	r := res.Round
	created, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	must(err)
	r.CreatedKey, r.CreatedSecretLength = *created.AccessKey.AccessKeyId, len(*created.AccessKey.SecretAccessKey)
	r.KeysAfterCreate = keys()
	_, err = client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: created.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive})
	must(err)
	r.KeysAfterUpdate = keys()
	last, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(u.keyID)})
	must(err)
	r.LastUsed.User, r.LastUsed.Service, r.LastUsed.Region = *last.UserName, *last.AccessKeyLastUsed.ServiceName, *last.AccessKeyLastUsed.Region
	r.LastUsed.Date = last.AccessKeyLastUsed.LastUsedDate.UTC().Format(time.RFC3339)
	_, err = client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: created.AccessKey.AccessKeyId})
	must(err)
	r.KeysAfterDelete = keys()

	device, err := client.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(u.name + "-2")})
	must(err)
	seed := string(device.VirtualMFADevice.Base32StringSeed)
	r.VirtualSerial, r.VirtualSeedLength = *device.VirtualMFADevice.SerialNumber, len(seed)
	step := time.Now().Unix() / totpPeriod
	code := func(s int64) *string {
		t.Helper()
		c, err := codeAt(seed, s)
		must(err)
		return aws.String(c)
	}
	_, err = client.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: user.User.UserName, SerialNumber: device.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: code(step - 1), AuthenticationCode2: code(step)})
	must(err)
	r.DevicesAfterEnable = devices()
	_, err = client.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: user.User.UserName, SerialNumber: device.VirtualMFADevice.SerialNumber})
	must(err)
	r.DevicesAfterDeactivate = devices()

	decisions := func(results []iamtypes.EvaluationResult) []string {
		var ds []string
		for _, e := range results {
			ds = append(ds, fmt.Sprintf("%s:%s", *e.EvalActionName, e.EvalDecision))
		}
		return ds
	}
	custom, err := client.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{federationPolicy},
		ActionNames: []string{"s3:GetObject", "s3:PutObject"}})
	must(err)
	r.CustomDecisions = decisions(custom.EvaluationResults)
	principal, err := client.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: user.User.Arn,
		ActionNames: []string{"iam:ListAccessKeys", "iam:CreateUser"}, ResourceArns: []string{*user.User.Arn}})
	must(err)
	r.PrincipalDecisions = decisions(principal.EvaluationResults)
	return res
}
