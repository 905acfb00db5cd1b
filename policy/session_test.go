package policy

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// padTo pads a policy with spaces (inside the JSON) to n characters.
func padTo(doc string, n int) string {
	return doc[:len(doc)-1] + strings.Repeat(" ", n-utf8.RuneCountInString(doc)) + "}"
}

func TestCheckSessionPolicy(t *testing.T) {
	small := doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/*"))
	tests := []struct {
		name    string
		doc     string
		wantErr error
		msg     string // part of the message
	}{
		{name: "Small", doc: small},
		{name: "Exactly2048", doc: padTo(small, 2048)},
		{name: "2049WhitespaceCounts", doc: padTo(small, 2049), wantErr: ErrSessionPolicyTooLong, msg: "it has 2049 characters, whitespace included"},
		{name: "CharactersNotBytes", doc: padTo(strings.Replace(small, "bucket", "bücket", 1), 2048)}, // 2049 bytes
		{name: "OutsideLatin1", doc: strings.Replace(small, "bucket", "b€cket", 1), wantErr: ErrSessionPolicyInvalid, msg: "1:109: character U+20AC"},
		{name: "DoesNotParse", doc: `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Actions": "*"}}`, wantErr: ErrSessionPolicyInvalid, msg: `unknown element "Actions"`},
		{name: "Principal", doc: doc(stmt(`"Effect":"Allow"`, `"Principal":"*"`, `"Action":"s3:GetObject"`, `"Resource":"*"`)), wantErr: ErrSessionPolicyInvalid, msg: "cannot have a Principal"},
		{name: "LintError", doc: doc(allowStmt("s3:GetObject", "arn:aws:s3:::b/${aws:usernme}/*")), wantErr: ErrSessionPolicyInvalid, msg: "aws:usernme is not a known global condition key"},
		// A session policy only narrows: what it "grants" is not a risk.
		{name: "GrantRiskIgnored", doc: doc(allowStmt("*", "*"), allowStmt("iam:PassRole", "*"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSessionPolicy([]byte(tt.doc))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}
