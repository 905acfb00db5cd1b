package keystore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// AccessKey is the long-lived IAM access key pair of a profile.
//
// Printing an AccessKey with any fmt verb, or logging it with log/slog, shows
// only the last four characters of the access key id (as aws-vault's
// FormatKeyForDisplay does), never the secret access key. encoding/json still
// encodes both fields: that is the stored form.
type AccessKey struct {
	AccessKeyID     string
	SecretAccessKey string
}

// String returns e.g. "AccessKey{****************ABCD}".
func (k AccessKey) String() string {
	return "AccessKey{" + maskID(k.AccessKeyID) + "}"
}

// GoString makes %#v as safe as %v.
func (k AccessKey) GoString() string { return k.String() }

// Format makes every verb (%v %+v %#v %s %q %x ...) print the masked form:
// without it, %x or %+v would print the fields raw.
func (k AccessKey) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, k.String())
}

// LogValue keeps the secret out of slog output, JSON handlers included.
func (k AccessKey) LogValue() slog.Value {
	return slog.StringValue(k.String())
}

// maskID keeps the last four characters, enough to tell keys apart and to
// match the "Access key ID" column of the IAM console.
func maskID(id string) string {
	const stars = "****************"
	if len(id) <= 4 {
		return stars
	}
	return stars + id[len(id)-4:]
}

// Validate checks the form of a long-lived IAM user key before anything
// talks to STS: the id is AKIA and 16 capital letters and digits (ASIA
// keys are temporary and need a session token); the secret is 40
// characters of base64. An error never repeats any part of the secret,
// nor of an id that may be a secret pasted in its place. No regexp: this
// runs in a command's start-up, and compiling one costs more than the
// check.
func (k AccessKey) Validate() error {
	if strings.HasPrefix(k.AccessKeyID, "ASIA") {
		return errors.New("access key id starts with ASIA: that is a temporary key; store a long-lived IAM user key (AKIA...)")
	}
	if !isLongLivedKeyID(k.AccessKeyID) {
		return badKeyIDError(k)
	}
	if !isSecretKey(k.SecretAccessKey) {
		// Never echo the secret, not even part of it.
		return fmt.Errorf("the secret access key is not 40 characters of letters, digits, / and + (got %d characters)", len(k.SecretAccessKey))
	}
	return nil
}

// isLongLivedKeyID: ^AKIA[A-Z0-9]{16}$.
func isLongLivedKeyID(s string) bool {
	return len(s) == 20 && strings.HasPrefix(s, "AKIA") && looksLikeKeyID(s)
}

// isSecretKey: ^[A-Za-z0-9/+]{40}$.
func isSecretKey(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '/' && c != '+' {
			return false
		}
	}
	return true
}

// badKeyIDError says what is wrong with k's access key id. The id is
// quoted only when it has the form of an access key id (capitals and
// digits, 16 to 32 of them: an id of another kind, or mistyped): anything
// else may be the secret, pasted first by mistake, and not one character
// of it is repeated, only its length and what it starts with.
func badKeyIDError(k AccessKey) error {
	const want = "is not an IAM access key id (AKIA followed by 16 capital letters and digits)"
	id := k.AccessKeyID
	if looksLikeKeyID(id) {
		return fmt.Errorf("%q %s", id, want)
	}
	if id == "" {
		return errors.New("the access key id is empty")
	}
	msg := fmt.Sprintf("the access key id given (%d characters, starting with %s; not shown, in case it is a secret) %s", len(id), charClass(id[0]), want)
	if isLongLivedKeyID(k.SecretAccessKey) {
		msg += "; the key id and the secret look swapped: give the key id first"
	}
	return errors.New(msg)
}

// looksLikeKeyID reports whether s has the form of an access key id of
// any kind, ^[A-Z0-9]{16,32}$ (AWS issues 20 capitals and digits). No
// regexp: a bounded repeat costs its compilation in every process start.
func looksLikeKeyID(s string) bool {
	if len(s) < 16 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// charClass names the kind of character c is, in words.
func charClass(c byte) string {
	switch {
	case c >= 'A' && c <= 'Z':
		return "a capital letter"
	case c >= 'a' && c <= 'z':
		return "a lowercase letter"
	case c >= '0' && c <= '9':
		return "a digit"
	case c == '/' || c == '+':
		return "/ or +"
	}
	return "another character"
}

// ensure the formatting interfaces stay implemented.
var (
	_ fmt.Stringer   = AccessKey{}
	_ fmt.GoStringer = AccessKey{}
	_ fmt.Formatter  = AccessKey{}
	_ slog.LogValuer = AccessKey{}
)
