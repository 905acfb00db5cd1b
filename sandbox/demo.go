package sandbox

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// The demo's accounts.
const (
	DevAccount  = "111111111111"
	ProdAccount = "222222222222"
)

// DemoState makes the demo's world with keys and a seed from crypto/rand:
//
//   - dev account 111111111111 with IAM user alice, one access key, a
//     virtual MFA device arn:aws:iam::111111111111:mfa/alice enabled for
//     her, and a policy that lets her assume roles in prod, use
//     GetFederationToken, decode authorization messages and manage her
//     own keys and MFA devices;
//   - prod account 222222222222 with role Admin (every action), which
//     trusts the dev account only with MFA (aws:MultiFactorAuthPresent),
//     and role ReadOnly (reads and GetCallerIdentity), which trusts the
//     dev account without MFA.
func DemoState() (*State, error) { return demoState(rand.Reader, time.Now()) }

func demoState(r io.Reader, now time.Time) (*State, error) {
	now = now.UTC().Truncate(time.Second)
	st := &State{SealKey: make([]byte, 32)}
	if _, err := io.ReadFull(r, st.SealKey); err != nil {
		return nil, err
	}
	st.Accounts = []Account{{ID: DevAccount, Alias: "dev"}, {ID: ProdAccount, Alias: "prod"}}
	keyID, err := newKeyID(r, "AKIA", DevAccount)
	if err != nil {
		return nil, err
	}
	secret, err := newSecret(r)
	if err != nil {
		return nil, err
	}
	seed, err := newSeed(r)
	if err != nil {
		return nil, err
	}
	userID, err := newUniqueID(r, "AIDA")
	if err != nil {
		return nil, err
	}
	st.Users = []User{{
		Account: DevAccount, Name: "alice", ID: userID, CreateDate: now,
		AccessKeys: []AccessKey{{ID: keyID, Secret: secret, Status: statusActive, CreateDate: now}},
		Policies:   []NamedPolicy{{Name: "AliceSelfService", Document: json.RawMessage(aliceSelfService)}},
	}}
	st.MFADevices = []MFADevice{{Account: DevAccount, Serial: "arn:aws:iam::" + DevAccount + ":mfa/alice", Seed: seed, User: "alice", EnableDate: &now}}
	for _, r0 := range []struct {
		name, trust, perms string
		maxSession         int
	}{
		{"Admin", trustDevWithMFA, administratorAccess, 0},
		{"ReadOnly", trustDev, readOnlyAccess, 4 * 3600},
	} {
		id, err := newUniqueID(r, "AROA")
		if err != nil {
			return nil, err
		}
		st.Roles = append(st.Roles, Role{
			Account: ProdAccount, Name: r0.name, ID: id, CreateDate: now,
			TrustPolicy:        json.RawMessage(r0.trust),
			Policies:           []NamedPolicy{{Name: r0.name + "Access", Document: json.RawMessage(r0.perms)}},
			MaxSessionDuration: r0.maxSession,
		})
	}
	if _, err := compile(st); err != nil {
		return nil, fmt.Errorf("demo state: %w", err)
	}
	return st, nil
}

const aliceSelfService = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AssumeProdRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/*"},
    {"Sid": "FederatedUsers", "Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "arn:aws:sts::111111111111:federated-user/*"},
    {"Sid": "DecodeAndKeyInfo", "Effect": "Allow", "Action": ["sts:DecodeAuthorizationMessage", "sts:GetAccessKeyInfo"], "Resource": "*"},
    {"Sid": "OwnKeysAndMFA", "Effect": "Allow",
     "Action": ["iam:GetUser", "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey", "iam:ListAccessKeys",
                "iam:GetAccessKeyLastUsed", "iam:EnableMFADevice", "iam:DeactivateMFADevice", "iam:ListMFADevices",
                "iam:SimulatePrincipalPolicy"],
     "Resource": "arn:aws:iam::111111111111:user/${aws:username}"},
    {"Sid": "OwnVirtualMFADevices", "Effect": "Allow", "Action": "iam:CreateVirtualMFADevice", "Resource": "arn:aws:iam::111111111111:mfa/${aws:username}*"},
    {"Sid": "Simulate", "Effect": "Allow", "Action": "iam:SimulateCustomPolicy", "Resource": "*"}
  ]
}`

const trustDevWithMFA = `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole",
                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]
}`

const trustDev = `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]
}`

const administratorAccess = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`

const readOnlyAccess = `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "iam:Get*", "iam:List*"], "Resource": "*"}]
}`

// Summary is what `credbroker sandbox show --json` prints: each user's
// ARN, first access key and first MFA device, and each role's ARN,
// whether its trust policy asks for MFA, and its MaxSessionDuration.
type Summary struct {
	Users []UserSummary `json:"users"`
	Roles []RoleSummary `json:"roles"`
}

// UserSummary is one user of a Summary.
type UserSummary struct {
	ARN             string `json:"arn"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	MFASerial       string `json:"mfaSerial"`
	MFASeed         string `json:"mfaSeed"`
}

// RoleSummary is one role of a Summary.
type RoleSummary struct {
	ARN                string `json:"arn"`
	MFARequired        bool   `json:"mfaRequired"`
	MaxSessionDuration int    `json:"maxSessionDuration"`
}

// Summarize sums up st. A role's trust policy asks for MFA when a caller
// without MFA cannot assume it but the same caller with MFA can, asked
// of the policy engine for a caller of the role's own account and of each
// account a statement names.
func (st *State) Summarize() (Summary, error) {
	ix, err := compile(st)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Users: []UserSummary{}, Roles: []RoleSummary{}}
	for i := range st.Users {
		u := &st.Users[i]
		us := UserSummary{ARN: u.ARN()}
		if len(u.AccessKeys) > 0 {
			us.AccessKeyID, us.SecretAccessKey = u.AccessKeys[0].ID, u.AccessKeys[0].Secret
		}
		if ds := sortedDevices(ix, u); len(ds) > 0 {
			us.MFASerial, us.MFASeed = ds[0].Serial, ds[0].Seed
		}
		sum.Users = append(sum.Users, us)
	}
	for i := range st.Roles {
		r := &st.Roles[i]
		e := ix.roles[r.ARN()]
		sum.Roles = append(sum.Roles, RoleSummary{ARN: r.ARN(), MFARequired: needsMFA(e), MaxSessionDuration: int(r.MaxSession() / time.Second)})
	}
	return sum, nil
}
