package keystore

import (
	"strings"
	"testing"
)

// TestBadKeyIDError: a malformed key id is quoted only when it has the
// form of one; anything else may be a secret pasted in its place, and no
// part of it is repeated.
func TestBadKeyIDError(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for _, tc := range []struct {
		name   string
		key    AccessKey
		want   string
		hidden string // no 8 characters in a row of it may show
	}{
		{"a key id too short", AccessKey{AccessKeyID: "AKIAIOSFODNN7EXAMPL", SecretAccessKey: secret},
			`"AKIAIOSFODNN7EXAMPL" is not an IAM access key id (AKIA followed by 16 capital letters and digits)`, secret},
		{"another kind of id", AccessKey{AccessKeyID: "AIDAJQABLZS4A3QDU576Q", SecretAccessKey: secret},
			`"AIDAJQABLZS4A3QDU576Q" is not an IAM access key id`, secret},
		{"the lines swapped", AccessKey{AccessKeyID: secret, SecretAccessKey: "AKIAIOSFODNN7EXAMPLE"},
			"the access key id given (40 characters, starting with a lowercase letter; not shown, in case it is a secret) is not an IAM access key id (AKIA followed by 16 capital letters and digits); the key id and the secret look swapped: give the key id first", secret},
		{"capitals and digits, too long for an id", AccessKey{AccessKeyID: "WJALRXUTNFEMI7K7MDENG9BPXRFICYEXAMPLEKEY"},
			"the access key id given (40 characters, starting with a capital letter; not shown", "WJALRXUTNFEMI7K7MDENG9BPXRFICYEXAMPLEKEY"},
		{"a secret starting with /", AccessKey{AccessKeyID: "/" + secret[1:]}, "starting with / or +", secret[1:]},
		{"lowercase", AccessKey{AccessKeyID: "akiaiosfodnn7example"}, "(20 characters, starting with a lowercase letter;", "akiaiosfodnn7example"},
		{"empty", AccessKey{}, "the access key id is empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := badKeyIDError(tc.key).Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			for i := 0; i+8 <= len(tc.hidden); i++ {
				if strings.Contains(msg, tc.hidden[i:i+8]) {
					t.Fatalf("error %q repeats %q of the input", msg, tc.hidden[i:i+8])
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := AccessKey{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	for _, tc := range []struct {
		name string
		key  AccessKey
		want string // "" for valid
	}{
		{"valid", good, ""},
		{"temporary", AccessKey{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: good.SecretAccessKey}, "starts with ASIA"},
		{"lowercase in id", AccessKey{AccessKeyID: "AKIAiOSFODNN7EXAMPLE", SecretAccessKey: good.SecretAccessKey}, "is not an IAM access key id"},
		{"short secret", AccessKey{AccessKeyID: good.AccessKeyID, SecretAccessKey: good.SecretAccessKey[:39]}, "(got 39 characters)"},
		{"secret with a space", AccessKey{AccessKeyID: good.AccessKeyID, SecretAccessKey: good.SecretAccessKey[:39] + " "}, "(got 40 characters)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.key.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.key.SecretAccessKey[:8]) {
				t.Fatalf("Validate = %v, want %q and no part of the secret", err, tc.want)
			}
		})
	}
}
