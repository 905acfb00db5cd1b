package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/credbroker/credbroker/profile"
)

// Errors callers branch on. Each has one row in Classes, which gives its
// wire code, HTTP status, retry kind, status word and hint.
var (
	ErrNoAccessKey = errors.New("no access key stored")
	// ErrKeyRejected: STS does not accept the stored long-lived key
	// (InvalidClientTokenId, SignatureDoesNotMatch): deleted, deactivated or
	// mistyped. Retrying cannot help.
	ErrKeyRejected = errors.New("access key rejected by STS")
	// ErrMFARequired: an MFA code is needed, no seed is stored and there is
	// no terminal to ask on.
	ErrMFARequired = errors.New("mfa code required")
	// ErrMFARefused: STS refused the MFA code. It is never retried with
	// another code automatically: repeated failures can lock the device.
	ErrMFARefused = errors.New("mfa code refused by STS")
	// ErrAccessDenied: STS refused the call (a trust policy, a missing
	// sts:AssumeRole permission, a wrong external id).
	ErrAccessDenied = errors.New("access denied by STS")
	// ErrSTSUnreachable: no answer from the endpoint (network, DNS, timeout).
	ErrSTSUnreachable = errors.New("sts unreachable")
	// ErrSTSUnavailable: STS answered but could not serve (throttling,
	// 5xx). Transient.
	ErrSTSUnavailable = errors.New("sts unavailable")
	// ErrExpiredToken: temporary credentials used to call STS have expired
	// or were revoked.
	ErrExpiredToken = errors.New("temporary credentials expired")
	// ErrRootKey: the key belongs to an AWS account's root user, which AWS
	// says never to use for everyday work.
	ErrRootKey = errors.New("root account key")
	// ErrInvalidRequest: STS refused the parameters (a duration above the
	// role's maximum, a malformed ARN).
	ErrInvalidRequest = errors.New("request refused by STS")
	// ErrDaemonRunning: a daemon already serves the socket.
	ErrDaemonRunning = errors.New("daemon already running")
	// ErrForbidden: the daemon's access rules do not let the caller have
	// the profile, or do what it asked.
	ErrForbidden = errors.New("forbidden")
	// ErrMFAWait: a code for the device was tried moments ago; the next
	// one is taken once the 30-second TOTP step has turned.
	ErrMFAWait = errors.New("wait for the next mfa code")
	// ErrBadRequest: a request to the daemon is malformed.
	ErrBadRequest = errors.New("bad request")
	// ErrDamagedSeed: a stored TOTP seed no longer parses.
	ErrDamagedSeed = errors.New("damaged totp seed")
	// ErrClockSkew: STS refused a request as signed too long ago or ahead:
	// this machine's clock is off by more than 5 minutes.
	ErrClockSkew = errors.New("clock skew")
	// ErrKeyringMismatch: a caller's keyring settings choose another
	// keyring than the daemon it asked serves.
	ErrKeyringMismatch = errors.New("keyring mismatch")
)

// MFAError: a chain needs an MFA code that could not be had (no seed and
// no terminal, a prompt that failed).
type MFAError struct {
	Profile, Device string
	Err             error
}

func (e *MFAError) Error() string {
	return fmt.Sprintf("profile %s: MFA code for %s: %v", e.Profile, e.Device, e.Err)
}

func (e *MFAError) Unwrap() error { return e.Err }

// MFAWaitError: a code for Device was tried moments ago (by anyone); the
// next is taken after Wait, once the TOTP step has turned.
type MFAWaitError struct {
	Profile, Device string
	Wait            time.Duration
}

func (e *MFAWaitError) Error() string {
	return fmt.Sprintf("profile %s: an MFA code for %s was just tried", e.Profile, e.Device)
}

// Is makes errors.Is(err, ErrMFAWait) work.
func (e *MFAWaitError) Is(target error) bool { return target == ErrMFAWait }

// NoAccessKeyError: the profile that starts a chain has no stored key.
type NoAccessKeyError struct {
	// Profile was asked for; Source is where its chain needs a key.
	Profile, Source string
}

func (e *NoAccessKeyError) Error() string {
	if e.Profile == e.Source {
		return fmt.Sprintf("profile %s: no access key stored", e.Source)
	}
	return fmt.Sprintf("profile %s: no access key stored for its source profile %s", e.Profile, e.Source)
}

// Is makes errors.Is(err, ErrNoAccessKey) work.
func (e *NoAccessKeyError) Is(target error) bool { return target == ErrNoAccessKey }

