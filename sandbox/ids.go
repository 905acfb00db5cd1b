package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Access key ids carry their account, as AWS's do (GetAccessKeyInfo reads
// the account from the id alone): AKIA or ASIA, then 16 base32 characters
// of 80 bits, the account number in the first 40 and random bits in the
// rest. So any key id the sandbox issued, stored or not, names its
// account, and ids keep the form ^A[SK]IA[A-Z2-7]{16}$ that tools check.
var keyIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newKeyID makes a key id: prefix AKIA (long-lived) or ASIA (temporary).
func newKeyID(rand io.Reader, prefix, account string) (string, error) {
	n, err := strconv.ParseUint(account, 10, 64)
	if err != nil || !isAccountID(account) {
		return "", fmt.Errorf("account %q is not a 12-digit account ID", account)
	}
	var b [10]byte
	if _, err := io.ReadFull(rand, b[5:]); err != nil {
		return "", err
	}
	var acct [8]byte
	binary.BigEndian.PutUint64(acct[:], n)
	copy(b[:5], acct[3:])
	return prefix + keyIDEncoding.EncodeToString(b[:]), nil
}

// keyIDAccount is the account a key id of newKeyID's form carries.
func keyIDAccount(id string) (string, bool) {
	if len(id) != 20 || !(strings.HasPrefix(id, "AKIA") || strings.HasPrefix(id, "ASIA")) {
		return "", false
	}
	b, err := keyIDEncoding.DecodeString(id[4:])
	if err != nil {
		return "", false
	}
	var acct [8]byte
	copy(acct[3:], b[:5])
	n := binary.BigEndian.Uint64(acct[:])
	if n > 999_999_999_999 {
		return "", false
	}
	return fmt.Sprintf("%012d", n), true
}

// newSecret makes a 40-character secret access key (base64 of 30 random
// bytes: letters, digits, + and /, as AWS's).
func newSecret(rand io.Reader) (string, error) {
	var b [30]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// temporarySecret is the secret key of temporary credentials, derived
// from the seal key and the key id: nothing about a session is stored,
// and its secret cannot be had without the seal key.
func temporarySecret(sealKey []byte, keyID string) string {
	m := hmac.New(sha256.New, sealKey)
	m.Write([]byte("credbroker sandbox temporary secret\x00" + keyID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)[:30])
}

// newUniqueID makes an IAM unique id: AIDA (users) or AROA (roles) and 17
// base32 characters.
func newUniqueID(rand io.Reader, prefix string) (string, error) {
	var b [11]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", err
	}
	return prefix + keyIDEncoding.EncodeToString(b[:])[:17], nil
}

// newSeed makes a virtual MFA device's seed: 160 random bits (RFC 4226's
// recommended length, and AWS's), base32.
func newSeed(rand io.Reader) (string, error) {
	var b [20]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", err
	}
	return base32.StdEncoding.EncodeToString(b[:]), nil
}

func decodeSeed(seed string) ([]byte, error) {
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(seed), "="))
	if err != nil || len(b) < 10 {
		return nil, fmt.Errorf("seed is not base32 of at least 80 bits")
	}
	return b, nil
}

// newRequestID makes a request id in AWS's form, a version 4 UUID.
func newRequestID(rand io.Reader) string {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "00000000-0000-4000-8000-000000000000"
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
