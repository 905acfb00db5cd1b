package mfa

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// b32pad is the padded encoding, for building test inputs.
var b32pad = base32.StdEncoding

// RFC 6238 Appendix B: the seeds are the ASCII strings below (20, 32 and 64 bytes for
// SHA1, SHA256 and SHA512), 8 digits, 30 s steps.
func TestCodeRFC6238Vectors(t *testing.T) {
	t.Parallel()
	seeds := map[string]string{
		"SHA1":   "12345678901234567890",
		"SHA256": "12345678901234567890123456789012",
		"SHA512": "1234567890123456789012345678901234567890123456789012345678901234",
	}
	vectors := []struct {
		unix int64
		want map[string]string
	}{
		{59, map[string]string{"SHA1": "94287082", "SHA256": "46119246", "SHA512": "90693936"}},
		{1111111109, map[string]string{"SHA1": "07081804", "SHA256": "68084774", "SHA512": "25091201"}},
		{1111111111, map[string]string{"SHA1": "14050471", "SHA256": "67062674", "SHA512": "99943326"}},
		{1234567890, map[string]string{"SHA1": "89005924", "SHA256": "91819424", "SHA512": "93441116"}},
		{2000000000, map[string]string{"SHA1": "69279037", "SHA256": "90698825", "SHA512": "38618901"}},
		{20000000000, map[string]string{"SHA1": "65353130", "SHA256": "77737706", "SHA512": "47863826"}},
	}
	for _, algorithm := range []string{"SHA1", "SHA256", "SHA512"} {
		uri := "otpauth://totp/RFC6238:test?secret=" + b32.EncodeToString([]byte(seeds[algorithm])) +
			"&algorithm=" + algorithm + "&digits=8&period=30"
		seed, err := ParseSeed(uri)
		if err != nil {
			t.Fatalf("%s: ParseSeed: %v", algorithm, err)
		}
		for _, v := range vectors {
			t.Run(fmt.Sprintf("%s/T=%d", algorithm, v.unix), func(t *testing.T) {
				t.Parallel()
				at := time.Unix(v.unix, 0).UTC()
				got, err := seed.Code(at)
				if err != nil {
					t.Fatalf("Code: %v", err)
				}
				// The RFC's seeds and codes are public; still, the codes are not
				// printed, as the project's rule for codes in test output says.
				if got != v.want[algorithm] {
					t.Errorf("code differs from RFC 6238 Appendix B (got %d digits)", len(got))
				}
				if step, want := seed.Step(at), uint64(v.unix/30); step != want {
					t.Errorf("Step = %d, want %d", step, want)
				}
			})
		}
	}
}

// randomSecret returns a fresh random base32 secret of n bytes, canonical form.
func randomSecret(t *testing.T, n int) string {
	t.Helper()
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return b32.EncodeToString(raw)
}

