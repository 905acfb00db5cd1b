package mfa

import (
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unique"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// ErrInvalidSeed is wrapped by every error ParseSeed returns, so the CLI can add a hint
// about the accepted forms.
var ErrInvalidSeed = errors.New("invalid totp seed")

const (
	// maxSeedInput bounds what ParseSeed reads: a seed or a Key Uri is well under 1 KiB,
	// so anything longer is a wrong file or a paste accident, not a seed.
	maxSeedInput = 4 << 10

	// minSecretBytes is 80 bits. RFC 4226 section 4 asks for 128 bits, but 80-bit
	// secrets (16 base32 characters) are what many authenticator enrolments produce,
	// so refusing them would lock users out of devices that AWS accepts.
	minSecretBytes = 10

	// defaultPeriod is the RFC 6238 default time step X, and the one AWS virtual MFA
	// devices use.
	defaultPeriod = 30

	// maxPeriod bounds the period: no authenticator uses steps longer than a few
	// minutes, and a Generator may wait up to one period for a fresh code.
	maxPeriod = 300
)

// b32 is RFC 4648 base32 without padding, the canonical form of a Seed's secret.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// What each refusal tells the user is accepted. These texts are constants: an error
// never quotes any part of the input, because a malformed seed is still a secret (a
// misplaced '&' can put the secret into any parameter).
const (
	acceptForms = "give a base32 secret (letters A-Z and digits 2-7, case, spaces and '=' padding ignored) or an otpauth://totp/LABEL?secret=BASE32 URI"
	acceptBase  = "a secret is RFC 4648 base32 (letters A-Z and digits 2-7, case, spaces and '=' padding ignored) of at least 16 characters (80 bits)"
	acceptURI   = "accepted: otpauth://totp/LABEL?secret=BASE32 with optional algorithm=SHA1|SHA256|SHA512, digits=6|8 and period=1-300 (seconds)"
)

func refuse(problem, accepted string) error {
	return fmt.Errorf("%w: %s; %s", ErrInvalidSeed, problem, accepted)
}

// Seed is a parsed TOTP secret (RFC 6238) with its parameters.
//
// Seed is comparable: two Seeds are == when they hold the same secret bytes and
// parameters. The zero Seed holds no secret; Code refuses it.
//
// The secret is held in a [unique.Handle] rather than a string field so that even
// fmt's reflection on a struct that embeds a Seed in an unexported field (where
// fmt cannot call Seed's methods) prints a pointer, not the secret.
type Seed struct {
	secret    unique.Handle[string] // canonical upper-case base32, no padding
	algorithm otp.Algorithm
	digits    otp.Digits
	period    uint64 // seconds
}

// ParseSeed accepts exactly two forms (RFC 4648 base32, as RFC 6238 and the Key Uri
// Format use):
//   - a bare base32 secret: case-insensitive, spaces and '=' padding allowed, at least
//     80 bits; the parameters are then those of AWS virtual MFA devices (SHA1, 6 digits,
//     30 s),
//   - an otpauth://totp/LABEL?secret=...&algorithm=SHA1|SHA256|SHA512&digits=6|8&period=N
//     URI (defaults SHA1, 6, 30; N from 1 to 300).
//
// Surrounding whitespace is trimmed. Anything else is refused with an error that wraps
// ErrInvalidSeed and says what is wrong and what is accepted, and that never contains
// any part of the input.
func ParseSeed(input string) (Seed, error) {
	if len(input) > maxSeedInput {
		return Seed{}, refuse("input is longer than 4 KiB", acceptForms)
	}
	s := strings.TrimSpace(input)
	switch {
	case s == "":
		return Seed{}, refuse("input is empty", acceptForms)
	case strings.ContainsAny(s, "\r\n"):
		return Seed{}, refuse("input has several lines", "give one line: "+acceptForms)
	case len(s) >= len("otpauth:") && strings.EqualFold(s[:len("otpauth:")], "otpauth:"):
		return parseKeyURI(s)
	case strings.Contains(s, "://"):
		return Seed{}, refuse("input is a URI but not an otpauth:// one", acceptForms)
	}
	secret, err := canonicalSecret(s, "secret")
	if err != nil {
		return Seed{}, err
	}
	return Seed{
		secret:    unique.Make(secret),
		algorithm: otp.AlgorithmSHA1,
		digits:    otp.DigitsSix,
		period:    defaultPeriod,
	}, nil
}

// parseKeyURI parses the Key Uri Format. It does not use otp.NewKeyFromURL because
// that silently maps an unknown algorithm to SHA1 and a bad digits or period value to
// the default, which would produce codes AWS rejects with no hint why.
func parseKeyURI(s string) (Seed, error) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Scheme != "otpauth" {
		// err is dropped on purpose: url.Error quotes the whole URI.
		return Seed{}, refuse("input is not a well-formed otpauth:// URI", acceptURI)
	}
	switch strings.ToLower(u.Host) {
	case "totp":
	case "hotp":
		return Seed{}, refuse("otpauth://hotp (counter-based HOTP) is not supported, AWS virtual MFA devices are time-based", acceptURI)
	default:
		return Seed{}, refuse("otpauth:// URI is not of type totp", acceptURI)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// err is dropped on purpose: it quotes the offending part of the query.
		return Seed{}, refuse("otpauth:// URI has a malformed query", acceptURI)
	}
	param := func(name string) (string, error) {
		switch v := q[name]; len(v) {
		case 0:
			return "", nil
		case 1:
			return v[0], nil
		default:
			return "", refuse("parameter "+name+" appears more than once", acceptURI)
		}
	}

	rawSecret, err := param("secret")
	if err != nil {
		return Seed{}, err
	}
	if strings.TrimSpace(rawSecret) == "" {
		return Seed{}, refuse("otpauth:// URI has no secret parameter", acceptURI)
	}
	secret, err := canonicalSecret(rawSecret, "secret parameter")
	if err != nil {
		return Seed{}, err
	}

	seed := Seed{
		secret:    unique.Make(secret),
		algorithm: otp.AlgorithmSHA1,
		digits:    otp.DigitsSix,
		period:    defaultPeriod,
	}
	algorithm, err := param("algorithm")
	if err != nil {
		return Seed{}, err
	}
	switch strings.ToUpper(algorithm) {
	case "", "SHA1":
	case "SHA256":
		seed.algorithm = otp.AlgorithmSHA256
	case "SHA512":
		seed.algorithm = otp.AlgorithmSHA512
	default:
		return Seed{}, refuse("algorithm is not SHA1, SHA256 or SHA512", acceptURI)
	}
	digits, err := param("digits")
	if err != nil {
		return Seed{}, err
	}
	switch digits {
	case "", "6":
	case "8":
		seed.digits = otp.DigitsEight
	default:
		return Seed{}, refuse("digits is not 6 or 8", acceptURI)
	}
	period, err := param("period")
	if err != nil {
		return Seed{}, err
	}
	if period != "" {
		n, err := strconv.ParseUint(period, 10, 64)
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange), err == nil && n > maxPeriod:
			return Seed{}, refuse("period is longer than 300 seconds", acceptURI)
		case err != nil, n == 0:
			return Seed{}, refuse("period is not a positive whole number of seconds", acceptURI)
		}
		seed.period = n
	}
	// The Steam encoder turns the same HMAC into letters; codes from it would not be
	// what the device shows.
	if encoder, err := param("encoder"); err != nil {
		return Seed{}, err
	} else if encoder != "" {
		return Seed{}, refuse("encoder parameter is not supported (codes are decimal digits)", acceptURI)
	}
	return seed, nil
}

