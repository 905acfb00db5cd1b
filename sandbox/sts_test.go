package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const aliceSerial = "arn:aws:iam::111111111111:mfa/alice"

func TestGetCallerIdentity(t *testing.T) {
	w := newWorld(t, nil)
	id := w.whoami(w.alice)
	if id.Arn != "arn:aws:iam::111111111111:user/alice" || id.Account != DevAccount || !strings.HasPrefix(id.UserID, "AIDA") {
		t.Fatalf("alice is %+v", id)
	}
	// A GetSessionToken session is still the user.
	if got := w.whoami(w.mfaSession()); got != id {
		t.Errorf("session identity %+v, want %+v", got, id)
	}
	ro, r := w.session(w.alice, map[string]string{"Action": "AssumeRole", "RoleArn": w.ro, "RoleSessionName": "reader"})
	got := w.whoami(ro)
	if got.Arn != "arn:aws:sts::222222222222:assumed-role/ReadOnly/reader" || got.Account != ProdAccount ||
		got.UserID != r.RoleID || !strings.HasPrefix(got.UserID, "AROA") || !strings.HasSuffix(got.UserID, ":reader") {
		t.Errorf("role session is %+v (assumed role id %s)", got, r.RoleID)
	}
}

func TestUnsignedAndUnknown(t *testing.T) {
	w := newWorld(t, nil)
	w.refused(w.call(creds{}, "sts", map[string]string{"Action": "GetCallerIdentity"}), http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetCallerIdentitty"}), http.StatusBadRequest, "InvalidAction", "Could not find operation GetCallerIdentitty for version 2011-06-15")
}

func TestGetSessionTokenDurations(t *testing.T) {
	w := newWorld(t, addRootKey)
	for _, tc := range []struct {
		name     string
		who      creds
		duration string
		want     time.Duration
		msg      string
	}{
		{"default is 12 hours", w.alice, "", 12 * time.Hour, ""},
		{"shortest", w.alice, "900", 15 * time.Minute, ""},
		{"longest", w.alice, "129600", 36 * time.Hour, ""},
		{"too short", w.alice, "899", 0, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"too long", w.alice, "129601", 0, "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600"},
		{"root: an hour by default", rootKey, "", time.Hour, ""},
		{"root: an hour at most", rootKey, "7200", time.Hour, ""},
		{"root: less is fine", rootKey, "900", 15 * time.Minute, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			params := map[string]string{"Action": "GetSessionToken"}
			if tc.duration != "" {
				params["DurationSeconds"] = tc.duration
			}
			a := w.call(tc.who, "sts", params)
			if tc.msg != "" {
				w.refused(a, http.StatusBadRequest, "ValidationError", tc.msg)
				return
			}
			var r credsResult
			w.ok(a, &r)
			exp, err := time.Parse(time.RFC3339, r.Creds.Expiration)
			if err != nil || !exp.Equal(w.clock.Now().Add(tc.want)) || !strings.HasPrefix(r.Creds.ID, "ASIA") || len(r.Creds.Secret) != 40 {
				t.Fatalf("credentials %+v; want %s from now", r.Creds, tc.want)
			}
		})
	}
	w.t = t
	// Only a long-lived key may call it.
	w.refused(w.call(w.mfaSession(), "sts", map[string]string{"Action": "GetSessionToken"}), http.StatusForbidden, "AccessDenied", "Cannot call GetSessionToken with session credentials")
}

// rootKey is the dev account's root key addRootKey adds.
var rootKey = creds{id: "AKIAAAAAAAAAAAAAAAAA", secret: strings.Repeat("r", 40)}

func addRootKey(st *State) {
	st.Accounts[0].RootAccessKeys = []AccessKey{{ID: rootKey.id, Secret: rootKey.secret, Status: statusActive, CreateDate: testStart}}
}

