package sandbox

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
)

// What the sandbox seals, each under its own associated data so that one
// kind can never be passed off as another (a sign-in token as a session
// token).
const (
	sealSession = "credbroker-sandbox session token v1"
	sealSignin  = "credbroker-sandbox signin token v1"
	sealAuthz   = "credbroker-sandbox authorization message v1"
)

// sealer encrypts and authenticates what the sandbox hands out and reads
// back: session tokens, sign-in tokens, encoded authorization messages.
// AES-256-GCM under the state's seal key, a random nonce each time.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal encodes v as JSON and seals it: base64 (standard alphabet, as
// AWS's session tokens) of nonce and ciphertext.
func (s *sealer) seal(rand io.Reader, purpose string, v any, enc *base64.Encoding) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return "", err
	}
	return enc.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(purpose))), nil
}

var errNotSealed = errors.New("not sealed by this sandbox")

// open reverses seal; anything altered, truncated, sealed for another
// purpose or under another key is errNotSealed.
func (s *sealer) open(purpose, text string, v any, enc *base64.Encoding) error {
	raw, err := enc.DecodeString(text)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return errNotSealed
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return errNotSealed
	}
	if json.Unmarshal(plain, v) != nil {
		return errNotSealed
	}
	return nil
}