// STSError is a failed STS call. Message is what STS said; STS never echoes
// a secret, and nothing here holds one.
type STSError struct {
	// Op is the STS operation, e.g. "AssumeRole".
	Op string
	// Target is what the call was about (a role ARN, a profile).
	Target  string
	Profile string
	Code    string
	Message string
	// GeneratedCode: the call carried an MFA code made from a stored
	// seed (not one a human typed), so a refusal points at the clock or
	// the seed.
	GeneratedCode bool
	Endpoint      profile.Endpoint
	// Kind is one of the sentinel errors above.
	Kind error
	Err  error
}

func (e *STSError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s: %s", e.Profile, e.Op)
	if e.Target != "" {
		fmt.Fprintf(&b, " %s", e.Target)
	}
	switch {
	case errors.Is(e.Kind, ErrSTSUnreachable):
		fmt.Fprintf(&b, ": STS unreachable at %s", e.Endpoint)
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
	case e.Code != "":
		fmt.Fprintf(&b, ": %s: %s", e.Code, strings.TrimSuffix(e.Message, "."))
	default:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap lets errors.Is match both the kind and the underlying cause.
func (e *STSError) Unwrap() []error { return []error{e.Kind, e.Err} }

// classify turns an SDK error into an *STSError. mfa says the request
// carried an MFA code; temporary says it was signed with temporary
// credentials (so a rejected token means expired, not a bad stored key).
func classify(err error, op, target, profileName string, ep profile.Endpoint, mfa, temporary bool) *STSError {
	e := &STSError{Op: op, Target: target, Profile: profileName, Endpoint: ep, Err: err}
	var api smithy.APIError
	switch {
	case errors.As(err, &api):
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
		switch e.Code {
		case "RequestExpired":
			e.Kind = ErrClockSkew
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidAccessKeyId", "IncompleteSignature":
			// "Signature expired: 20261130T044000Z is now earlier than
			// 20261130T045500Z" (this clock behind), "Signature not yet
			// current: ... is still later than ..." (ahead): the clock,
			// not the key.
			if lower := strings.ToLower(e.Message); strings.Contains(lower, "signature expired") || strings.Contains(lower, "signature not yet current") {
				e.Kind = ErrClockSkew
				break
			}
			if temporary {
				e.Kind = ErrExpiredToken
			} else {
				e.Kind = ErrKeyRejected
			}
		case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired":
			e.Kind = ErrExpiredToken
		case "AccessDenied", "AccessDeniedException":
			// STS answers a bad MFA code with AccessDenied "MultiFactorAuthentication
			// failed with invalid MFA one time pass code."
			// "...unable to validate MFA code. Please verify your MFA serial
			// number is valid and associated with this user." is a wrong
			// mfa_serial, not a wrong code.
			lower := strings.ToLower(e.Message)
			if mfa && strings.Contains(lower, "serial") {
				e.Kind = ErrInvalidRequest
			} else if mfa && strings.Contains(lower, "multifactorauthentication") {
				e.Kind = ErrMFARefused
			} else {
				e.Kind = ErrAccessDenied
			}
		case "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure", "InternalError", "IDPCommunicationError":
			e.Kind = ErrSTSUnavailable
		case "ValidationError", "InvalidParameterValue", "MalformedPolicyDocument", "PackedPolicyTooLarge", "RegionDisabledException", "InvalidAction":
			e.Kind = ErrInvalidRequest
		default:
			e.Kind = ErrSTSUnavailable
			var resp *smithyhttp.ResponseError
			if errors.As(err, &resp) && resp.HTTPStatusCode() < 500 {
				e.Kind = ErrInvalidRequest
			}
		}
	case isNetworkError(err):
		e.Kind = ErrSTSUnreachable
		e.Message = networkReason(err)
	default:
		var resp *smithyhttp.ResponseError
		if errors.As(err, &resp) {
			e.Kind = ErrSTSUnavailable
			e.Message = fmt.Sprintf("HTTP %d", resp.HTTPStatusCode())
		} else {
			e.Kind = ErrSTSUnreachable
			e.Message = networkReason(err)
		}
	}
	return e
}

func isNetworkError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded)
}

// networkReason is the innermost, most specific reason ("connection refused").
func networkReason(err error) string {
	var na *noAnswerError
	if errors.As(err, &na) {
		return na.reason()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		msg := op.Err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot resolve " + dns.Name
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return "no answer"
}
