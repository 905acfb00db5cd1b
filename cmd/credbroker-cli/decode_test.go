package main

import (
	"strings"
	"testing"
)

// TestEncodedMessage: the message alone, or found in an AccessDenied
// message as the AWS CLI, an SDK or credbroker print it (a hint may
// follow); what cannot be one is refused before STS is asked.
func TestEncodedMessage(t *testing.T) {
	const enc = "kSiD9jpVcEvrmEzOKOu2KNNV_xM5sJ-LUmEvb72"
	for _, tc := range []struct {
		name, text, want, err string
	}{
		{"alone", enc, enc, ""},
		{"with a newline", "  " + enc + "\n", enc, ""},
		{"AWS CLI", "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/Admin. Encoded authorization failure message: " + enc, enc, ""},
		{"credbroker, hint after", "credbroker: error: profile p: AssumeRole X: AccessDenied: User: u is not authorized. Encoded authorization failure message: " + enc + "\ncredbroker: hint: check the role's trust policy\n", enc, ""},
		{"a final period", "Encoded authorization failure message: " + enc + ".", enc, ""},
		{"empty", " \n", "", "no encoded message"},
		{"marker, nothing after", "Encoded authorization failure message: ", "", "no encoded message"},
		{"several words", "not a message", "", "one word"},
		{"too long", strings.Repeat("A", maxEncodedMessage+1), "", "at most 10240"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodedMessage(tc.text)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("encodedMessage = %q, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("encodedMessage = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
