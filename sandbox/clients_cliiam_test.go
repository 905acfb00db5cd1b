package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsCLIIAMRound calls every other IAM action with the AWS CLI (aws runs
// one command with the MFA session and returns its parsed JSON output,
// empty for an action without output).
func awsCLIIAMRound(t *testing.T, u clientUser, aws func(args ...string) map[string]any) *iamRound {
	t.Helper()
	str := func(v any, path ...string) string {
		t.Helper()
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("no %s in %v", p, v)
			}
			v = m[p]
		}
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s is %v, not a string", strings.Join(path, "."), v)
		}
		return s
	}
	keys := func() []string {
		var ks []string
		for _, k := range aws("iam", "list-access-keys")["AccessKeyMetadata"].([]any) {
			ks = append(ks, str(k, "AccessKeyId")+":"+str(k, "Status"))
		}
		return ks
	}
	devices := func() []string {
		var ds []string
		for _, d := range aws("iam", "list-mfa-devices")["MFADevices"].([]any) {
			ds = append(ds, str(d, "SerialNumber"))
		}
		return ds
	}
	r := &iamRound{}
	created := aws("iam", "create-access-key")
	r.CreatedKey, r.CreatedSecretLength = str(created, "AccessKey", "AccessKeyId"), len(str(created, "AccessKey", "SecretAccessKey"))
	r.KeysAfterCreate = keys()
	aws("iam", "update-access-key", "--access-key-id", r.CreatedKey, "--status", "Inactive")
	r.KeysAfterUpdate = keys()
	last := aws("iam", "get-access-key-last-used", "--access-key-id", u.keyID)
	r.LastUsed.User = str(last, "UserName")
	r.LastUsed.Service, r.LastUsed.Region = str(last, "AccessKeyLastUsed", "ServiceName"), str(last, "AccessKeyLastUsed", "Region")
	// The CLI prints dates as 2026-11-30T06:40:00+00:00 (v2) or with Z.
	if d, err := time.Parse(time.RFC3339, str(last, "AccessKeyLastUsed", "LastUsedDate")); err == nil {
		r.LastUsed.Date = d.UTC().Format(time.RFC3339)
	}
	aws("iam", "delete-access-key", "--access-key-id", r.CreatedKey)
	r.KeysAfterDelete = keys()

	// The CLI writes the new device's seed to a file, as its users scan it.
	seedFile := filepath.Join(t.TempDir(), "seed")
	device := aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", u.name+"-2", "--outfile", seedFile, "--bootstrap-method", "Base32StringSeed")
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	r.VirtualSerial, r.VirtualSeedLength = str(device, "VirtualMFADevice", "SerialNumber"), len(strings.TrimSpace(string(seed)))
	step := time.Now().Unix() / totpPeriod
	code1, err1 := codeAt(strings.TrimSpace(string(seed)), step-1)
	code2, err2 := codeAt(strings.TrimSpace(string(seed)), step)
	if err1 != nil || err2 != nil {
		t.Fatalf("the seed the CLI wrote makes no codes: %v %v", err1, err2)
	}
	user := u.name
	aws("iam", "enable-mfa-device", "--user-name", user, "--serial-number", r.VirtualSerial, "--authentication-code1", code1, "--authentication-code2", code2)
	r.DevicesAfterEnable = devices()
	aws("iam", "deactivate-mfa-device", "--user-name", user, "--serial-number", r.VirtualSerial)
	r.DevicesAfterDeactivate = devices()

	decisions := func(v map[string]any) []string {
		var ds []string
		for _, e := range v["EvaluationResults"].([]any) {
			ds = append(ds, fmt.Sprintf("%s:%s", str(e, "EvalActionName"), str(e, "EvalDecision")))
		}
		return ds
	}
	r.CustomDecisions = decisions(aws("iam", "simulate-custom-policy", "--policy-input-list", federationPolicy, "--action-names", "s3:GetObject", "s3:PutObject"))
	arn := "arn:aws:iam::" + DevAccount + ":user/" + u.name
	r.PrincipalDecisions = decisions(aws("iam", "simulate-principal-policy", "--policy-source-arn", arn,
		"--action-names", "iam:ListAccessKeys", "iam:CreateUser", "--resource-arns", arn))
	return r
}
