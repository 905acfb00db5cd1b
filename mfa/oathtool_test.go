package mfa

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// oathtoolCode runs oathtool (from the OATH Toolkit, an implementation independent of
// github.com/pquerna/otp) for the base32 secret at t. The secret goes through stdin
// ("-" as the key), never the command line.
func oathtoolCode(t *testing.T, secret string, at time.Time, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		t.Fatal("oathtool is not installed: install the Debian package oathtool (apt-get install oathtool)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// oathtool refuses --totp given twice, so the plain one is added only when the
	// caller chose no hash.
	mode := []string{"--totp"}
	for _, a := range args {
		if strings.HasPrefix(a, "--totp=") {
			mode = nil
		}
	}
	args = append(append(mode, "-b", "--now", at.UTC().Format("2006-01-02 15:04:05 UTC")), args...)
	cmd := exec.CommandContext(ctx, path, append(args, "-")...)
	cmd.Stdin = strings.NewReader(secret + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// stderr is not printed: oathtool may quote what it read on stdin.
		t.Fatalf("oathtool %s: %v (%d bytes on stderr)", strings.Join(args, " "), err, stderr.Len())
	}
	return strings.TrimSpace(stdout.String())
}

func TestCodeMatchesOathtool(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		time.Unix(0, 0),
		time.Unix(29, 0), // last second of step 0
		time.Unix(30, 0), // first second of step 1
		time.Unix(59, 0),
		time.Unix(60, 0),
		time.Date(2009, 2, 13, 23, 31, 29, 0, time.UTC), // 1234567889
		time.Date(2009, 2, 13, 23, 31, 30, 0, time.UTC), // step boundary
		time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC),
		time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC), // past the 32-bit time_t limit
	}
	type seedCase struct {
		name  string
		input string   // what ParseSeed gets
		args  []string // oathtool's options for the same parameters
	}
	var cases []seedCase
	for _, n := range []int{10, 20, 32} {
		secret := randomSecret(t, n)
		cases = append(cases, seedCase{
			name:  fmt.Sprintf("bare %d bytes", n),
			input: " " + strings.ToLower(secret[:8]) + " " + secret[8:] + "\n",
		})
	}
	for _, c := range []struct {
		query string
		args  []string
	}{
		{"&algorithm=SHA256&digits=8", []string{"--totp=sha256", "--digits=8"}},
		{"&algorithm=SHA512&digits=6&period=60", []string{"--totp=sha512", "--digits=6", "--time-step-size=60s"}},
		{"&algorithm=SHA1&digits=8&period=45", []string{"--digits=8", "--time-step-size=45s"}},
	} {
		cases = append(cases, seedCase{
			name:  "uri" + c.query,
			input: "otpauth://totp/Test:alice?secret=" + randomSecret(t, 20) + c.query,
			args:  c.args,
		})
	}
	for _, sc := range cases {
		seed, err := ParseSeed(sc.input)
		if err != nil {
			t.Fatalf("%s: ParseSeed: %v", sc.name, err)
		}
		for _, at := range times {
			t.Run(sc.name+"/"+at.UTC().Format(time.RFC3339), func(t *testing.T) {
				t.Parallel()
				got, err := seed.Code(at)
				if err != nil {
					t.Fatalf("Code: %v", err)
				}
				want := oathtoolCode(t, seed.secret.Value(), at, sc.args...)
				if got != want {
					// Neither code is printed (project rule), only their shapes.
					t.Errorf("code differs from oathtool's (got %d digits, oathtool %d)", len(got), len(want))
				}
			})
		}
	}
}