// canonicalSecret validates an RFC 4648 base32 secret and returns it upper-case,
// unpadded and re-encoded from its bytes, so that two spellings of one secret (case,
// spaces, padding, unused trailing bits) give equal Seeds. what names the value in errors.
func canonicalSecret(s, what string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	padding := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			continue
		case c == '=':
			padding++
			continue
		case padding > 0:
			return "", refuse(what+" has '=' padding before its end", acceptBase)
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', '2' <= c && c <= '7':
		default:
			return "", refuse(what+" is not base32 (it has characters other than A-Z, 2-7, spaces and '=')", acceptBase)
		}
		b.WriteByte(c)
	}
	if padding > 6 {
		// RFC 4648 section 6: a quantum is padded with at most six '='.
		return "", refuse(what+" has more '=' padding than base32 allows", acceptBase)
	}
	// RFC 4648 section 6: a final quantum of 1 to 4 bytes takes 2, 4, 5 or 7
	// characters. encoding/base32 without padding silently drops a dangling 1, 3 or 6.
	switch b.Len() % 8 {
	case 1, 3, 6:
		return "", refuse(what+" has a length that no base32 encoding produces", acceptBase)
	}
	raw, err := b32.DecodeString(b.String())
	if err != nil {
		// Not expected once the alphabet and length are checked; err is dropped so no
		// decoder detail about the input reaches the message.
		return "", refuse(what+" is not valid base32", acceptBase)
	}
	defer clear(raw)
	if len(raw) < minSecretBytes {
		return "", refuse(what+" is shorter than 80 bits (16 base32 characters)", acceptBase)
	}
	return b32.EncodeToString(raw), nil
}

