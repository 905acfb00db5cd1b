//go:build unix

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/credbroker/credbroker/wire"
)

func TestRunMFAProcess(t *testing.T) {
	// A made-up seed: oathtool's code for it is the one TOTP gives.
	const seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	oathtool := needTool(t, "oathtool", "oathtool")
	t.Setenv(wire.PassphraseVar, "not for children")
	for _, tc := range []struct {
		name, command, want, err string
	}{
		{"oathtool", oathtool + " --totp -b " + seed, "totp", ""},
		{"white space trimmed", `printf '  123456 \n\n'`, "123456", ""},
		{"the keyring passphrase is not passed on", `[ -z "$` + wire.PassphraseVar + `" ] && echo 654321`, "654321", ""},
		{"not a code", "echo 12345", "", "profile p: mfa_process printed something other than a 6-digit MFA code on its standard output"},
		{"a code among other words", "echo code: 123456", "", "printed something other than a 6-digit MFA code"},
		{"failed", "echo 123456; exit 3", "", "profile p: mfa_process failed: exit status 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			a := &app{stderr: &stderr}
			want := tc.want
			if want == "totp" {
				// Read the time step before and after: a step that turned
				// in between may give either code.
				before, _ := totp.GenerateCode(seed, time.Now())
				got, err := a.runMFAProcess(context.Background(), "p", tc.command)
				after, _ := totp.GenerateCode(seed, time.Now())
				if err != nil || (got != before && got != after) {
					t.Fatalf("got %q, %v; want %s or %s", got, err, before, after)
				}
				return
			}
			got, err := a.runMFAProcess(context.Background(), "p", tc.command)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want %q", err, tc.err)
			case tc.err != "" && strings.Contains(err.Error(), "123456"):
				t.Fatalf("err = %v: what the process printed is echoed", err)
			case tc.err == "" && (err != nil || got != want):
				t.Fatalf("got %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestMFACodeFlag(t *testing.T) {
	var f mfaCodeFlag
	for _, bad := range []string{"12345", "1234567", "12345a", " 123456", ""} {
		if err := f.Set(bad); err == nil || err.Error() != "an MFA code is 6 digits" {
			t.Errorf("Set(%q) = %v", bad, err)
		}
	}
	if err := f.Set("012345"); err != nil || string(f) != "012345" || f.String() != "" {
		t.Errorf("Set(012345): %v, %q, shown back as %q", err, f, f.String())
	}
}
