package sandbox

import (
	"crypto/subtle"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// totpPeriod is the time step of AWS virtual MFA devices (RFC 6238 with
// SHA1, 6 digits, 30 s).
const totpPeriod = 30

// codeAt is a device's code for a time step.
func codeAt(seed string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(seed, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// matchStep is the step from first to last (inclusive) whose code is
// code, or -1. Every step is computed and compared in constant time.
func matchStep(seed, code string, first, last int64) int64 {
	found := int64(-1)
	for step := first; step <= last; step++ {
		want, err := codeAt(seed, step)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found < 0 {
			found = step
		}
	}
	return found
}

// useMFA checks an MFA code for the caller's device serial and records
// its time step as used, in one change of the state, so two requests with
// the same code cannot both pass. RFC 6238 §5.2: the code of the current
// step or of one step either side (clock drift) is accepted, and §5.2
// again: "the verifier MUST NOT accept the second attempt of the same
// OTP", so no step up to the last accepted one is accepted again.
// Refusals are AWS's AccessDenied answers.
func (c *call) useMFA(serial, code string) *apiError {
	u := c.caller.user
	if u == nil || c.caller.session != nil && c.caller.sessionKind() != kindUserSession {
		return &apiError{"AccessDenied", msgMFAUnknownDevice}
	}
	now := c.clientNow.Unix() / totpPeriod
	err := c.s.update(func(st *State) error {
		for i := range st.MFADevices {
			d := &st.MFADevices[i]
			if d.Serial != serial || d.Account != u.user.Account || d.User != u.user.Name {
				continue
			}
			step := matchStep(d.Seed, code, now-1, now+1)
			if step < 0 || step <= d.LastStep {
				return &apiError{"AccessDenied", msgMFAInvalidCode}
			}
			d.LastStep = step
			return nil
		}
		return &apiError{"AccessDenied", msgMFAUnknownDevice}
	})
	if err != nil {
		return asAPIError(err)
	}
	return nil
}

// mfaParams reads SerialNumber and TokenCode: both or neither, in the
// model's bounds (SerialNumber 9 to 256 characters, TokenCode 6 digits).
func (c *call) mfaParams() (serial, code string, apiErr *apiError) {
	serial, code = c.params.Get("SerialNumber"), c.params.Get("TokenCode")
	switch {
	case serial == "" && code == "":
		return "", "", nil
	case serial == "" || code == "":
		return "", "", &apiError{"AccessDenied", msgMFAIncomplete}
	case len(serial) < 9 || len(serial) > 256:
		return "", "", validation(clip(serial, 64), "serialNumber", "have length between 9 and 256")
	case len(code) < 6:
		return "", "", validation(code, "tokenCode", "have length greater than or equal to 6")
	case len(code) > 6:
		return "", "", validation(clip(code, 16), "tokenCode", "have length less than or equal to 6")
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", "", validation(code, "tokenCode", `satisfy regular expression pattern: [\d]*`)
		}
	}
	return serial, code, nil
}