func TestGetSessionTokenMFA(t *testing.T) {
	w := newWorld(t, nil)
	mfa := func(serial, code string) answer {
		return w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": code})
	}
	// The previous step's code is accepted (clock drift)...
	w.ok(mfa(aliceSerial, w.code(-1)), nil)
	// ...and never again.
	w.refused(mfa(aliceSerial, w.code(-1)), http.StatusForbidden, "AccessDenied", msgMFAInvalidCode)
	// Nor an older step once a newer one was used.
	w.ok(mfa(aliceSerial, w.code(0)), nil)
	w.refused(mfa(aliceSerial, w.code(0)), http.StatusForbidden, "AccessDenied", msgMFAInvalidCode)
	w.clock.Add(30 * time.Second)
	w.refused(mfa(aliceSerial, w.code(-2)), http.StatusForbidden, "AccessDenied", msgMFAInvalidCode)
	// A wrong code.
	wrong := "000000"
	if w.code(0) == wrong || w.code(1) == wrong || w.code(-1) == wrong {
		wrong = "111111"
	}
	w.refused(mfa(aliceSerial, wrong), http.StatusForbidden, "AccessDenied", msgMFAInvalidCode)
	// Two steps ahead is too far.
	w.refused(mfa(aliceSerial, w.code(2)), http.StatusForbidden, "AccessDenied", msgMFAInvalidCode)
	// Another user's device, a device nobody has, half the pair.
	w.refused(mfa("arn:aws:iam::111111111111:mfa/bob", w.code(0)), http.StatusForbidden, "AccessDenied", msgMFAUnknownDevice)
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": aliceSerial}), http.StatusForbidden, "AccessDenied", msgMFAIncomplete)
	w.refused(mfa(aliceSerial, "12345"), http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '12345' at 'tokenCode' failed to satisfy constraint: Member must have length greater than or equal to 6")
	w.refused(mfa(aliceSerial, "12345a"), http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '12345a' at 'tokenCode'")
	// The next step's code still works: refusals did not use it.
	w.ok(mfa(aliceSerial, w.code(1)), nil)
}

// TestMFACodeOnceUnderConcurrency: many requests with one code at once,
// exactly one session. It fails if checking and recording the step are
// not one change (useMFA's update).
func TestMFACodeOnceUnderConcurrency(t *testing.T) {
	w := newWorld(t, nil)
	code := w.code(0)
	const n = 16
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": aliceSerial, "TokenCode": code}).status
		}()
	}
	wg.Wait()
	close(statuses)
	granted := 0
	for s := range statuses {
		if s == http.StatusOK {
			granted++
		}
	}
	if granted != 1 {
		t.Fatalf("%d of %d requests with the same code got a session, want 1", granted, n)
	}
}

func TestTemporaryCredentialChecks(t *testing.T) {
	w := newWorld(t, nil)
	s1, _ := w.session(w.alice, map[string]string{"Action": "GetSessionToken", "DurationSeconds": "900"})
	s2, _ := w.session(w.alice, map[string]string{"Action": "GetSessionToken", "DurationSeconds": "3600"})
	gci := map[string]string{"Action": "GetCallerIdentity"}
	w.ok(w.call(s1, "sts", gci), nil)
	for _, tc := range []struct {
		name string
		c    creds
	}{
		{"a token used with other keys", creds{s2.id, s2.secret, s1.token}},
		{"a temporary key without its token", creds{s1.id, s1.secret, ""}},
		{"a long-lived key with a token", creds{w.alice.id, w.alice.secret, s1.token}},
		{"a token altered", creds{s1.id, s1.secret, s1.token[:40] + flip(s1.token[40:41]) + s1.token[41:]}},
		{"a key nobody issued", creds{"AKIAZZZZZZZZZZZZZZZZ", w.alice.secret, ""}},
		{"a temporary key nobody issued", creds{"ASIAZZZZZZZZZZZZZZZZ", s1.secret, s1.token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.refused(w.call(tc.c, "sts", gci), http.StatusForbidden, "InvalidClientTokenId", msgInvalidToken)
		})
	}
	w.t = t
	// The right key with the wrong secret is a bad signature.
	w.refused(w.call(creds{s1.id, s2.secret, s1.token}, "sts", gci), http.StatusForbidden, "SignatureDoesNotMatch", msgSignatureMismatch)
	// Expiry: s1 lives 15 minutes.
	w.clock.Add(15 * time.Minute)
	w.refused(w.call(s1, "sts", gci), http.StatusForbidden, "ExpiredToken", msgExpiredToken)
	w.ok(w.call(s2, "sts", gci), nil)
}

func flip(s string) string {
	if s == "A" {
		return "B"
	}
	return "A"
}

