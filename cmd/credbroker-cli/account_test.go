package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"

	"github.com/credbroker/credbroker/mfa"
)

// TestRenderQR reads the half blocks back into modules: every module of
// the code is drawn as it is, with a light quiet zone of 4 modules
// around it.
func TestRenderQR(t *testing.T) {
	code, err := qr.Encode("otpauth://totp/Amazon%20Web%20Services:alice@111111111111?secret=JBSWY3DPEHPK3PXP", qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	size := code.Bounds().Dx()
	full := size + 2*qrQuietZone
	lines := strings.Split(strings.TrimSuffix(renderQR(code), "\n"), "\n")
	if len(lines) != (full+1)/2 {
		t.Fatalf("%d lines for %d rows of modules, want %d", len(lines), full, (full+1)/2)
	}
	light := make([][]bool, len(lines)*2)
	for i, line := range lines {
		body, pre := strings.CutPrefix(line, qrColours)
		body, post := strings.CutSuffix(body, qrReset)
		if !pre || !post {
			t.Fatalf("line %d is not in the QR colours: %q", i, line)
		}
		cells := []rune(body)
		if len(cells) != full {
			t.Fatalf("line %d is %d cells wide, want %d", i, len(cells), full)
		}
		light[2*i], light[2*i+1] = make([]bool, full), make([]bool, full)
		for x, c := range cells {
			light[2*i][x] = c == '█' || c == '▀'
			light[2*i+1][x] = c == '█' || c == '▄'
		}
	}
	for y := 0; y < full; y++ {
		for x := 0; x < full; x++ {
			want := true // the quiet zone
			if cx, cy := x-qrQuietZone, y-qrQuietZone; cx >= 0 && cy >= 0 && cx < size && cy < size {
				r, _, _, _ := code.At(cx, cy).RGBA()
				want = r >= 0x8000
			}
			if light[y][x] != want {
				t.Fatalf("module (%d,%d) is drawn light=%v, want %v", x, y, light[y][x], want)
			}
		}
	}
}

// TestOtpauthURI: the URI drawn for a phone is a seed credbroker itself
// accepts, with AWS's parameters, and makes the same codes as the seed.
func TestOtpauthURI(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	uri := otpauthURI(secret, "alice", "arn:aws:iam::111111111111:user/alice")
	if !strings.HasPrefix(uri, "otpauth://totp/Amazon%20Web%20Services:alice@111111111111?") {
		t.Fatalf("label of %s", uri)
	}
	seed, err := mfa.ParseSeed(uri)
	if err != nil || !seed.AWSCompatible() {
		t.Fatalf("ParseSeed(uri): %v, AWS compatible: %v", err, seed.AWSCompatible())
	}
	bare, _ := mfa.ParseSeed(secret)
	now := time.Now()
	a, _ := seed.Code(now)
	b, _ := bare.Code(now)
	if a != b {
		t.Fatal("the URI's seed makes other codes than the secret")
	}
}

func TestUserNameOf(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:user/alice":            "alice",
		"arn:aws-cn:iam::123456789012:user/team/bob":      "bob",
		"arn:aws:iam::123456789012:root":                  "",
		"arn:aws:sts::123456789012:assumed-role/Admin/s1": "",
		"not an arn": "",
	} {
		if got := userNameOf(arn); got != want {
			t.Errorf("userNameOf(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestFederatedName(t *testing.T) {
	for user, want := range map[string]string{
		"alice":                 "alice",
		"a":                     "a-credbroker",
		strings.Repeat("x", 64): strings.Repeat("x", 32),
	} {
		if got := federatedName(user); got != want {
			t.Errorf("federatedName(%q) = %q, want %q", user, got, want)
		}
	}
}

// TestOneTimeRedirect: the browser's address redirects to the sign-in
// once, and nothing else does.
func TestOneTimeRedirect(t *testing.T) {
	const signin = "https://signin.example/federation?Action=login&SigninToken=t"
	one, srv, err := serveOneTimeRedirect(signin)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	base := strings.TrimSuffix(one.url, one.path)
	if st, _ := get(base + "/"); st != http.StatusNotFound {
		t.Fatalf("another path: HTTP %d, want 404", st)
	}
	if st, loc := get(one.url); st != http.StatusFound || loc != signin {
		t.Fatalf("the one-time address: HTTP %d to %q, want a redirect to the sign-in", st, loc)
	}
	select {
	case <-one.served:
	default:
		t.Fatal("served is not closed after the redirect")
	}
	if st, loc := get(one.url); st != http.StatusGone || loc != "" {
		t.Fatalf("the one-time address again: HTTP %d to %q, want 410", st, loc)
	}
}
