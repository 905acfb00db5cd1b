package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/keyring"
	"github.com/aws/smithy-go"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/internal/fakests"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// testConfig is the profiles the fakes are set up for.
const testConfig = fakests.Config

type harness struct {
	b     served
	sts   *fakests.STS
	codes *fakests.Codes
	keys  *keystore.Store
	now   *time.Time
	warns []string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	h := &harness{keys: keystore.NewMemory(), codes: &fakests.Codes{}, now: &now}
	h.sts = &fakests.STS{Now: func() time.Time { return *h.now }, ARN: "arn:aws:iam::123456789012:user/alice"}
	for _, p := range []string{"base", "plain", "direct"} {
		if err := h.keys.PutAccessKey(p, keystore.AccessKey{AccessKeyID: "AKIA" + strings.Repeat(strings.ToUpper(p[:1]), 16), SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := newServed(t, parse(t, testConfig), Options{
		Keys:   h.keys,
		NewSTS: func(string, profile.Endpoint) (STS, error) { return h.sts, nil },
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
	// GetCallerIdentity names the role session after the key's IAM user.
	if got := h.sts.Ops(); got != "GetSessionToken,GetCallerIdentity,AssumeRole" {
		t.Fatalf("calls = %s", got)
	}
	gst, gci, ar := h.sts.Calls[0], h.sts.Calls[1], h.sts.Calls[2]
	if gst.Signer != "AKIABBBBBBBBBBBBBBBB" || gst.Code != "000001" || gst.Duration != 8*3600 || gst.Attempts != 1 {
		t.Errorf("GetSessionToken = %+v: want the long-lived key, the code, 8 h and no retries", gst)
	}
	if gci.Signer != "AKIABBBBBBBBBBBBBBBB" {
		t.Errorf("GetCallerIdentity = %+v: want the long-lived key", gci)
	}
	if ar.Signer != "ASIAFAKE000000000001" || ar.Token != "token-1" || ar.Duration != 3600 || ar.Role != "arn:aws:iam::210987654321:role/Admin" {
		t.Errorf("AssumeRole = %+v: want the MFA session and 1 h", ar)
	}
	if creds.AccessKeyID != "ASIAFAKE000000000002" || !creds.Expires.Equal(h.now.Add(time.Hour)) {
		t.Errorf("creds = %v", creds)
	}

	// Within their life: no STS call, no MFA code.
	h.sts.Reset()
	for range 3 {
		again, err := h.b.Credentials(ctx, "prod")
		if err != nil || again.AccessKeyID != creds.AccessKeyID {
			t.Fatalf("cached call = %v, %v", again, err)
		}
	}
	if got := h.sts.Ops(); got != "" || h.codes.N() != 1 {
		t.Fatalf("cached calls reached STS (%s) or asked for codes (%d)", got, h.codes.N())
	}

	// 46 minutes on, the role has less than 15 minutes left: a new
	// AssumeRole, but the 8 h MFA session is reused without a code.
	*h.now = h.now.Add(46 * time.Minute)
	if _, err := h.b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.Ops(); got != "AssumeRole" || h.codes.N() != 1 {
		t.Fatalf("after 46 min: calls = %s, codes = %d", got, h.codes.N())
	}

	// 8 hours on, the MFA session is spent: a new code.
	h.sts.Reset()
	*h.now = h.now.Add(8 * time.Hour)
	if _, err := h.b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.Ops(); got != "GetSessionToken,AssumeRole" || h.codes.N() != 2 {
		t.Fatalf("after 8 h: calls = %s, codes = %d", got, h.codes.N())
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
	// A second process: a new Broker over the same keystore. Served from
	// the cache, it makes no STS client (nor reads a CA bundle).
	clients := 0
	newSTS := func(string, profile.Endpoint) (STS, error) { clients++; return h.sts, nil }
	b2, err := newServed(t, h.b.r.Config, Options{Keys: h.keys, NewSTS: newSTS, Codes: h.codes, Now: func() time.Time { return *h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.sts.Reset()
	second, err := b2.Credentials(ctx, "prod")
	if err != nil || second.SessionToken != first.SessionToken || h.sts.Ops() != "" || clients != 0 {
		t.Fatalf("second process: %v, %v, calls %q, %d STS clients made", second, err, h.sts.Ops(), clients)
	}
}

func TestPlainAndDirectProfiles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.b.Credentials(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	if c := h.sts.Calls[0]; h.sts.Ops() != "GetSessionToken" || c.Code != "" || c.Duration != 3600 || c.Signer != "AKIAPPPPPPPPPPPPPPPP" {
		t.Errorf("plain: %s %+v", h.sts.Ops(), h.sts.Calls)
	}
	h.sts.Reset()
	if _, err := h.b.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	// Not chained: the configured 2 h is honoured, signed by the long-lived key.
	if c := h.sts.Calls[1]; h.sts.Ops() != "GetCallerIdentity,AssumeRole" || c.Duration != 7200 || c.Signer != "AKIADDDDDDDDDDDDDDDD" {
		t.Errorf("direct: %s %+v", h.sts.Ops(), h.sts.Calls)
	}
	if h.codes.N() != 0 {
		t.Errorf("asked for %d MFA codes without an MFA device", h.codes.N())
	}
}

// TestChangedKeyInvalidatesCache: a key replaced in the keyring is used
// at the next fetch, even by a broker nobody told (its Forget failed):
// never an entry of the old key served after the key changed; a key
// removed is said, and nothing made from it is served.
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
	h.sts.Reset()
	if _, err := h.b.Credentials(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	if h.sts.Ops() != "GetSessionToken" || h.sts.Calls[0].Signer != "AKIAQQQQQQQQQQQQQQQQ" {
		t.Fatalf("new key not used: %+v", h.sts.Calls)
	}
	if err := h.keys.Delete(keystore.KindAccessKey, "plain"); err != nil {
		t.Fatal(err)
	}
	var none *NoAccessKeyError
	if _, err := h.b.Credentials(ctx, "plain"); !errors.As(err, &none) {
		t.Fatalf("after the key was removed: %v", err)
	}
}

// silentKeys is a keyring that stops answering (as a Secret Service
// whose peer hangs, past the store's deadline) once off is set: every
// read and write fails.
type silentKeys struct {
	keyring.Keyring
	off    atomic.Bool
	reads  atomic.Int32 // reads of an access key while off
	writes atomic.Int32 // writes while off
}

func (k *silentKeys) Get(key string) (keyring.Item, error) {
	if k.off.Load() {
		if strings.Contains(key, string(keystore.KindAccessKey)) {
			k.reads.Add(1)
		}
		return keyring.Item{}, keystore.ErrNotAnswering
	}
	return k.Keyring.Get(key)
}

func (k *silentKeys) Set(it keyring.Item) error {
	if k.off.Load() {
		k.writes.Add(1)
		return keystore.ErrNotAnswering
	}
	return k.Keyring.Set(it)
}

// TestRoleRenewedWithoutTheKeyring: renewing a role from a cached MFA
// session needs nothing from the keyring: with the keyring not answering
// at all, the role is renewed from the session in memory (the save of the
// new role credentials fails, and is said); a call that needs the key
// itself says the keyring is not answering.
func TestRoleRenewedWithoutTheKeyring(t *testing.T) {
	t.Parallel()
	ring := &silentKeys{Keyring: keyring.NewArrayKeyring(nil)}
	keys := keystore.New(ring)
	if err := keys.PutAccessKey("base", keystore.AccessKey{AccessKeyID: "AKIABBBBBBBBBBBBBBBB", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	sts := &fakests.STS{Now: func() time.Time { return now }, ARN: "arn:aws:iam::123456789012:user/alice"}
	var warns []string
	b, err := newServed(t, parse(t, testConfig), Options{Keys: keys, Codes: &fakests.Codes{},
		NewSTS: func(string, profile.Endpoint) (STS, error) { return sts, nil }, Now: func() time.Time { return now },
		Warn: func(s string) { warns = append(warns, s) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	ring.off.Store(true)
	now = now.Add(46 * time.Minute) // the role is due, the 8 h MFA session is not
	sts.Reset()
	if _, err := b.Fetch(ctx, "prod", FetchOptions{Renew: true}); err != nil {
		t.Fatalf("renewing the role with the keyring silent: %v", err)
	}
	if sts.Ops() != "AssumeRole" || ring.reads.Load() != 1 || ring.writes.Load() == 0 {
		t.Fatalf("calls %s, %d reads of the access key, %d writes; want one AssumeRole, one read tried and the save tried",
			sts.Ops(), ring.reads.Load(), ring.writes.Load())
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "serving them from memory") {
		t.Fatalf("warnings %q, want one saying the new role credentials are served from memory", warns)
	}
	now = now.Add(8 * time.Hour) // now the MFA session is spent too
	if _, err := b.Fetch(ctx, "prod", FetchOptions{}); !errors.Is(err, keystore.ErrNotAnswering) {
		t.Fatalf("a new MFA session with the keyring silent: %v", err)
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
		fail    func(fakests.Call) error
		kind    error
		want    string
		calls   string
	}{
		{"key rejected", "prod", func(c fakests.Call) error {
			return apiError("InvalidClientTokenId", "The security token included in the request is invalid.")
		}, ErrKeyRejected, "profile base: GetSessionToken with MFA device arn:aws:iam::123456789012:mfa/alice: InvalidClientTokenId: The security token included in the request is invalid", "GetSessionToken"},
		{"signature", "plain", func(c fakests.Call) error {
			return apiError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		}, ErrKeyRejected, "SignatureDoesNotMatch", "GetSessionToken"},
		{"mfa refused", "prod", func(c fakests.Call) error {
			return apiError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
		}, ErrMFARefused, "MultiFactorAuthentication failed", "GetSessionToken"},
		{"role denied", "prod", func(c fakests.Call) error {
			if c.Op == "AssumeRole" {
				return apiError("AccessDenied", "User: arn:aws:sts::123456789012:federated-user/x is not authorized to perform: sts:AssumeRole")
			}
			return nil
		}, ErrAccessDenied, "profile prod: AssumeRole arn:aws:iam::210987654321:role/Admin: AccessDenied", "GetSessionToken,GetCallerIdentity,AssumeRole"},
		{"unreachable", "plain", func(c fakests.Call) error {
			return &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
		}, ErrSTSUnreachable, "STS unreachable at https://sts.us-east-1.amazonaws.com (from the SDK's STS endpoint for us-east-1): connection refused", "GetSessionToken"},
		{"throttled", "plain", func(c fakests.Call) error {
			return apiError("Throttling", "Rate exceeded")
		}, ErrSTSUnavailable, "Throttling: Rate exceeded", "GetSessionToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.sts.SetFail(tc.fail)
			_, err := h.b.Credentials(context.Background(), tc.profile)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want %q in it", err, tc.want)
			}
			if got := h.sts.Ops(); got != tc.calls {
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
	h.sts.SetFail(func(c fakests.Call) error {
		if c.Op == "AssumeRole" && c.Signer == revoked {
			return apiError("ExpiredToken", "The security token included in the request is expired")
		}
		return nil
	})
	h.sts.Reset()
	if _, err := h.b.Credentials(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.Ops(); got != "AssumeRole,GetSessionToken,AssumeRole" || h.codes.N() != 2 {
		t.Errorf("calls = %s, codes = %d", got, h.codes.N())
	}
}

func TestMFARequiredWithoutSeedOrTerminal(t *testing.T) {
	t.Parallel()
	keys := keystore.NewMemory()
	if err := keys.PutAccessKey("base", keystore.AccessKey{AccessKeyID: "AKIABBBBBBBBBBBBBBBB", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
		t.Fatal(err)
	}
	fake := &fakests.STS{Now: time.Now}
	b, err := newServed(t, parse(t, testConfig), Options{Keys: keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return fake, nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Credentials(context.Background(), "prod")
	if !errors.Is(err, ErrMFARequired) || fake.Ops() != "" {
		t.Fatalf("err = %v, calls = %s", err, fake.Ops())
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
	fake := &fakests.STS{Now: func() time.Time { return now }}
	var waits []string
	b, err := newServed(t, parse(t, testConfig), Options{Keys: keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return fake, nil },
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
	if fake.Calls[0].Code != want {
		t.Fatalf("code sent = %s, want %s", fake.Calls[0].Code, want)
	}
	// The session is dropped within the same 30 s step: the next code must
	// wait for the next step rather than reuse the same one.
	if n, err := b.Forget("base"); err != nil || n != 2 {
		t.Fatalf("Forget = %d, %v; want the MFA session and prod's role dropped", n, err)
	}
	fake.Reset()
	if _, err := b.Credentials(context.Background(), "base"); err != nil {
		t.Fatal(err)
	}
	next, _ := seed.Code(time.Date(2026, 11, 27, 8, 0, 30, 0, time.UTC))
	if fake.Calls[0].Code != next || fake.Calls[0].Code == want {
		t.Fatalf("second code = %s, want the next step's %s", fake.Calls[0].Code, next)
	}
	if len(waits) != 1 || !strings.Contains(waits[0], "waiting 20s for a fresh MFA code") {
		t.Errorf("warnings = %q", waits)
	}
}

func TestCheckKeyRefusesRoot(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := keystore.AccessKey{AccessKeyID: "AKIARRRRRRRRRRRRROOT", SecretAccessKey: strings.Repeat("r", 40)}
	h.sts.ARN = "arn:aws:iam::123456789012:root"
	_, err := h.b.CheckKey(context.Background(), "new", key, false)
	if !errors.Is(err, ErrRootKey) || !strings.Contains(err.Error(), "root user of account 123456789012") {
		t.Fatalf("err = %v", err)
	}
	if arn, err := h.b.CheckKey(context.Background(), "new", key, true); err != nil || arn != h.sts.ARN {
		t.Fatalf("allowRoot: %s, %v", arn, err)
	}
	h.sts.ARN = "arn:aws:iam::123456789012:user/root"
	if _, err := h.b.CheckKey(context.Background(), "new", key, false); err != nil {
		t.Fatalf("an IAM user named root is not the root user: %v", err)
	}
	h.sts.SetFail(func(fakests.Call) error { return apiError("InvalidClientTokenId", "invalid") })
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
	// A role assumed with another role's session: chained, so at most an
	// hour whatever it asks (a first role over an hour gets the MFA code
	// itself instead: TestMFARoleOverAnHourInOneCall).
	cfg := testConfig + "[profile long]\nrole_arn = arn:aws:iam::210987654321:role/Long\nsource_profile = prod\nduration_seconds = 14400\n"
	b, err := newServed(t, parse(t, cfg), Options{Keys: h.keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return h.sts, nil }, Codes: h.codes,
		Warn: func(s string) { h.warns = append(h.warns, s) }, Now: func() time.Time { return *h.now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Credentials(context.Background(), "long"); err != nil {
		t.Fatal(err)
	}
	if last := h.sts.Calls[len(h.sts.Calls)-1]; last.Role != "arn:aws:iam::210987654321:role/Long" || last.Duration != 3600 || len(h.warns) != 1 || !strings.Contains(h.warns[0], "at most 1h") {
		t.Errorf("calls %+v, warnings %q", h.sts.Calls, h.warns)
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
	if h.codes.N() != 1 || strings.Count(h.sts.Ops(), "GetSessionToken") != 1 {
		t.Fatalf("%d codes, calls %s", h.codes.N(), h.sts.Ops())
	}
}

// TestSubmittedCodeIsNeverSentTwice: when the role fails with an expired
// token after a human's code opened the session, the code is not sent
// again (AWS refuses a reused code).
func TestSubmittedCodeIsNeverSentTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sts.SetFail(func(c fakests.Call) error {
		if c.Op == "AssumeRole" {
			return apiError("ExpiredToken", "The security token included in the request is expired")
		}
		return nil
	})
	_, err := h.b.Fetch(context.Background(), "prod", FetchOptions{MFACode: "424242"})
	if !errors.Is(err, ErrExpiredToken) || h.sts.Ops() != "GetSessionToken,GetCallerIdentity,AssumeRole" {
		t.Fatalf("err %v, calls %s", err, h.sts.Ops())
	}
}

// TestExpiredIntermediateKeepsTheMFASession: a role two steps down whose
// signer (the first role) was revoked: only the first role and what
// follows are fetched again, not the MFA session (no new code).
func TestExpiredIntermediateKeepsTheMFASession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := testConfig + "[profile deep]\nrole_arn = arn:aws:iam::210987654321:role/Deep\nsource_profile = prod\n"
	b, err := newServed(t, parse(t, cfg), Options{Keys: h.keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return h.sts, nil }, Codes: h.codes, Now: func() time.Time { return *h.now }})
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
	h.sts.SetFail(func(c fakests.Call) error {
		if c.Op == "AssumeRole" && c.Role == "arn:aws:iam::210987654321:role/Deep" && c.Signer == "ASIAFAKE000000000002" {
			return apiError("ExpiredToken", "The security token included in the request is expired")
		}
		return nil
	})
	h.sts.Reset()
	if _, err := b.Credentials(context.Background(), "deep"); err != nil {
		t.Fatal(err)
	}
	if got := h.sts.Ops(); got != "AssumeRole,AssumeRole,AssumeRole" || h.codes.N() != 1 {
		t.Fatalf("calls %s, codes %d: want prod's and deep's roles again, no new MFA session", got, h.codes.N())
	}
}

func TestWrongMFASerialIsNotARefusedCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sts.SetFail(func(fakests.Call) error {
		return apiError("AccessDenied", "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.")
	})
	_, err := h.b.Credentials(context.Background(), "prod")
	if errors.Is(err, ErrMFARefused) || !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("err = %v", err)
	}
	if _, hint, _ := Explain(err); !strings.Contains(hint, "check mfa_serial") {
		t.Errorf("hint = %q", hint)
	}
}

// served is a broker with the profiles it resolves, as the daemon and the
// CLI pair them.
type served struct {
	*Broker
	r *profile.Resolver
}

func newServed(t testing.TB, cfg *profile.Config, opts Options) (served, error) {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		return served{}, err
	}
	return served{Broker: b, r: b.Resolver(cfg, nil)}, nil
}

func (s served) Fetch(ctx context.Context, name string, opts FetchOptions) (Result, error) {
	chain, err := s.r.Resolve(name)
	if err != nil {
		return Result{}, err
	}
	return s.Broker.Fetch(ctx, chain, opts)
}

func (s served) Credentials(ctx context.Context, name string) (cache.Credentials, error) {
	r, err := s.Fetch(ctx, name, FetchOptions{})
	return r.Credentials, err
}

func (s served) Forget(name string) (int, error) { return s.Broker.Forget(s.r, name) }

func (s served) CheckKey(ctx context.Context, name string, key keystore.AccessKey, allowRoot bool) (string, error) {
	return s.Broker.CheckKey(ctx, s.r, name, key, allowRoot)
}

func parse(t testing.TB, text string) *profile.Config {
	t.Helper()
	cfg, err := profile.ParseConfig("/etc/credbroker/config", strings.NewReader(text))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

func TestInventory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.keys.Put(keystore.KindTOTPSeed, "base", []byte("JBSWY3DPEHPK3PXP")); err != nil {
		t.Fatal(err)
	}
	got, err := Inventory(h.keys, h.b.r)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range got {
		lines = append(lines, fmt.Sprintf("%s|%s|%v|%s|%v", p.Name, p.KeyID, p.Seed, p.Chain.Describe(), p.Err))
	}
	want := []string{
		"base|****************BBBB|true|session from its own key with MFA|<nil>",
		"direct|****************DDDD|false|role arn:aws:iam::210987654321:role/Direct from its own key|<nil>",
		"plain|****************PPPP|false|session from its own key|<nil>",
		"prod||false|role arn:aws:iam::210987654321:role/Admin via base with MFA|<nil>",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Inventory:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestSessionPolicy: a profile's session policy and managed policy ARNs go
// with its AssumeRole; sessions made with other session policies are
// cached apart; a malformed policy fails before any STS call.
func TestSessionPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, doc string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ro := write("ro.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`)
	bad := write("bad.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:Get*","Resource":"*"}]}`)
	cfg := fmt.Sprintf(`[profile plain]
[profile ro]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = plain
session_policy = %s
policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess
[profile full]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = plain
[profile broken]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = plain
session_policy = %s
`, ro, bad)
	h := newHarness(t)
	b, err := newServed(t, parse(t, cfg), Options{Keys: h.keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return h.sts, nil }, Codes: h.codes,
		Now: func() time.Time { return *h.now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	roCreds, err := b.Credentials(ctx, "ro")
	if err != nil {
		t.Fatal(err)
	}
	calls := h.sts.CallList()
	if len(calls) != 2 || !strings.Contains(calls[1].Policy, `"s3:Get*"`) || strings.Join(calls[1].PolicyARNs, ",") != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Fatalf("AssumeRole calls = %+v, want the session policy and its ARN", calls)
	}
	fullCreds, err := b.Credentials(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	if fullCreds == roCreds || h.sts.Ops() != "GetCallerIdentity,AssumeRole,AssumeRole" || h.sts.CallList()[2].Policy != "" {
		t.Errorf("a role without the session policy got the narrowed session: calls %+v", h.sts.CallList())
	}
	h.sts.Reset()
	_, err = b.Credentials(ctx, "broken")
	if !errors.Is(err, profile.ErrConfig) || !strings.Contains(err.Error(), bad) || h.sts.Ops() != "" {
		t.Fatalf("malformed session policy: err %v, calls %s: want a config error naming the file and no STS call", err, h.sts.Ops())
	}
}

// TestBadDaysAtSTS: an expiration beyond what was asked (2099) is refused;
// a signature refused as expired is explained as the clock, not the key;
// a sealed cache that cannot be written still serves what STS issued.
func TestBadDaysAtSTS(t *testing.T) {
	t.Parallel()
	t.Run("expiration of 2099", func(t *testing.T) {
		h := newHarness(t)
		h.sts.Overissue = 70 * 365 * 24 * time.Hour
		_, err := h.b.Credentials(context.Background(), "plain")
		if !errors.Is(err, ErrSTSUnavailable) || !strings.Contains(err.Error(), "later than the 1h0m0s asked for: refusing them") {
			t.Fatalf("err = %v", err)
		}
	})
	for _, tc := range []struct{ code, msg string }{
		{"SignatureDoesNotMatch", "Signature expired: 20261130T044000Z is now earlier than 20261130T045500Z (20261130T050000Z - 15 min.)"},
		{"SignatureDoesNotMatch", "Signature not yet current: 20261130T052000Z is still later than 20261130T051500Z (20261130T050000Z + 15 min.)"},
		{"RequestExpired", "Request has expired."},
	} {
		t.Run("clock 20 minutes off: "+tc.code, func(t *testing.T) {
			h := newHarness(t)
			h.sts.SetFail(func(fakests.Call) error { return apiError(tc.code, tc.msg) })
			_, err := h.b.Credentials(context.Background(), "plain")
			msg, hint, code := Explain(err)
			if !errors.Is(err, ErrClockSkew) || errors.Is(err, ErrKeyRejected) || code != wire.CodeClockSkew || !strings.Contains(hint, "clock") || strings.Contains(hint, "credbroker add") {
				t.Fatalf("err = %v: %q / %q / %s", err, msg, hint, code)
			}
		})
	}
	t.Run("sealed cache on a full disk", func(t *testing.T) {
		ring := &fullDisk{Keyring: keyring.NewArrayKeyring(nil)}
		keys := keystore.New(ring)
		if err := keys.PutAccessKey("plain", keystore.AccessKey{AccessKeyID: "AKIAPPPPPPPPPPPPPPPP", SecretAccessKey: strings.Repeat("s", 40)}); err != nil {
			t.Fatal(err)
		}
		ring.full.Store(true)
		fake := &fakests.STS{Now: time.Now}
		var warns []string
		b, err := newServed(t, parse(t, testConfig), Options{Keys: keys, NewSTS: func(string, profile.Endpoint) (STS, error) { return fake, nil },
			Warn: func(s string) { warns = append(warns, s) }})
		if err != nil {
			t.Fatal(err)
		}
		first, err := b.Credentials(context.Background(), "plain")
		if err != nil {
			t.Fatalf("fresh credentials not served when the sealed copy cannot be written: %v", err)
		}
		again, err := b.Credentials(context.Background(), "plain")
		if err != nil || again != first || fake.Ops() != "GetSessionToken" {
			t.Fatalf("again: %v, calls %s: want them from memory, no new STS call", err, fake.Ops())
		}
		if len(warns) != 1 || !strings.Contains(warns[0], "serving them from memory") {
			t.Errorf("warnings = %q", warns)
		}
	})
}

// fullDisk is a keyring whose writes fail once full is set.
type fullDisk struct {
	keyring.Keyring
	full atomic.Bool
}

func (f *fullDisk) Set(i keyring.Item) error {
	if f.full.Load() {
		return syscall.ENOSPC
	}
	return f.Keyring.Set(i)
}

// readBarrier is a StepStore whose LastStep waits (a little) for another
// reader: without a cross-process lock, two "processes" both read the same
// last step before either records theirs.
type readBarrier struct {
	StepStore
	arrived chan struct{}
}

func (r readBarrier) LastStep(device string) (uint64, bool, error) {
	step, ok, err := r.StepStore.LastStep(device)
	select { // both have read before either records
	case r.arrived <- struct{}{}:
	case <-r.arrived:
	case <-time.After(200 * time.Millisecond): // the other is held by the lock
	}
	return step, ok, err
}

// TestStepLockAcrossProcesses: code makers with a generator each (as
// processes: a daemon, `totp code`) asking for one device at the same
// instant make different codes: reading and recording a step is one step
// for all (StepStore.LockDevice). Without the lock they read the same last
// step and make the same code. 100 rounds, each on a device of its own
// with three makers, run at once.
func TestStepLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	seed, err := mfa.ParseSeed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	keys := keystore.NewMemory()
	lockDir := t.TempDir()
	const rounds, makers = 100, 3
	codes := make([][]string, rounds)
	var wg sync.WaitGroup
	for round := range rounds {
		device := fmt.Sprintf("arn:aws:iam::123456789012:mfa/alice-%d", round)
		var mu sync.Mutex
		now := time.Date(2026, 11, 30, 8, 0, 5, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		sleep := func(_ context.Context, d time.Duration) error { mu.Lock(); now = now.Add(d); mu.Unlock(); return nil }
		arrived := make(chan struct{})
		codes[round] = make([]string, makers)
		for i := range makers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				g := &mfa.Generator{Steps: readBarrier{StepStore{Keys: keys, LockDir: lockDir}, arrived}, Now: clock, Sleep: sleep}
				codes[round][i], _ = g.Code(context.Background(), device, seed)
			}()
		}
	}
	wg.Wait()
	for round, made := range codes {
		seen := map[string]bool{}
		for _, c := range made {
			if c == "" || seen[c] {
				t.Fatalf("round %d: processes made codes %q: want %d different codes", round, made, makers)
			}
			seen[c] = true
		}
	}
}