func TestAssumeRole(t *testing.T) {
	w := newWorld(t, addTestRoles)
	assume := func(c creds, role string, extra ...string) answer {
		p := map[string]string{"Action": "AssumeRole", "RoleArn": role, "RoleSessionName": "alice-session"}
		for i := 0; i+1 < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return w.call(c, "sts", p)
	}
	notAuthorized := "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: "
	// Admin needs MFA: not with the bare key...
	w.refused(assume(w.alice, w.admin), http.StatusForbidden, "AccessDenied", notAuthorized+w.admin+". Encoded authorization failure message: ")
	// ...but with an MFA session, or a code in the call itself.
	admin, r := w.session(w.mfaSession(), map[string]string{"Action": "AssumeRole", "RoleArn": w.admin, "RoleSessionName": "alice-session"})
	if r.Arn != "arn:aws:sts::222222222222:assumed-role/Admin/alice-session" || w.whoami(admin).Arn != r.Arn {
		t.Fatalf("assumed %s", r.Arn)
	}
	w.clock.Add(30 * time.Second)
	w.ok(assume(w.alice, w.admin, "SerialNumber", aliceSerial, "TokenCode", w.code(0)), nil)
	// ReadOnly trusts the dev account without MFA.
	w.ok(assume(w.alice, w.ro), nil)
	// A role nobody made looks like a refusal, as STS answers.
	w.refused(assume(w.alice, "arn:aws:iam::222222222222:role/Nope"), http.StatusForbidden, "AccessDenied", notAuthorized+"arn:aws:iam::222222222222:role/Nope")

	// A principal the trust policy does not allow: bob, in prod, for a
	// role that trusts dev only; and the root user for any role.
	w.refused(assume(bobKey, w.ro), http.StatusForbidden, "AccessDenied", "User: arn:aws:iam::222222222222:user/bob is not authorized to perform: sts:AssumeRole on resource: "+w.ro)
	w.refused(assume(rootKey, w.ro), http.StatusForbidden, "AccessDenied", "Roles may not be assumed by root accounts.")

	// sts:ExternalId: missing, wrong, right.
	w.refused(assume(w.alice, partnerRole), http.StatusForbidden, "AccessDenied", notAuthorized+partnerRole)
	w.refused(assume(w.alice, partnerRole, "ExternalId", "not-it"), http.StatusForbidden, "AccessDenied", notAuthorized+partnerRole)
	w.ok(assume(w.alice, partnerRole, "ExternalId", "partner-7"), nil)
	w.refused(assume(w.alice, partnerRole, "ExternalId", "x"), http.StatusBadRequest, "ValidationError", "1 validation error detected: Value 'x' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2")

	// Durations: 900 s to MaxSessionDuration (ReadOnly: 4 h).
	w.ok(assume(w.alice, w.ro, "DurationSeconds", "14400"), nil)
	w.refused(assume(w.alice, w.ro, "DurationSeconds", "14401"), http.StatusBadRequest, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	w.refused(assume(w.alice, w.ro, "DurationSeconds", "899"), http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
	w.refused(assume(w.alice, w.ro, "DurationSeconds", "43201"), http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200")
	w.refused(assume(w.alice, w.ro, "RoleSessionName", "a b"), http.StatusBadRequest, "ValidationError", `1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`)

	// Role chaining: at most an hour, and one hour by default.
	_, chain := w.session(admin, map[string]string{"Action": "AssumeRole", "RoleArn": chainRole, "RoleSessionName": "chained"})
	if exp, _ := time.Parse(time.RFC3339, chain.Creds.Expiration); !exp.Equal(w.clock.Now().Add(time.Hour)) {
		t.Errorf("chained session expires %s, want in an hour", chain.Creds.Expiration)
	}
	w.refused(assume(admin, chainRole, "DurationSeconds", "3601"), http.StatusBadRequest, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	w.ok(assume(w.alice, chainRole, "DurationSeconds", "7200"), nil) // not chaining: up to its 12 h

	// A source identity, once set, goes with the sessions chained from
	// it and cannot be changed.
	w.clock.Add(30 * time.Second) // the next MFA code
	withSI, _ := w.session(w.mfaSession(), map[string]string{"Action": "AssumeRole", "RoleArn": w.admin, "RoleSessionName": "si", "SourceIdentity": "alice"})
	var chainedSI struct {
		SourceIdentity string `xml:"SourceIdentity"`
	}
	w.ok(assume(withSI, chainRole), &chainedSI)
	if chainedSI.SourceIdentity != "alice" {
		t.Errorf("a session chained from one with source identity alice has %q", chainedSI.SourceIdentity)
	}
	w.ok(assume(withSI, chainRole, "SourceIdentity", "alice"), nil)
	w.refused(assume(withSI, chainRole, "SourceIdentity", "mallory"), http.StatusForbidden, "AccessDenied", "The source identity of a role session cannot be changed")
}

// TestMFAAge: a trust policy that wants MFA used within 5 minutes lets a
// fresh MFA session in, and the same session 10 minutes later not.
func TestMFAAge(t *testing.T) {
	w := newWorld(t, addTestRoles)
	s := w.mfaSession()
	p := map[string]string{"Action": "AssumeRole", "RoleArn": freshMFARole, "RoleSessionName": "fresh"}
	w.ok(w.call(s, "sts", p), nil)
	w.clock.Add(10 * time.Minute)
	w.refused(w.call(s, "sts", p), http.StatusForbidden, "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized")
	// A role session made with MFA carries it on (and its age).
	admin, _ := w.session(w.mfaSession(), map[string]string{"Action": "AssumeRole", "RoleArn": w.admin, "RoleSessionName": "a1"})
	p["RoleSessionName"] = "chained"
	w.ok(w.call(admin, "sts", p), nil)
	w.clock.Add(5 * time.Minute)
	w.refused(w.call(admin, "sts", p), http.StatusForbidden, "AccessDenied", "User: arn:aws:sts::222222222222:assumed-role/Admin/a1 is not authorized")
}

func TestDecodeAuthorizationMessage(t *testing.T) {
	w := newWorld(t, nil)
	a := w.call(w.alice, "sts", map[string]string{"Action": "AssumeRole", "RoleArn": w.admin, "RoleSessionName": "nomfa"})
	_, enc, ok := strings.Cut(a.err.Message, "Encoded authorization failure message: ")
	if !ok {
		t.Fatalf("no encoded message in %q", a.err.Message)
	}
	var r struct {
		DecodedMessage string `xml:"DecodedMessage"`
	}
	w.ok(w.call(w.alice, "sts", map[string]string{"Action": "DecodeAuthorizationMessage", "EncodedMessage": enc}), &r)
	var m struct {
		Allowed      bool `json:"allowed"`
		ExplicitDeny bool `json:"explicitDeny"`
		Context      struct {
			Principal  struct{ Arn string } `json:"principal"`
			Action     string               `json:"action"`
			Resource   string               `json:"resource"`
			Conditions struct {
				Items []struct {
					Key    string `json:"key"`
					Values struct {
						Items []struct{ Value string } `json:"items"`
					} `json:"values"`
				} `json:"items"`
			} `json:"conditions"`
		} `json:"context"`
	}
	if err := json.Unmarshal([]byte(r.DecodedMessage), &m); err != nil {
		t.Fatal(err)
	}
	if m.Allowed || m.ExplicitDeny || m.Context.Action != "sts:AssumeRole" || m.Context.Resource != w.admin || m.Context.Principal.Arn != "arn:aws:iam::111111111111:user/alice" {
		t.Errorf("decoded %s", r.DecodedMessage)
	}
	for _, c := range m.Context.Conditions.Items {
		if c.Key == "aws:MultiFactorAuthPresent" {
			t.Errorf("a long-lived key's request has aws:MultiFactorAuthPresent: %s", r.DecodedMessage)
		}
	}
	// Altered, or decoded by a caller without the permission. One bit of
	// the sealed bytes is flipped (changing the last characters of the
	// text could leave the bytes as they were: base64's last character
	// carries bits the decoder ignores).
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("the encoded message is not base64url: %v", err)
	}
	raw[len(raw)/2] ^= 1
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "DecodeAuthorizationMessage", "EncodedMessage": base64.RawURLEncoding.EncodeToString(raw)}),
		http.StatusBadRequest, "InvalidAuthorizationMessageException", "")
	ro, _ := w.session(w.alice, map[string]string{"Action": "AssumeRole", "RoleArn": w.ro, "RoleSessionName": "reader"})
	w.refused(w.call(ro, "sts", map[string]string{"Action": "DecodeAuthorizationMessage", "EncodedMessage": enc}), http.StatusForbidden, "AccessDenied",
		"User: arn:aws:sts::222222222222:assumed-role/ReadOnly/reader is not authorized to perform: sts:DecodeAuthorizationMessage on resource: * because no identity-based policy allows the sts:DecodeAuthorizationMessage action")
}

