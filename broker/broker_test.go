package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
)

// fakeSTS stands in for STS: it issues numbered credentials, records who
// signed each call, and fails on demand.
type fakeSTS struct {
	mu    sync.Mutex
	now   func() time.Time
	n     int
	calls []fakeCall
	// fail, when set, decides an error for a call.
	fail func(c fakeCall) error
	arn  string
}

type fakeCall struct {
	Op, Signer, Token, Code, Role string
	Duration                      int32
	Attempts                      int
}

func (f *fakeSTS) record(ctx context.Context, c fakeCall, optFns []func(*sts.Options)) (fakeCall, error) {
	var o sts.Options
	for _, fn := range optFns {
		fn(&o)
	}
	creds, err := o.Credentials.Retrieve(ctx)
	if err != nil {
		return c, err
	}
	c.Signer, c.Token, c.Attempts = creds.AccessKeyID, creds.SessionToken, o.RetryMaxAttempts
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	if f.fail != nil {
		if err := f.fail(c); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (f *fakeSTS) issue(d int32) *types.Credentials {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return &types.Credentials{
		AccessKeyId:     aws.String(fmt.Sprintf("ASIAFAKE%012d", f.n)),
		SecretAccessKey: aws.String(fmt.Sprintf("secret-%d", f.n)),
		SessionToken:    aws.String(fmt.Sprintf("token-%d", f.n)),
		Expiration:      aws.Time(f.now().Add(time.Duration(d) * time.Second)),
	}
}

func (f *fakeSTS) GetSessionToken(ctx context.Context, in *sts.GetSessionTokenInput, optFns ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error) {
	if _, err := f.record(ctx, fakeCall{Op: "GetSessionToken", Code: aws.ToString(in.TokenCode), Duration: aws.ToInt32(in.DurationSeconds)}, optFns); err != nil {
		return nil, err
	}
	return &sts.GetSessionTokenOutput{Credentials: f.issue(aws.ToInt32(in.DurationSeconds))}, nil
}

func (f *fakeSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if _, err := f.record(ctx, fakeCall{Op: "AssumeRole", Role: aws.ToString(in.RoleArn), Duration: aws.ToInt32(in.DurationSeconds)}, optFns); err != nil {
		return nil, err
	}
	return &sts.AssumeRoleOutput{Credentials: f.issue(aws.ToInt32(in.DurationSeconds))}, nil
}

func (f *fakeSTS) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if _, err := f.record(ctx, fakeCall{Op: "GetCallerIdentity"}, optFns); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Arn: aws.String(f.arn), Account: aws.String("123456789012")}, nil
}

func (f *fakeSTS) ops() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ops []string
	for _, c := range f.calls {
		ops = append(ops, c.Op)
	}
	return strings.Join(ops, ",")
}

func (f *fakeSTS) reset() {
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
}

// countingCodes counts the MFA codes asked for.
type countingCodes struct {
	mu sync.Mutex
	n  int
}

func (c *countingCodes) Code(context.Context, *RoleChain) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return fmt.Sprintf("%06d", c.n), nil
}

const testConfig = `[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile prod]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = base
[profile plain]
[profile direct]
role_arn = arn:aws:iam::210987654321:role/Direct
duration_seconds = 7200
`

