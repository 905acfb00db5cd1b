package broker

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/credbroker/credbroker/internal/fakests"
	"github.com/credbroker/credbroker/policy"
	"github.com/credbroker/credbroker/profile"
)

// fidelityConfig adds to the fakes' profiles: long, a role with MFA (from
// base) for 12 h; named, with its own role_session_name; traced, with a
// source identity; again, another role from plain's key.
const fidelityConfig = testConfig + `[profile long]
role_arn = arn:aws:iam::210987654321:role/Long
source_profile = base
duration_seconds = 43200
[profile named]
role_arn = arn:aws:iam::210987654321:role/Direct
source_profile = plain
role_session_name = deploy-bot
[profile traced]
role_arn = arn:aws:iam::210987654321:role/Direct
source_profile = plain
source_identity = alice@example.com
[profile again]
role_arn = arn:aws:iam::210987654321:role/Again
source_profile = plain
`

// fidelityBroker is the harness's fakes and keys with fidelityConfig,
// and codes as the CodeSource (nil: the broker's own, without a seed or a
// terminal).
func fidelityBroker(t *testing.T, h *harness, codes CodeSource) served {
	t.Helper()
	opts := Options{Keys: h.keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return h.sts, nil },
		Now: func() time.Time { return *h.now }}
	if codes != nil {
		opts.Codes = codes
	}
	b, err := newServed(t, parse(t, fidelityConfig), opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDefaultSessionNameIsTheKeysUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sts.ARN = "arn:aws:iam::123456789012:user/division/alice"
	b := fidelityBroker(t, h, h.codes)
	ctx := context.Background()
	if _, err := b.Credentials(ctx, "traced"); err != nil {
		t.Fatal(err)
	}
	calls := h.sts.CallList()
	if h.sts.Ops() != "GetCallerIdentity,AssumeRole" || calls[0].Signer != "AKIAPPPPPPPPPPPPPPPP" {
		t.Fatalf("calls %+v: want GetCallerIdentity with the long-lived key, then AssumeRole", calls)
	}
	// The user's name (not its path) and when: unique per session.
	if want := "alice-1795766400"; calls[1].SessionName != want {
		t.Errorf("RoleSessionName = %q, want %q", calls[1].SessionName, want)
	}
	// Another role from the same key a minute later: its own name, and no
	// second GetCallerIdentity.
	*h.now = h.now.Add(time.Minute)
	h.sts.Reset()
	if _, err := b.Credentials(ctx, "again"); err != nil {
		t.Fatal(err)
	}
	if calls := h.sts.CallList(); h.sts.Ops() != "AssumeRole" || calls[0].SessionName != "alice-1795766460" {
		t.Errorf("second role: %+v", calls)
	}
	// role_session_name wins, and then nobody asks who the key is.
	h.sts.Reset()
	if _, err := b.Credentials(ctx, "named"); err != nil {
		t.Fatal(err)
	}
	if calls := h.sts.CallList(); h.sts.Ops() != "AssumeRole" || calls[0].SessionName != "deploy-bot" {
		t.Errorf("role_session_name: %+v", calls)
	}
}