func TestGetFederationToken(t *testing.T) {
	w := newWorld(t, nil)
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	var r struct {
		credsResult
		ID   string `xml:"FederatedUser>FederatedUserId"`
		Arn  string `xml:"FederatedUser>Arn"`
		Size int    `xml:"PackedPolicySize"`
	}
	w.ok(w.call(w.alice, "sts", map[string]string{"Action": "GetFederationToken", "Name": "partner", "Policy": pol, "DurationSeconds": "3600"}), &r)
	if r.ID != "111111111111:partner" || r.Arn != "arn:aws:sts::111111111111:federated-user/partner" || r.Size < 1 {
		t.Fatalf("federated user %+v", r)
	}
	fed := r.creds()
	if got := w.whoami(fed); got.Arn != r.Arn || got.UserID != r.ID {
		t.Errorf("federated identity %+v", got)
	}
	w.refused(w.call(fed, "sts", map[string]string{"Action": "AssumeRole", "RoleArn": w.ro, "RoleSessionName": "x1"}), http.StatusForbidden, "AccessDenied", "Cannot call AssumeRole with session credentials")
	w.refused(w.call(fed, "sts", map[string]string{"Action": "GetFederationToken", "Name": "again"}), http.StatusForbidden, "AccessDenied", "Cannot call GetFederationToken with session credentials")
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetFederationToken", "Name": "x"}), http.StatusBadRequest, "ValidationError", "1 validation error detected: Value 'x' at 'name'")
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetFederationToken", "Name": "partner", "Policy": `{"Statement":`}), http.StatusBadRequest, "MalformedPolicyDocument", "")
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetFederationToken", "Name": "partner", "Policy": strings.Repeat(" ", 2049)}), http.StatusBadRequest, "ValidationError", "")
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetFederationToken", "Name": "partner", "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
		http.StatusBadRequest, "ValidationError", "PolicyArns (managed session policies) are not supported by the sandbox")
}