type harness struct {
	b     *Broker
	sts   *fakeSTS
	codes *countingCodes
	keys  *keystore.Store
	now   *time.Time
	warns []string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	h := &harness{keys: keystore.NewMemory(), codes: &countingCodes{}, now: &now}
	h.sts = &fakeSTS{now: func() time.Time { return *h.now }, arn: "arn:aws:iam::123456789012:user/alice"}
	for _, p := range []string{"base", "plain", "direct"} {
		if err := h.keys.PutAccessKey(p, keystore.AccessKey{AccessKeyID: "AKIA" + strings.Repeat(strings.ToUpper(p[:1]), 16), SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := New(Options{
		Config: parse(t, testConfig),
		Keys:   h.keys,
		NewSTS: func(string, Endpoint) STS { return h.sts },
		Codes:  h.codes,
		Warn:   func(s string) { h.warns = append(h.warns, s) },
		Now:    func() time.Time { return *h.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.b = b
	return h
}

func TestMFARoleChainAndCaching(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	creds, err := h.b.Credentials(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.sts.ops(); got != "GetSessionToken,AssumeRole" {
		t.Fatalf("calls = %s", got)
	}
	gst, ar := h.sts.calls[0], h.sts.calls[1]
	if gst.Signer != "AKIABBBBBBBBBBBBBBBB" || gst.Code != "000001" || gst.Duration != 8*3600 || gst.Attempts != 1 {
		t.Errorf("GetSessionToken = %+v: want the long-lived key, the code, 8 h and no retries", gst)
	}
	if ar.Signer != "ASIAFAKE000000000001" || ar.Token != "token-1" || ar.Duration != 3600 || ar.Role != "arn:aws:iam::210987654321:role/Admin" {
		t.Errorf("AssumeRole = %+v: want the MFA session and 1 h", ar)
	}
	if creds.AccessKeyID != "ASIAFAKE000000000002" || !creds.Expires.Equal(h.now.Add(time.Hour)) {
		t.Errorf("creds = %v", creds)
	}

	// Within their life: no STS call, no MFA code.
	h.sts.reset()
	for range 3 {
		again, err := h.b.Credentials(ctx, "prod")
		if err != nil || again.AccessKeyID != creds.AccessKeyID {
			t.Fatalf("cached call = %v, %v", again, err)
		}
	}
	if got := h.sts.ops(); got != "" || h.codes.n != 1 {
		t.Fatalf("cached calls reached STS (%s) or asked for codes (%d)", got, h.codes.n)
	}

	// 46 minutes on, the role has less than 15 minutes left: a new
	// AssumeRole, but the 8 h MFA session is reused without a code.
	*h.now = h.now.Add(46 * time.Minute)
	if _, err := h.b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.ops(); got != "AssumeRole" || h.codes.n != 1 {
		t.Fatalf("after 46 min: calls = %s, codes = %d", got, h.codes.n)
	}

	// 8 hours on, the MFA session is spent: a new code.
	h.sts.reset()
	*h.now = h.now.Add(8 * time.Hour)
	if _, err := h.b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.ops(); got != "GetSessionToken,AssumeRole" || h.codes.n != 2 {
		t.Fatalf("after 8 h: calls = %s, codes = %d", got, h.codes.n)
	}
}

func TestCacheSurvivesANewBroker(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	first, err := h.b.Credentials(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	// A second process: a new Broker over the same keystore.
	b2, err := New(Options{Config: h.b.Resolver().Config, Keys: h.keys, NewSTS: func(string, Endpoint) STS { return h.sts }, Codes: h.codes, Now: func() time.Time { return *h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.sts.reset()
	second, err := b2.Credentials(ctx, "prod")
	if err != nil || second.SessionToken != first.SessionToken || h.sts.ops() != "" {
		t.Fatalf("second process: %v, %v, calls %q", second, err, h.sts.ops())
	}
}

func TestPlainAndDirectProfiles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.b.Credentials(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	if c := h.sts.calls[0]; h.sts.ops() != "GetSessionToken" || c.Code != "" || c.Duration != 3600 || c.Signer != "AKIAPPPPPPPPPPPPPPPP" {
		t.Errorf("plain: %s %+v", h.sts.ops(), h.sts.calls)
	}
	h.sts.reset()
	if _, err := h.b.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	// Not chained: the configured 2 h is honoured, signed by the long-lived key.
	if c := h.sts.calls[0]; h.sts.ops() != "AssumeRole" || c.Duration != 7200 || c.Signer != "AKIADDDDDDDDDDDDDDDD" {
		t.Errorf("direct: %s %+v", h.sts.ops(), h.sts.calls)
	}
	if h.codes.n != 0 {
		t.Errorf("asked for %d MFA codes without an MFA device", h.codes.n)
	}
}

func TestChangedKeyInvalidatesCache(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.b.Credentials(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	if err := h.keys.PutAccessKey("plain", keystore.AccessKey{AccessKeyID: "AKIAQQQQQQQQQQQQQQQQ", SecretAccessKey: strings.Repeat("t", 40)}); err != nil {
		t.Fatal(err)
	}
	h.sts.reset()
	if _, err := h.b.Credentials(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	if h.sts.ops() != "GetSessionToken" || h.sts.calls[0].Signer != "AKIAQQQQQQQQQQQQQQQQ" {
		t.Errorf("new key not used: %+v", h.sts.calls)
	}
}

func apiError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

func TestSTSFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		profile string
		fail    func(fakeCall) error
		kind    error
		want    string
		calls   string
	}{
		{"key rejected", "prod", func(c fakeCall) error {
			return apiError("InvalidClientTokenId", "The security token included in the request is invalid.")
		}, ErrKeyRejected, "profile base: GetSessionToken with MFA device arn:aws:iam::123456789012:mfa/alice: InvalidClientTokenId: The security token included in the request is invalid", "GetSessionToken"},
		{"signature", "plain", func(c fakeCall) error {
			return apiError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		}, ErrKeyRejected, "SignatureDoesNotMatch", "GetSessionToken"},
		{"mfa refused", "prod", func(c fakeCall) error {
			return apiError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
		}, ErrMFARefused, "MultiFactorAuthentication failed", "GetSessionToken"},
		{"role denied", "prod", func(c fakeCall) error {
			if c.Op == "AssumeRole" {
				return apiError("AccessDenied", "User: arn:aws:sts::123456789012:federated-user/x is not authorized to perform: sts:AssumeRole")
			}
			return nil
		}, ErrAccessDenied, "profile prod: AssumeRole arn:aws:iam::210987654321:role/Admin: AccessDenied", "GetSessionToken,AssumeRole"},
		{"unreachable", "plain", func(c fakeCall) error {
			return &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
		}, ErrSTSUnreachable, "STS unreachable at the default STS endpoint: connection refused", "GetSessionToken"},
		{"throttled", "plain", func(c fakeCall) error {
			return apiError("Throttling", "Rate exceeded")
		}, ErrSTSUnavailable, "Throttling: Rate exceeded", "GetSessionToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.sts.fail = tc.fail
			_, err := h.b.Credentials(context.Background(), tc.profile)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want %q in it", err, tc.want)
			}
			if got := h.sts.ops(); got != tc.calls {
				t.Errorf("calls = %s, want %s (a refused code must not be retried)", got, tc.calls)
			}
		})
	}
}

func TestExpiredSessionIsDroppedAndRedone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	// The role credentials run out; the cached MFA session was revoked.
	*h.now = h.now.Add(50 * time.Minute)
	revoked := "ASIAFAKE000000000001"
	h.sts.fail = func(c fakeCall) error {
		if c.Op == "AssumeRole" && c.Signer == revoked {
			return apiError("ExpiredToken", "The security token included in the request is expired")
		}
		return nil
	}
	h.sts.reset()
	if _, err := h.b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.ops(); got != "AssumeRole,GetSessionToken,AssumeRole" || h.codes.n != 2 {
		t.Errorf("calls = %s, codes = %d", got, h.codes.n)
	}
}

func TestMFARequiredWithoutSeedOrTerminal(t *testing.T) {
	t.Parallel()
	keys := keystore.NewMemory()
	if err := keys.PutAccessKey("base", keystore.AccessKey{AccessKeyID: "AKIABBBBBBBBBBBBBBBB", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
		t.Fatal(err)
	}
	fake := &fakeSTS{now: time.Now}
	b, err := New(Options{Config: parse(t, testConfig), Keys: keys, NewSTS: func(string, Endpoint) STS { return fake }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Credentials(context.Background(), "prod")
	if !errors.Is(err, ErrMFARequired) || fake.ops() != "" {
		t.Fatalf("err = %v, calls = %s", err, fake.ops())
	}
}

func TestStoredSeedMakesFreshCodes(t *testing.T) {
	t.Parallel()
	keys := keystore.NewMemory()
	if err := keys.PutAccessKey("base", keystore.AccessKey{AccessKeyID: "AKIABBBBBBBBBBBBBBBB", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
		t.Fatal(err)
	}
	seed, err := mfa.ParseSeed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Put(keystore.KindTOTPSeed, "base", []byte(seed.Encode())); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 8, 0, 10, 0, time.UTC)
	fake := &fakeSTS{now: func() time.Time { return now }}
	var waits []string
	b, err := New(Options{Config: parse(t, testConfig), Keys: keys, NewSTS: func(string, Endpoint) STS { return fake },
		Now: func() time.Time { return now }, Warn: func(s string) { waits = append(waits, s) }})
	if err != nil {
		t.Fatal(err)
	}
	// Fake sleeping: the generator moves the clock.
	b.codes.(*SeedCodes).Generator.Sleep = func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }
	if _, err := b.Credentials(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}
	want, _ := seed.Code(time.Date(2026, 11, 27, 8, 0, 10, 0, time.UTC))
	if fake.calls[0].Code != want {
		t.Fatalf("code sent = %s, want %s", fake.calls[0].Code, want)
	}
	// The session is dropped within the same 30 s step: the next code must
	// wait for the next step rather than reuse the same one.
	if n, err := b.Forget("base"); err != nil || n != 2 {
		t.Fatalf("Forget = %d, %v; want the MFA session and prod's role dropped", n, err)
	}
	fake.reset()
	if _, err := b.Credentials(context.Background(), "base"); err != nil {
		t.Fatal(err)
	}
	next, _ := seed.Code(time.Date(2026, 11, 27, 8, 0, 30, 0, time.UTC))
	if fake.calls[0].Code != next || fake.calls[0].Code == want {
		t.Fatalf("second code = %s, want the next step's %s", fake.calls[0].Code, next)
	}
	if len(waits) != 1 || !strings.Contains(waits[0], "waiting 20s for a fresh MFA code") {
		t.Errorf("warnings = %q", waits)
	}
}

func TestCheckKeyRefusesRoot(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := keystore.AccessKey{AccessKeyID: "AKIARRRRRRRRRRRRROOT", SecretAccessKey: strings.Repeat("r", 40)}
	h.sts.arn = "arn:aws:iam::123456789012:root"
	_, err := h.b.CheckKey(context.Background(), "new", key, false)
	if !errors.Is(err, ErrRootKey) || !strings.Contains(err.Error(), "root user of account 123456789012") {
		t.Fatalf("err = %v", err)
	}
	if arn, err := h.b.CheckKey(context.Background(), "new", key, true); err != nil || arn != h.sts.arn {
		t.Fatalf("allowRoot: %s, %v", arn, err)
	}
	h.sts.arn = "arn:aws:iam::123456789012:user/root"
	if _, err := h.b.CheckKey(context.Background(), "new", key, false); err != nil {
		t.Fatalf("an IAM user named root is not the root user: %v", err)
	}
	h.sts.fail = func(fakeCall) error { return apiError("InvalidClientTokenId", "invalid") }
	if _, err := h.b.CheckKey(context.Background(), "new", key, false); !errors.Is(err, ErrKeyRejected) {
		t.Fatalf("rejected key: %v", err)
	}
}

func TestNoAccessKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.keys.Delete(keystore.KindAccessKey, "base"); err != nil {
		t.Fatal(err)
	}
	_, err := h.b.Credentials(context.Background(), "prod")
	var nk *NoAccessKeyError
	if !errors.As(err, &nk) || nk.Source != "base" || !errors.Is(err, ErrNoAccessKey) {
		t.Fatalf("err = %v", err)
	}
}

func TestClampWarning(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := testConfig + "[profile long]\nrole_arn = arn:aws:iam::210987654321:role/Long\nsource_profile = base\nduration_seconds = 14400\n"
	b, err := New(Options{Config: parse(t, cfg), Keys: h.keys, NewSTS: func(string, Endpoint) STS { return h.sts }, Codes: h.codes,
		Warn: func(s string) { h.warns = append(h.warns, s) }, Now: func() time.Time { return *h.now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Credentials(context.Background(), "long"); err != nil {
		t.Fatal(err)
	}
	if h.sts.calls[1].Duration != 3600 || len(h.warns) != 1 || !strings.Contains(h.warns[0], "at most 1h") {
		t.Errorf("duration %d, warnings %q", h.sts.calls[1].Duration, h.warns)
	}
}

// TestSourceAndRolesShareTheMFASession: the MFA profile used directly and
// the role built on it use one cached MFA session, so going back and forth
// asks for one code.
func TestSourceAndRolesShareTheMFASession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for range 3 {
		for _, p := range []string{"base", "prod"} {
			if _, err := h.b.Credentials(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if h.codes.n != 1 || strings.Count(h.sts.ops(), "GetSessionToken") != 1 {
		t.Fatalf("%d codes, calls %s", h.codes.n, h.sts.ops())
	}
}

// TestSubmittedCodeIsNeverSentTwice: when the role fails with an expired
// token after a human's code opened the session, the code is not sent
// again (AWS refuses a reused code).
func TestSubmittedCodeIsNeverSentTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sts.fail = func(c fakeCall) error {
		if c.Op == "AssumeRole" {
			return apiError("ExpiredToken", "The security token included in the request is expired")
		}
		return nil
	}
	_, err := h.b.Fetch(context.Background(), "prod", FetchOptions{MFACode: "424242"})
	if !errors.Is(err, ErrExpiredToken) || h.sts.ops() != "GetSessionToken,AssumeRole" {
		t.Fatalf("err %v, calls %s", err, h.sts.ops())
	}
}

// TestExpiredIntermediateKeepsTheMFASession: a role two steps down whose
// signer (the first role) was revoked: only the first role and what
// follows are fetched again, not the MFA session (no new code).
func TestExpiredIntermediateKeepsTheMFASession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := testConfig + "[profile deep]\nrole_arn = arn:aws:iam::210987654321:role/Deep\nsource_profile = prod\n"
	b, err := New(Options{Config: parse(t, cfg), Keys: h.keys, NewSTS: func(string, Endpoint) STS { return h.sts }, Codes: h.codes, Now: func() time.Time { return *h.now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Credentials(context.Background(), "deep"); err != nil {
		t.Fatal(err)
	}
	// deep's role is gone from the cache; prod's role, still fresh, was
	// revoked: AssumeRole for deep signed with it fails.
	if err := b.cache.Drop("deep/role"); err != nil {
		t.Fatal(err)
	}
	h.sts.fail = func(c fakeCall) error {
		if c.Op == "AssumeRole" && c.Role == "arn:aws:iam::210987654321:role/Deep" && c.Signer == "ASIAFAKE000000000002" {
			return apiError("ExpiredToken", "The security token included in the request is expired")
		}
		return nil
	}
	h.sts.reset()
	if _, err := b.Credentials(context.Background(), "deep"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.ops(); got != "AssumeRole,AssumeRole,AssumeRole" || h.codes.n != 1 {
		t.Fatalf("calls %s, codes %d: want prod's and deep's roles again, no new MFA session", got, h.codes.n)
	}
}

func TestWrongMFASerialIsNotARefusedCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sts.fail = func(fakeCall) error {
		return apiError("AccessDenied", "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.")
	}
	_, err := h.b.Credentials(context.Background(), "prod")
	if errors.Is(err, ErrMFARefused) || !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("err = %v", err)
	}
	if _, hint, _ := Explain(err); !strings.Contains(hint, "check mfa_serial") {
		t.Errorf("hint = %q", hint)
	}
}
