package main

import (
	"strings"
	"testing"

	"github.com/credbroker/credbroker/keystore"
)

// TestBadKeyIDError: a malformed key id is quoted only when it has the
// form of one; anything else may be a secret pasted in its place, and no
// part of it is repeated.
func TestBadKeyIDError(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for _, tc := range []struct {
		name   string
		key    keystore.AccessKey
		want   string
		hidden string // no 8 characters in a row of it may show
	}{
		{"a key id too short", keystore.AccessKey{AccessKeyID: "AKIAIOSFODNN7EXAMPL", SecretAccessKey: secret},
			`"AKIAIOSFODNN7EXAMPL" is not an IAM access key id (AKIA followed by 16 capital letters and digits)`, secret},
		{"another kind of id", keystore.AccessKey{AccessKeyID: "AIDAJQABLZS4A3QDU576Q", SecretAccessKey: secret},
			`"AIDAJQABLZS4A3QDU576Q" is not an IAM access key id`, secret},
		{"the lines swapped", keystore.AccessKey{AccessKeyID: secret, SecretAccessKey: "AKIAIOSFODNN7EXAMPLE"},
			"the access key id given (40 characters, starting with a lowercase letter; not shown, in case it is a secret) is not an IAM access key id (AKIA followed by 16 capital letters and digits); the key id and the secret look swapped: give the key id first", secret},
		{"capitals and digits, too long for an id", keystore.AccessKey{AccessKeyID: "WJALRXUTNFEMI7K7MDENG9BPXRFICYEXAMPLEKEY"},
			"the access key id given (40 characters, starting with a capital letter; not shown", "WJALRXUTNFEMI7K7MDENG9BPXRFICYEXAMPLEKEY"},
		{"a secret starting with /", keystore.AccessKey{AccessKeyID: "/" + secret[1:]}, "starting with / or +", secret[1:]},
		{"lowercase", keystore.AccessKey{AccessKeyID: "akiaiosfodnn7example"}, "(20 characters, starting with a lowercase letter;", "akiaiosfodnn7example"},
		{"empty", keystore.AccessKey{}, "the access key id is empty", ""},
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
