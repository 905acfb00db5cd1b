package keystore

import (
	"fmt"
	"io"
	"log/slog"
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

// ensure the formatting interfaces stay implemented.
var (
	_ fmt.Stringer   = AccessKey{}
	_ fmt.GoStringer = AccessKey{}
	_ fmt.Formatter  = AccessKey{}
	_ slog.LogValuer = AccessKey{}
)