func (s Seed) isZero() bool { return s.secret == unique.Handle[string]{} }

// Encode returns the canonical storage form of s: an otpauth://totp URI holding the
// secret and every parameter explicitly, so that ParseSeed(s.Encode()) == s. It
// returns "" for the zero Seed. The result is the secret: store it only in the keyring.
func (s Seed) Encode() string {
	if s.isZero() {
		return ""
	}
	// Base32 and the parameter values are URL-safe, so no escaping is needed.
	return "otpauth://totp/credbroker?secret=" + s.secret.Value() +
		"&algorithm=" + s.algorithm.String() +
		"&digits=" + s.digits.String() +
		"&period=" + strconv.FormatUint(s.period, 10)
}

// Step returns the RFC 6238 time step (the HOTP counter) for t: floor(unix/period).
// It returns 0 for times before 1970 and for the zero Seed.
func (s Seed) Step(t time.Time) uint64 {
	u := t.Unix()
	if u < 0 || s.period == 0 {
		return 0
	}
	return uint64(u) / s.period
}

// Period returns the length of one time step (0 for the zero Seed).
func (s Seed) Period() time.Duration {
	return time.Duration(s.period) * time.Second
}

// Code returns the code valid at t.
func (s Seed) Code(t time.Time) (string, error) {
	if s.isZero() {
		return "", errors.New("totp code: the seed is empty (a zero mfa.Seed)")
	}
	if t.Unix() < 0 {
		return "", errors.New("totp code: time is before 1970 (RFC 6238 counts steps from the Unix epoch)")
	}
	return s.codeAt(s.Step(t))
}

// codeAt computes the code for a time step. Code and Generator both go through it so
// the step recorded in the StepStore is the one the code was computed for.
func (s Seed) codeAt(step uint64) (string, error) {
	code, err := hotp.GenerateCodeCustom(s.secret.Value(), step, hotp.ValidateOpts{
		Digits:    s.digits,
		Algorithm: s.algorithm,
	})
	if err != nil {
		// hotp's errors are fixed strings; none carries the secret.
		return "", fmt.Errorf("totp code: %w", err)
	}
	return code, nil
}

// String describes s without its secret, e.g. "mfa.Seed{SHA1, 6 digits, 30s}".
func (s Seed) String() string {
	if s.isZero() {
		return "mfa.Seed{}"
	}
	return fmt.Sprintf("mfa.Seed{%s, %d digits, %s}", s.algorithm, int(s.digits), s.Period())
}

// GoString makes %#v print the same secret-free description as String.
func (s Seed) GoString() string { return s.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x, ...) print the description
// from String; without it %x or %+v would format the struct's fields.
func (s Seed) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// AWSCompatible reports whether s has the parameters of AWS virtual MFA
// devices (SHA1, 6 digits, 30 s steps); STS refuses codes of any other kind.
func (s Seed) AWSCompatible() bool {
	return s.algorithm == otp.AlgorithmSHA1 && s.digits == otp.DigitsSix && s.period == defaultPeriod
}
