package sandbox

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestIAMAccessKeys(t *testing.T) {
	w := newWorld(t, addTestRoles)
	iam := func(c creds, params ...string) answer {
		p := map[string]string{}
		for i := 0; i+1 < len(params); i += 2 {
			p[params[i]] = params[i+1]
		}
		return w.call(c, "iam", p)
	}
	var user struct {
		Arn  string `xml:"User>Arn"`
		Name string `xml:"User>UserName"`
		ID   string `xml:"User>UserId"`
		Path string `xml:"User>Path"`
	}
	w.ok(iam(w.alice, "Action", "GetUser"), &user)
	if user.Arn != "arn:aws:iam::111111111111:user/alice" || user.Name != "alice" || user.Path != "/" || !strings.HasPrefix(user.ID, "AIDA") {
		t.Fatalf("GetUser: %+v", user)
	}
	w.refused(iam(w.alice, "Action", "GetUser", "UserName", "carol"), http.StatusForbidden, "AccessDenied",
		"User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:GetUser on resource: arn:aws:iam::111111111111:user/carol because no identity-based policy allows the iam:GetUser action")
	w.refused(iam(bobKey, "Action", "GetUser", "UserName", "carol"), http.StatusNotFound, "NoSuchEntity", "The user with name carol cannot be found.")

	// Never used: N/A; used (by the GetUser above): iam, us-east-1.
	var last struct {
		User    string `xml:"UserName"`
		Service string `xml:"AccessKeyLastUsed>ServiceName"`
		Region  string `xml:"AccessKeyLastUsed>Region"`
		Date    string `xml:"AccessKeyLastUsed>LastUsedDate"`
	}
	w.ok(iam(w.alice, "Action", "GetAccessKeyLastUsed", "AccessKeyId", w.alice.id), &last)
	if last.User != "alice" || last.Service != "iam" || last.Region != "us-east-1" || last.Date != "2026-11-27T10:00:15Z" {
		t.Errorf("last used %+v", last)
	}

	// A second key, then the quota.
	var created struct {
		ID     string `xml:"AccessKey>AccessKeyId"`
		Secret string `xml:"AccessKey>SecretAccessKey"`
		Status string `xml:"AccessKey>Status"`
	}
	w.ok(iam(w.alice, "Action", "CreateAccessKey"), &created)
	if !strings.HasPrefix(created.ID, "AKIA") || len(created.ID) != 20 || len(created.Secret) != 40 || created.Status != "Active" {
		t.Fatalf("CreateAccessKey: %+v", created)
	}
	second := creds{id: created.ID, secret: created.Secret}
	if w.whoami(second).Arn != user.Arn {
		t.Error("the new key is not alice's")
	}
	w.ok(iam(second, "Action", "GetAccessKeyLastUsed", "AccessKeyId", created.ID), &last)
	w.refused(iam(w.alice, "Action", "CreateAccessKey"), http.StatusConflict, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
	var list struct {
		Keys []struct {
			ID     string `xml:"AccessKeyId"`
			Status string `xml:"Status"`
			User   string `xml:"UserName"`
		} `xml:"AccessKeyMetadata>member"`
		Truncated string `xml:"IsTruncated"`
	}
	w.ok(iam(w.alice, "Action", "ListAccessKeys"), &list)
	if len(list.Keys) != 2 || list.Keys[1].ID != created.ID || list.Truncated != "false" {
		t.Fatalf("ListAccessKeys: %+v", list)
	}
	// Deactivate, then delete, the first key: it stops working.
	w.okNoResult(iam(second, "Action", "UpdateAccessKey", "AccessKeyId", w.alice.id, "Status", "Inactive"))
	w.refused(iam(w.alice, "Action", "GetUser"), http.StatusForbidden, "InvalidClientTokenId", msgInvalidToken)
	w.refused(iam(second, "Action", "UpdateAccessKey", "AccessKeyId", w.alice.id, "Status", "Off"), http.StatusBadRequest, "ValidationError",
		"1 validation error detected: Value 'Off' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
	w.okNoResult(iam(second, "Action", "DeleteAccessKey", "AccessKeyId", w.alice.id))
	w.refused(iam(second, "Action", "DeleteAccessKey", "AccessKeyId", w.alice.id), http.StatusNotFound, "NoSuchEntity", "The Access Key with id "+w.alice.id+" cannot be found.")
	list.Keys = nil
	w.ok(iam(second, "Action", "ListAccessKeys"), &list)
	if len(list.Keys) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
	// Alice may not touch bob's keys (another account, and no policy).
	w.refused(iam(second, "Action", "ListAccessKeys", "UserName", "bob"), http.StatusForbidden, "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:ListAccessKeys")
}

func TestIAMSessionRules(t *testing.T) {
	w := newWorld(t, nil)
	get := map[string]string{"Action": "GetUser"}
	// GetSessionToken credentials reach IAM only with MFA.
	plain, _ := w.session(w.alice, map[string]string{"Action": "GetSessionToken"})
	w.refused(w.call(plain, "iam", get), http.StatusForbidden, "InvalidClientTokenId", msgInvalidToken)
	w.ok(w.call(w.mfaSession(), "iam", get), nil)
	// A role session names no user of its own.
	ro, _ := w.session(w.alice, map[string]string{"Action": "AssumeRole", "RoleArn": w.ro, "RoleSessionName": "reader"})
	w.refused(w.call(ro, "iam", get), http.StatusBadRequest, "ValidationError", "Must specify userName when calling with non-User credentials")
	// Signed for STS, sent to IAM.
	a := w.call(w.alice, "sts", map[string]string{"Action": "GetUser", "Version": iamVersion})
	w.refused(a, http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'iam'.")
	if !strings.Contains(a.body, `xmlns="`+iamNamespace+`"`) {
		t.Errorf("an IAM error outside IAM's namespace: %s", a.body)
	}
}

func TestIAMVirtualMFADevice(t *testing.T) {
	w := newWorld(t, nil)
	iam := func(params ...string) answer {
		p := map[string]string{}
		for i := 0; i+1 < len(params); i += 2 {
			p[params[i]] = params[i+1]
		}
		return w.call(w.alice, "iam", p)
	}
	var dev struct {
		Serial string `xml:"VirtualMFADevice>SerialNumber"`
		Seed   string `xml:"VirtualMFADevice>Base32StringSeed"`
	}
	w.ok(iam("Action", "CreateVirtualMFADevice", "VirtualMFADeviceName", "alice-phone"), &dev)
	seed, err := base64.StdEncoding.DecodeString(dev.Seed)
	if err != nil || dev.Serial != "arn:aws:iam::111111111111:mfa/alice-phone" || len(seed) != 32 {
		t.Fatalf("CreateVirtualMFADevice: %+v (%v)", dev, err)
	}
	w.refused(iam("Action", "CreateVirtualMFADevice", "VirtualMFADeviceName", "alice-phone"), http.StatusConflict, "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
	w.refused(iam("Action", "CreateVirtualMFADevice", "VirtualMFADeviceName", "bobs-phone"), http.StatusForbidden, "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:CreateVirtualMFADevice on resource: arn:aws:iam::111111111111:mfa/bobs-phone")

	step := w.clock.Now().Unix() / totpPeriod
	code := func(s int64) string {
		c, err := codeAt(string(seed), s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	enable := func(c1, c2 string) answer {
		return iam("Action", "EnableMFADevice", "UserName", "alice", "SerialNumber", dev.Serial, "AuthenticationCode1", c1, "AuthenticationCode2", c2)
	}
	w.refused(enable(code(step-1), code(step-1)), http.StatusForbidden, "InvalidAuthenticationCode", "Authentication code for device is not valid.")
	w.refused(enable(code(step), code(step-1)), http.StatusForbidden, "InvalidAuthenticationCode", "")
	w.okNoResult(enable(code(step-1), code(step)))
	w.refused(enable(code(step-1), code(step)), http.StatusConflict, "EntityAlreadyExists", "MFA Device is already in use.")

	var list struct {
		Devices []struct {
			Serial string `xml:"SerialNumber"`
			User   string `xml:"UserName"`
			Date   string `xml:"EnableDate"`
		} `xml:"MFADevices>member"`
	}
	w.ok(iam("Action", "ListMFADevices"), &list)
	if len(list.Devices) != 2 || list.Devices[1].Serial != dev.Serial || list.Devices[1].User != "alice" || list.Devices[1].Date != "2026-11-27T10:00:15Z" {
		t.Fatalf("ListMFADevices: %+v", list)
	}
	// The new device makes sessions; its enabling codes are spent.
	gst := func(c string) answer {
		return w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": dev.Serial, "TokenCode": c})
	}
	w.refused(gst(code(step)), http.StatusForbidden, "AccessDenied", msgMFAInvalidCode)
	w.ok(gst(code(step+1)), nil)

	w.okNoResult(iam("Action", "DeactivateMFADevice", "SerialNumber", dev.Serial))
	w.refused(iam("Action", "DeactivateMFADevice", "SerialNumber", dev.Serial), http.StatusNotFound, "NoSuchEntity", "")
	list.Devices = nil
	w.ok(iam("Action", "ListMFADevices"), &list)
	if len(list.Devices) != 1 {
		t.Fatalf("after DeactivateMFADevice: %+v", list)
	}
	w.clock.Add(time.Minute)
	w.refused(gst(code(step+3)), http.StatusForbidden, "AccessDenied", msgMFAUnknownDevice)
}

func TestIAMSimulate(t *testing.T) {
	w := newWorld(t, nil)
	type result struct {
		Results []struct {
			Action   string `xml:"EvalActionName"`
			Resource string `xml:"EvalResourceName"`
			Decision string `xml:"EvalDecision"`
			Matched  []struct {
				ID   string `xml:"SourcePolicyId"`
				Type string `xml:"SourcePolicyType"`
				Line int    `xml:"StartPosition>Line"`
			} `xml:"MatchedStatements>member"`
		} `xml:"EvaluationResults>member"`
	}
	var r result
	w.ok(w.call(w.alice, "iam", map[string]string{
		"Action":                                            "SimulateCustomPolicy",
		"PolicyInputList.member.1":                          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`,
		"ActionNames.member.1":                              "s3:GetObject",
		"ActionNames.member.2":                              "s3:DeleteObject",
		"ActionNames.member.3":                              "s3:PutObject",
		"ResourceArns.member.1":                             "arn:aws:s3:::reports/q3.csv",
		"ContextEntries.member.1.ContextKeyName":            "aws:SecureTransport",
		"ContextEntries.member.1.ContextKeyType":            "boolean",
		"ContextEntries.member.1.ContextKeyValues.member.1": "true",
	}), &r)
	want := []string{"s3:GetObject allowed", "s3:DeleteObject explicitDeny", "s3:PutObject implicitDeny"}
	if len(r.Results) != 3 {
		t.Fatalf("SimulateCustomPolicy: %+v", r)
	}
	for i, res := range r.Results {
		if got := res.Action + " " + res.Decision; got != want[i] || res.Resource != "arn:aws:s3:::reports/q3.csv" {
			t.Errorf("result %d: %s on %s, want %s", i, got, res.Resource, want[i])
		}
	}
	if m := r.Results[0].Matched; len(m) != 1 || m[0].ID != "PolicyInputList.1" || m[0].Type != "IAM Policy" || m[0].Line != 1 {
		t.Errorf("matched statements %+v", m)
	}
	r = result{}
	w.ok(w.call(w.alice, "iam", map[string]string{
		"Action": "SimulatePrincipalPolicy", "PolicySourceArn": "arn:aws:iam::111111111111:user/alice",
		"ActionNames.member.1": "iam:CreateAccessKey", "ActionNames.member.2": "iam:DeleteUser",
		"ResourceArns.member.1": "arn:aws:iam::111111111111:user/alice",
	}), &r)
	if len(r.Results) != 2 || r.Results[0].Decision != "allowed" || r.Results[1].Decision != "implicitDeny" ||
		r.Results[0].Matched[0].ID != "AliceSelfService" || r.Results[0].Matched[0].Type != "user" {
		t.Errorf("SimulatePrincipalPolicy: %+v", r)
	}
	w.refused(w.call(w.alice, "iam", map[string]string{"Action": "SimulatePrincipalPolicy", "PolicySourceArn": "arn:aws:iam::222222222222:role/Admin", "ActionNames.member.1": "s3:GetObject"}),
		http.StatusForbidden, "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:SimulatePrincipalPolicy")
	w.refused(w.call(w.alice, "iam", map[string]string{"Action": "SimulateCustomPolicy", "PolicyInputList.member.1": `{"Statement":[{"Effect":"Maybe"}]}`, "ActionNames.member.1": "s3:GetObject"}),
		http.StatusBadRequest, "InvalidInput", "PolicyInputList.1:")
	w.refused(w.call(w.alice, "iam", map[string]string{"Action": "SimulateCustomPolicy", "ActionNames.member.1": "s3:GetObject"}),
		http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'policyInputList'")
}

// TestKeyIDsCarryTheirAccount: any key id the sandbox makes names its
// account, the way GetAccessKeyInfo reads it.
func TestKeyIDsCarryTheirAccount(t *testing.T) {
	w := newWorld(t, nil)
	for _, acct := range []string{"000000000000", "111111111111", "999999999999", "123456789012"} {
		for range 20 {
			id, err := newKeyID(w.srv.rand(), "ASIA", acct)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := keyIDAccount(id)
			if !ok || got != acct || len(id) != 20 || strings.Trim(id[4:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
				t.Fatalf("key id %s decodes to %s, %v; want %s", id, got, ok, acct)
			}
		}
	}
	if _, err := newKeyID(w.srv.rand(), "AKIA", strconv.Itoa(12)); err == nil {
		t.Error("a key id for account 12")
	}
}