func TestParseSeedAccepts(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t, 20) // 32 characters, no padding needed
	secret10 := randomSecret(t, 10)
	secret16 := randomSecret(t, 16) // 26 characters: padded form ends in "======"
	padded16 := b32pad.EncodeToString(mustDecode(t, secret16))
	spaced := func(s string) string {
		var b strings.Builder
		for i, c := range s {
			if i > 0 && i%4 == 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	tests := []struct {
		name      string
		input     string
		secret    string
		algorithm string
		digits    int
		period    time.Duration
	}{
		{"upper", secret, secret, "SHA1", 6, 30 * time.Second},
		{"lower", strings.ToLower(secret), secret, "SHA1", 6, 30 * time.Second},
		{"spaces in groups of 4", spaced(strings.ToLower(secret)), secret, "SHA1", 6, 30 * time.Second},
		{"80 bits is the minimum", secret10, secret10, "SHA1", 6, 30 * time.Second},
		{"padding", padded16, secret16, "SHA1", 6, 30 * time.Second},
		{"partial padding", secret16 + "==", secret16, "SHA1", 6, 30 * time.Second},
		{"trailing newline and blanks", "  " + secret + " \r\n", secret, "SHA1", 6, 30 * time.Second},
		{"uri defaults", "otpauth://totp/AWS:alice?secret=" + secret + "&issuer=AWS", secret, "SHA1", 6, 30 * time.Second},
		{"uri without label", "otpauth://totp?secret=" + secret, secret, "SHA1", 6, 30 * time.Second},
		{"uri explicit", "otpauth://totp/x?secret=" + secret + "&algorithm=SHA1&digits=6&period=30", secret, "SHA1", 6, 30 * time.Second},
		{"uri sha256 8 digits", "otpauth://totp/x?secret=" + secret + "&algorithm=SHA256&digits=8", secret, "SHA256", 8, 30 * time.Second},
		{"uri sha512 period 60", "otpauth://totp/x?algorithm=sha512&period=60&secret=" + strings.ToLower(secret), secret, "SHA512", 6, 60 * time.Second},
		{"uri upper-case scheme and type", "OTPAUTH://TOTP/x?secret=" + secret, secret, "SHA1", 6, 30 * time.Second},
		{"uri padded secret", "otpauth://totp/x?secret=" + strings.ReplaceAll(padded16, "=", "%3D"), secret16, "SHA1", 6, 30 * time.Second},
		{"uri period 1", "otpauth://totp/x?secret=" + secret + "&period=1", secret, "SHA1", 6, time.Second},
		{"uri period 300", "otpauth://totp/x?secret=" + secret + "&period=300", secret, "SHA1", 6, 300 * time.Second},
		{"exactly 4 KiB with blanks", secret + strings.Repeat(" ", 4096-len(secret)), secret, "SHA1", 6, 30 * time.Second},
		{"uri trailing newline", "otpauth://totp/x?secret=" + secret + "\n", secret, "SHA1", 6, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSeed(tc.input)
			if err != nil {
				t.Fatalf("ParseSeed refused: %v", err)
			}
			if s.secret.Value() != tc.secret {
				t.Error("secret is not the canonical form of the input's secret")
			}
			if s.algorithm.String() != tc.algorithm || int(s.digits) != tc.digits || s.Period() != tc.period {
				t.Errorf("got %v, want %s, %d digits, %s", s, tc.algorithm, tc.digits, tc.period)
			}
			back, err := ParseSeed(s.Encode())
			if err != nil {
				t.Fatalf("ParseSeed(Encode()): %v", err)
			}
			if back != s {
				t.Errorf("ParseSeed(Encode()) = %v, want %v", back, s)
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	raw, err := b32.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParseSeedCanonicalEquality(t *testing.T) {
	t.Parallel()
	// 26 characters carry 130 bits for 16 bytes: the last character's 2 low bits are
	// unused, so "...A" and "...D" (0b00000 and 0b00011) are one secret.
	base := strings.Repeat("A", 25)
	a, err := ParseSeed(base + "A")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseSeed(base + "D")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two spellings of the same secret bytes give different Seeds")
	}
	c, err := ParseSeed(base + "E") // 0b00100: a different last byte
	if err != nil {
		t.Fatal(err)
	}
	if a == c {
		t.Error("different secrets give equal Seeds")
	}
	other, err := ParseSeed("otpauth://totp/x?secret=" + base + "A&digits=8")
	if err != nil {
		t.Fatal(err)
	}
	if a == other {
		t.Error("Seeds with different digits are equal")
	}
}

func TestParseSeedRefuses(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t, 20)
	uri := func(query string) string { return "otpauth://totp/AWS:alice?" + query }
	tests := []struct {
		name  string
		input string
		// what the error must say (lower-case fragment)
		want string
	}{
		{"empty", "", "empty"},
		{"blank", " \t\n ", "empty"},
		{"too long", strings.Repeat(secret, 4097/len(secret)+1), "longer than 4 kib"},
		{"4 KiB and one byte of blanks", secret + strings.Repeat(" ", 4097-len(secret)), "longer than 4 kib"},
		{"two lines", secret + "\n" + secret, "several lines"},
		{"two lines crlf", secret + "\r\n" + randomSecret(t, 20), "several lines"},
		{"bad base32 letter", secret[:20] + "1" + secret[21:], "not base32"},
		{"bad base32 punctuation", secret[:20] + "-" + secret[21:], "not base32"},
		{"non-ascii", secret[:20] + "é" + secret[21:], "not base32"},
		{"hex secret", "3132333435363738393031323334353637383930", "not base32"},
		{"padding in the middle", secret[:16] + "=" + secret[16:], "padding before its end"},
		{"too much padding", secret + "=======", "more '=' padding"},
		{"impossible length 1 mod 8", secret[:17], "length"},
		{"impossible length 3 mod 8", secret[:19], "length"},
		{"impossible length 6 mod 8", secret[:22], "length"},
		{"impossible length with padding", secret[:17] + "=======", "padding"},
		{"too short", randomSecret(t, 9), "shorter than 80 bits"},
		{"http uri", "https://example.com/?secret=" + secret, "not an otpauth"},
		{"hotp", "otpauth://hotp/AWS:alice?secret=" + secret + "&counter=1", "hotp"},
		{"other type", "otpauth://motp/AWS:alice?secret=" + secret, "not of type totp"},
		{"opaque uri", "otpauth:totp?secret=" + secret, "well-formed"},
		{"malformed uri", "otpauth://totp/%zz?secret=" + secret, "well-formed"},
		{"malformed query", uri("secret=" + secret + "&x=%zz"), "malformed query"},
		{"no secret", uri("issuer=AWS&digits=6"), "no secret"},
		{"empty secret", uri("secret=&issuer=AWS"), "no secret"},
		{"secret twice", uri("secret=" + secret + "&secret=" + secret), "more than once"},
		{"bad secret in uri", uri("secret=" + secret[:20] + "0" + secret[21:]), "secret parameter is not base32"},
		{"short secret in uri", uri("secret=" + randomSecret(t, 5)), "secret parameter is shorter"},
		{"md5", uri("secret=" + secret + "&algorithm=MD5"), "algorithm"},
		{"unknown algorithm", uri("secret=" + secret + "&algorithm=SHA3-256"), "algorithm"},
		{"digits 7", uri("secret=" + secret + "&digits=7"), "digits"},
		{"digits 10", uri("secret=" + secret + "&digits=10"), "digits"},
		{"digits word", uri("secret=" + secret + "&digits=six"), "digits"},
		{"period 0", uri("secret=" + secret + "&period=0"), "period is not a positive"},
		{"period negative", uri("secret=" + secret + "&period=-30"), "period is not a positive"},
		{"period fraction", uri("secret=" + secret + "&period=30.5"), "period is not a positive"},
		{"period absurd", uri("secret=" + secret + "&period=86400"), "longer than 300"},
		{"period overflow", uri("secret=" + secret + "&period=99999999999999999999999"), "longer than 300"},
		{"steam encoder", uri("secret=" + secret + "&encoder=steam"), "encoder"},
		{"two uris", uri("secret="+secret) + "\n" + uri("secret="+secret), "several lines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSeed(tc.input)
			if err == nil {
				t.Fatalf("ParseSeed accepted the input, gave %v", s)
			}
			msg := err.Error()
			// Checked before anything prints msg: the test must not log a secret either.
			if in := strings.TrimSpace(tc.input); in != "" && strings.Contains(msg, in) {
				t.Fatal("error contains the input")
			}
			for _, frag := range []string{secret, strings.ToLower(secret), secret[:8], secret[len(secret)-8:]} {
				if strings.Contains(msg, frag) {
					t.Fatal("error contains part of the secret")
				}
			}
			if s != (Seed{}) {
				t.Error("a refused input returned a non-zero Seed")
			}
			if !errors.Is(err, ErrInvalidSeed) {
				t.Errorf("error does not wrap ErrInvalidSeed: %v", err)
			}
			if !strings.Contains(strings.ToLower(msg), tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			// Every refusal says what is accepted.
			if !strings.Contains(msg, "base32") && !strings.Contains(msg, "accepted: otpauth://totp/") {
				t.Errorf("error %q does not say what is accepted", msg)
			}
			if msg != strings.TrimSpace(msg) || strings.HasSuffix(msg, ".") || msg[0] != strings.ToLower(msg[:1])[0] {
				t.Errorf("error %q is not a lower-case message without a final period", msg)
			}
		})
	}
}

func TestSeedZeroValue(t *testing.T) {
	t.Parallel()
	var s Seed
	if _, err := s.Code(time.Unix(1e9, 0)); err == nil {
		t.Error("Code on the zero Seed succeeded")
	}
	if s.Encode() != "" {
		t.Error("Encode of the zero Seed is not empty")
	}
	if s.Step(time.Unix(1e9, 0)) != 0 || s.Period() != 0 {
		t.Error("zero Seed has a step or period")
	}
	if got := fmt.Sprint(s); got != "mfa.Seed{}" {
		t.Errorf("zero Seed prints %q", got)
	}
}

func TestSeedBeforeEpoch(t *testing.T) {
	t.Parallel()
	s, err := ParseSeed(randomSecret(t, 20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Code(time.Unix(-1, 0)); err == nil {
		t.Error("Code before 1970 succeeded")
	}
	if got := s.Step(time.Unix(-31, 0)); got != 0 {
		t.Errorf("Step before 1970 = %d, want 0", got)
	}
	for _, tc := range []struct {
		unix int64
		want uint64
	}{{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2}} {
		if got := s.Step(time.Unix(tc.unix, 999_999_999)); got != tc.want {
			t.Errorf("Step(%d.999s) = %d, want %d", tc.unix, got, tc.want)
		}
	}
}

func TestSeedNeverPrintsSecret(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t, 20)
	raw := mustDecode(t, secret)
	for _, input := range []string{
		secret,
		"otpauth://totp/x?secret=" + secret + "&algorithm=SHA512&digits=8&period=60",
	} {
		s, err := ParseSeed(input)
		if err != nil {
			t.Fatal(err)
		}
		type holder struct {
			seed   Seed // unexported: fmt cannot call Seed's methods here
			Public Seed
		}
		type ptrHolder struct{ seed *Seed }
		values := []any{s, &s, []Seed{s}, map[string]Seed{"k": s}, holder{s, s}, &holder{s, s}, ptrHolder{&s}, [1]Seed{s}}
		forbidden := []string{
			secret, strings.ToLower(secret), secret[:10],
			fmt.Sprintf("%x", raw), fmt.Sprintf("%X", raw), string(raw),
			fmt.Sprint(raw), fmt.Sprint([]byte(secret)),
		}
		for _, v := range values {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
				out := fmt.Sprintf(verb, v)
				for _, f := range forbidden {
					if strings.Contains(out, f) {
						t.Errorf("fmt %s of %T prints the secret", verb, v)
					}
				}
			}
		}
	}
	s, err := ParseSeed(secret)
	if err != nil {
		t.Fatal(err)
	}
	want := "mfa.Seed{SHA1, 6 digits, 30s}"
	for _, got := range []string{s.String(), s.GoString(), fmt.Sprintf("%v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%s", s)} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	s, err = ParseSeed("otpauth://totp/x?secret=" + secret + "&algorithm=SHA256&digits=8&period=60")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "mfa.Seed{SHA256, 8 digits, 1m0s}"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func ExampleParseSeed() {
	// A well-known demo secret, never a real device's.
	seed, err := ParseSeed("jbsw y3dp ehpk 3pxp")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(seed)
	fmt.Println(seed.Step(time.Unix(59, 0)), seed.Step(time.Unix(60, 0)))

	_, err = ParseSeed("otpauth://hotp/demo?secret=JBSWY3DPEHPK3PXP")
	fmt.Println(err)
	// Output:
	// mfa.Seed{SHA1, 6 digits, 30s}
	// 1 2
	// invalid totp seed: otpauth://hotp (counter-based HOTP) is not supported, AWS virtual MFA devices are time-based; accepted: otpauth://totp/LABEL?secret=BASE32 with optional algorithm=SHA1|SHA256|SHA512, digits=6|8 and period=1-300 (seconds)
}

func TestAWSCompatible(t *testing.T) {
	t.Parallel()
	for input, want := range map[string]bool{
		"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP": true,
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30": true,
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA256":                  false,
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=8":                          false,
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&period=60":                         false,
	} {
		s, err := ParseSeed(input)
		if err != nil {
			t.Fatal(err)
		}
		if s.AWSCompatible() != want {
			t.Errorf("%v: AWSCompatible = %v, want %v", s, !want, want)
		}
	}
}