func TestSessionNameFor(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	for _, tc := range []struct{ user, want string }{
		{"alice", "alice-1764470000"},
		{"a", "a-1764470000"},
		{"first.last@example.com", "first.last@example.com-1764470000"},
		{strings.Repeat("u", 64), strings.Repeat("u", 53) + "-1764470000"},
		{"not a name/", "not_a_name_-1764470000"},
		{"", "credbroker-1764470000"},
	} {
		got := sessionNameFor(tc.user, 1764470000)
		if got != tc.want || !valid.MatchString(got) {
			t.Errorf("sessionNameFor(%q) = %q, want %q (valid: %v)", tc.user, got, tc.want, valid.MatchString(got))
		}
	}
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:user/alice":             "alice",
		"arn:aws:iam::123456789012:user/division/ops/bob":  "bob",
		"arn:aws-cn:iam::123456789012:user/carol":          "carol",
		"arn:aws:iam::123456789012:root":                   "root",
		"not an arn":                                       "",
		"arn:aws:sts::123456789012:federated-user/dev-bob": "dev-bob",
	} {
		if got := callerNameOf(arn); got != want {
			t.Errorf("callerNameOf(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestSourceIdentitySentAndPartOfTheChain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := fidelityBroker(t, h, h.codes)
	if _, err := b.Credentials(context.Background(), "traced"); err != nil {
		t.Fatal(err)
	}
	calls := h.sts.CallList()
	if last := calls[len(calls)-1]; last.Op != "AssumeRole" || last.SourceIdentity != "alice@example.com" {
		t.Errorf("AssumeRole = %+v, want SourceIdentity alice@example.com", last)
	}
	// Another source identity is another chain: never the same session.
	other := parse(t, strings.Replace(fidelityConfig, "source_identity = alice@example.com", "source_identity = bob@example.com", 1))
	a, _ := b.r.Resolve("traced")
	o, err := b.Resolver(other, nil).Resolve("traced")
	if err != nil {
		t.Fatal(err)
	}
	if ChainID(a) == ChainID(o) {
		t.Error("ChainID does not change with source_identity")
	}
	// And the cache does not hand out the other one's session.
	h.sts.Reset()
	ob, err := newServed(t, other, Options{Keys: h.keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return h.sts, nil }, Codes: h.codes,
		Now: func() time.Time { return *h.now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Credentials(context.Background(), "traced"); err != nil {
		t.Fatal(err)
	}
	if calls := h.sts.CallList(); len(calls) == 0 || calls[len(calls)-1].SourceIdentity != "bob@example.com" {
		t.Errorf("changed source_identity: calls %+v, want a new AssumeRole with it", calls)
	}
}

// TestMFARoleOverAnHourInOneCall: a role with mfa_serial and more than an
// hour gets one AssumeRole with the code and its full duration (as the
// AWS CLI sends it); a shorter one keeps the shared MFA session.
func TestMFARoleOverAnHourInOneCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := fidelityBroker(t, h, h.codes)
	ctx := context.Background()
	creds, err := b.Credentials(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	calls := h.sts.CallList()
	if h.sts.Ops() != "GetCallerIdentity,AssumeRole" {
		t.Fatalf("calls = %s, want no GetSessionToken", h.sts.Ops())
	}
	ar := calls[1]
	if ar.Code != "000001" || ar.Serial != "arn:aws:iam::123456789012:mfa/alice" || ar.Duration != 43200 || ar.Signer != "AKIABBBBBBBBBBBBBBBB" || ar.Attempts != 1 {
		t.Errorf("AssumeRole = %+v: want the code, the device, 12 h, the long-lived key and no retry", ar)
	}
	if !creds.Expires.Equal(h.now.Add(12 * time.Hour)) {
		t.Errorf("expires %s, want 12 h on", creds.Expires)
	}
	// Cached: no call, no code.
	h.sts.Reset()
	if _, err := b.Credentials(ctx, "long"); err != nil || h.sts.Ops() != "" || h.codes.N() != 1 {
		t.Fatalf("again: %v, calls %s, codes %d", err, h.sts.Ops(), h.codes.N())
	}
	// prod (an hour) still goes through the MFA session, with a code of
	// its own.
	if _, err := b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if calls := h.sts.CallList(); h.sts.Ops() != "GetSessionToken,AssumeRole" || calls[1].Code != "" || calls[1].Duration != 3600 {
		t.Errorf("prod: %+v", calls)
	}
}

// TestMFARoleOverAnHourWithAHumansCode: without a seed, the step asks for
// a code (mfa_required, before any STS call); the code a human submits goes
// with that AssumeRole once; a refusal is said as such and not retried;
// and refresh-ahead does not renew it (that would need another code).
func TestMFARoleOverAnHourWithAHumansCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := fidelityBroker(t, h, nil)
	ctx := context.Background()
	_, err := b.Fetch(ctx, "long", FetchOptions{})
	if !errors.Is(err, ErrMFARequired) || ClassOf(err).Code.WantsCode() != true || h.sts.Ops() != "" {
		t.Fatalf("without a code: err %v, calls %s: want mfa_required and no STS call", err, h.sts.Ops())
	}
	h.sts.SetFail(func(c fakests.Call) error {
		if c.Op == "AssumeRole" && c.Code == "111111" {
			return apiError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
		}
		return nil
	})
	_, err = b.Fetch(ctx, "long", FetchOptions{MFACode: "111111"})
	if !errors.Is(err, ErrMFARefused) || strings.Count(h.sts.Ops(), "AssumeRole") != 1 {
		t.Fatalf("refused code: err %v, calls %s", err, h.sts.Ops())
	}
	h.sts.Reset()
	res, err := b.Fetch(ctx, "long", FetchOptions{MFACode: "424242"})
	if err != nil {
		t.Fatal(err)
	}
	if calls := h.sts.CallList(); h.sts.Ops() != "AssumeRole" || calls[0].Code != "424242" || calls[0].Duration != 43200 {
		t.Fatalf("with a code: %+v", calls)
	}
	// In the renewal window, a refresh-ahead keeps the session it has.
	*h.now = res.RenewAt(1).Add(time.Minute)
	if !res.DueAt(*h.now) || !res.FreshAt(*h.now) {
		t.Fatal("the test's clock is not in the renewal window")
	}
	h.sts.Reset()
	again, err := b.Fetch(ctx, "long", FetchOptions{Renew: true})
	if err != nil || again.AccessKeyID != res.AccessKeyID || h.sts.Ops() != "" {
		t.Fatalf("renew without a human: %v, calls %s", err, h.sts.Ops())
	}
}

// TestSessionNameMeetsAUsernameCondition: the default name meets a trust
// policy that asks for the caller's own user name as the session name's
// start (StringLike "${aws:username}-*"), checked by the policy engine the
// sandbox uses; another user's name does not.
func TestSessionNameMeetsAUsernameCondition(t *testing.T) {
	t.Parallel()
	trust, err := policy.Parse("trust", []byte(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole",
  "Condition": {"StringLike": {"sts:RoleSessionName": "${aws:username}-*"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	alice, err := policy.ParsePrincipal("arn:aws:iam::111111111111:user/alice")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]policy.Decision{
		sessionNameFor(callerNameOf("arn:aws:iam::111111111111:user/alice"), 1764470000): policy.Allowed,
		sessionNameFor("bob", 1764470000):                                                policy.ImplicitDeny,
	} {
		res := policy.CanAssume(trust, policy.AssumeRoleRequest{Principal: alice, RoleARN: "arn:aws:iam::222222222222:role/Admin", RoleSessionName: name})
		if res.Decision != want {
			t.Errorf("session %s: %v (%s), want %v", name, res.Decision, res.Reason, want)
		}
	}
}
