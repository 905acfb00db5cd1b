package profile

import (
	"strings"
	"testing"
	"time"
)

// resolveText resolves name in a credbroker file holding text, with every
// profile's key stored.
func resolveText(t *testing.T, text, name string) (*RoleChain, error) {
	t.Helper()
	cfg, err := ParseConfig("/etc/credbroker/config", strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"base"}, nil }, Getenv: func(string) string { return "" }}
	return r.Resolve(name)
}

func TestSourceIdentity(t *testing.T) {
	t.Parallel()
	chain, err := resolveText(t, `[profile base]
[profile prod]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = base
source_identity = alice@example.com
`, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if got := chain.Steps[0].SourceIdentity; got != "alice@example.com" {
		t.Errorf("SourceIdentity = %q", got)
	}
	for _, bad := range []string{"a", "aws:alice", "alice smith", strings.Repeat("x", 65)} {
		_, err := ParseConfig("/etc/credbroker/config", strings.NewReader("[profile p]\nsource_identity = "+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), "source_identity") || !strings.Contains(err.Error(), "2 to 64 characters") {
			t.Errorf("source_identity = %q: err = %v, want one line naming the key and the rule", bad, err)
		}
	}
}

func TestFIDOSerialRefused(t *testing.T) {
	t.Parallel()
	// The form IAM's ListMFADevices gives a FIDO security key.
	const fido = "arn:aws:iam::123456789012:u2f/user/Bob/fidosecuritykey1-7XNL7NFNLZ123456789EXAMPLE"
	_, err := ParseConfig("/etc/credbroker/config", strings.NewReader("[profile base]\nmfa_serial = "+fido+"\n"))
	if err == nil || !strings.Contains(err.Error(), "FIDO security key") || !strings.Contains(err.Error(), "only virtual and hardware TOTP devices") ||
		!strings.HasPrefix(err.Error(), "/etc/credbroker/config:2: ") {
		t.Fatalf("err = %v", err)
	}
	// In ~/.aws/config the profile is refused when resolved, the others work.
	cfg, err := ParseAWSConfig("/home/u/.aws/config", strings.NewReader("[profile base]\nmfa_serial = "+fido+"\n[profile other]\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"base", "other"}, nil }, Getenv: func(string) string { return "" }}
	if _, err := r.Resolve("base"); err == nil || !strings.Contains(err.Error(), "FIDO security key") {
		t.Errorf("base: err = %v", err)
	}
	if _, err := r.Resolve("other"); err != nil {
		t.Errorf("other: %v", err)
	}
}

func TestMFARoleOverAnHour(t *testing.T) {
	t.Parallel()
	const text = `[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
mfa_process = oathtool --totp -b SEED
[profile long]
role_arn = arn:aws:iam::210987654321:role/Long
source_profile = base
duration_seconds = 43200
[profile short]
role_arn = arn:aws:iam::210987654321:role/Short
source_profile = base
duration_seconds = 3600
[profile onlong]
role_arn = arn:aws:iam::210987654321:role/OnLong
source_profile = long
`
	for _, tc := range []struct {
		profile      string
		sessionToken bool
		mfa          []bool
		durations    []time.Duration
	}{
		// One AssumeRole with the code, for 12 h.
		{"long", false, []bool{true}, []time.Duration{12 * time.Hour}},
		// The shared MFA session, then an hour.
		{"short", true, []bool{false}, []time.Duration{time.Hour}},
		// The long role with the code, then a chained hour.
		{"onlong", false, []bool{true, false}, []time.Duration{12 * time.Hour, time.Hour}},
	} {
		chain, err := resolveText(t, text, tc.profile)
		if err != nil {
			t.Fatalf("%s: %v", tc.profile, err)
		}
		if chain.SessionToken != tc.sessionToken || chain.MFASerial != "arn:aws:iam::123456789012:mfa/alice" || chain.MFAProcess != "oathtool --totp -b SEED" {
			t.Errorf("%s: SessionToken %v, MFASerial %q, MFAProcess %q", tc.profile, chain.SessionToken, chain.MFASerial, chain.MFAProcess)
		}
		for i, st := range chain.Steps {
			if st.MFA != tc.mfa[i] || st.Duration != tc.durations[i] || st.Clamped {
				t.Errorf("%s: step %d: MFA %v, duration %s, clamped %v", tc.profile, i, st.MFA, st.Duration, st.Clamped)
			}
		}
	}
}