func TestGetAccessKeyInfo(t *testing.T) {
	w := newWorld(t, nil)
	info := func(c creds, id string) answer {
		return w.call(c, "sts", map[string]string{"Action": "GetAccessKeyInfo", "AccessKeyId": id})
	}
	ro, _ := w.session(w.alice, map[string]string{"Action": "AssumeRole", "RoleArn": w.ro, "RoleSessionName": "reader"})
	for _, tc := range []struct{ id, account string }{{w.alice.id, DevAccount}, {ro.id, ProdAccount}} {
		var r struct {
			Account string `xml:"Account"`
		}
		w.ok(info(w.alice, tc.id), &r)
		if r.Account != tc.account {
			t.Errorf("GetAccessKeyInfo(%s) = %s, want %s", tc.id, r.Account, tc.account)
		}
	}
	w.refused(info(ro, w.alice.id), http.StatusForbidden, "AccessDenied", "User: arn:aws:sts::222222222222:assumed-role/ReadOnly/reader is not authorized to perform: sts:GetAccessKeyInfo")
	w.refused(info(w.alice, "short"), http.StatusBadRequest, "ValidationError", "1 validation error detected: Value 'short' at 'accessKeyId'")
	// A GetSessionToken session calls no STS operation but AssumeRole and GetCallerIdentity.
	w.refused(info(w.mfaSession(), w.alice.id), http.StatusForbidden, "AccessDenied", "Cannot call GetAccessKeyInfo with session credentials")
}

// Roles and users some tests add to the demo state.
const (
	partnerRole  = "arn:aws:iam::222222222222:role/Partner"
	chainRole    = "arn:aws:iam::222222222222:role/Chained"
	freshMFARole = "arn:aws:iam::222222222222:role/FreshMFA"
)

var bobKey = creds{id: "AKIABBBBBBBBBBBBBBBB", secret: strings.Repeat("b", 40)}

func addTestRoles(st *State) {
	addRootKey(st)
	trust := func(cond string) json.RawMessage {
		return json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root","arn:aws:iam::222222222222:role/Admin"]},"Action":"sts:AssumeRole"` + cond + `}]}`)
	}
	st.Roles = append(st.Roles,
		Role{Account: ProdAccount, Name: "Partner", ID: "AROAPARTNER000000000", TrustPolicy: trust(`,"Condition":{"StringEquals":{"sts:ExternalId":"partner-7"}}`)},
		Role{Account: ProdAccount, Name: "Chained", ID: "AROACHAINED000000000", TrustPolicy: trust(""), MaxSessionDuration: 43200},
		Role{Account: ProdAccount, Name: "FreshMFA", ID: "AROAFRESHMFA00000000", TrustPolicy: trust(`,"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"300"}}`)},
	)
	st.Users = append(st.Users, User{Account: ProdAccount, Name: "bob", ID: "AIDABOB0000000000000", CreateDate: testStart,
		AccessKeys: []AccessKey{{ID: bobKey.id, Secret: bobKey.secret, Status: statusActive, CreateDate: testStart}},
		Policies:   []NamedPolicy{{Name: "all", Document: json.RawMessage(administratorAccess)}}})
}
