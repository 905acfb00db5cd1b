package broker

import (
	"errors"

	"github.com/credbroker/credbroker/broker/wire"
	"github.com/credbroker/credbroker/keystore"
)

// Explain turns an error into one line for a human, the command or check
// that fixes it ("" when there is none to give), and a stable code for the
// daemon's API (clients branch on it, never on the text).
func Explain(err error) (msg, hint, code string) {
	msg = err.Error()
	var (
		daemonErr *DaemonError
		unknown   *UnknownProfileError
		cfgErr    *ConfigError
		cycle     *CycleError
		stsErr    *STSError
		noKey     *NoAccessKeyError
	)
	switch {
	case errors.As(err, &daemonErr):
		return daemonErr.Message, daemonErr.Hint, daemonErr.Code
	case errors.As(err, &unknown):
		return msg, "add a [profile " + unknown.Name + "] section to " + unknown.ConfigPath + " or run: credbroker add " + unknown.Name, "unknown_profile"
	case errors.As(err, &cycle):
		return msg, "make one profile of the loop use its own key (no source_profile)", "config"
	case errors.As(err, &cfgErr):
		return msg, "fix the line and try again", "config"
	case errors.As(err, &noKey):
		return msg, "run: credbroker add " + noKey.Source, "no_access_key"
	case errors.Is(err, ErrRootKey):
		return msg, "create an IAM user with least privilege and store its key instead; --allow-root overrides this", "root_key"
	case errors.Is(err, ErrForbidden):
		return msg, "ask the daemon's owner for an [access] rule that allows you this profile", "forbidden"
	case errors.As(err, &stsErr):
		switch {
		case errors.Is(err, ErrKeyRejected) && stsErr.Op == "GetCallerIdentity":
			return msg, "check the key id and secret you entered (IAM console, Security credentials): nothing was stored", "key_rejected"
		case errors.Is(err, ErrKeyRejected):
			return msg, "the stored key was deleted, deactivated or mistyped: run credbroker add " + stsErr.Profile, "key_rejected"
		case errors.Is(err, ErrMFARefused):
			return msg, "nothing was retried (repeated failures can lock the device); check the clock and the seed (credbroker totp code " + stsErr.Profile + " against your authenticator)", "mfa_refused"
		case errors.Is(err, ErrSTSUnreachable):
			return msg, "check the network and AWS_ENDPOINT_URL_STS / endpoint_url", "sts_unreachable"
		case errors.Is(err, ErrAccessDenied) && stsErr.Op == "AssumeRole":
			return msg, "check the role's trust policy and the caller's sts:AssumeRole permission", "access_denied"
		case errors.Is(err, ErrAccessDenied):
			return msg, "check the IAM user's permission for sts:" + stsErr.Op, "access_denied"
		case errors.Is(err, ErrSTSUnavailable):
			return msg, "STS is throttling or failing; credbroker retries with backoff", "sts_unavailable"
		case errors.Is(err, ErrExpiredToken):
			return msg, "a cached session was revoked or expired early; if this persists, check this machine's clock", "expired_token"
		case errors.Is(err, ErrInvalidRequest) && stsErr.Code == "RegionDisabledException":
			return msg, "STS is not enabled in this region for the account: enable it, or set another region", "invalid_request"
		case errors.Is(err, ErrInvalidRequest) && stsErr.Op == "GetSessionToken":
			return msg, "check mfa_serial: it must be the ARN (or serial) of an MFA device of this IAM user", "invalid_request"
		case errors.Is(err, ErrInvalidRequest):
			return msg, "check role_arn, external_id and duration_seconds of the profile", "invalid_request"
		}
		return msg, "", "sts"
	case errors.Is(err, ErrMFARequired):
		return msg, "store the device's seed (credbroker totp add PROFILE) or run the command in a terminal", "mfa_required"
	case errors.Is(err, ErrNoDaemon):
		return msg, "start it with credbroker daemon (or credbroker service install --user), or unset CREDBROKER_NO_AUTOSTART", "no_daemon"
	case errors.Is(err, ErrDaemonRunning):
		return msg, "stop the other daemon first, or set CREDBROKER_SOCKET to another path", "daemon_running"
	case errors.Is(err, keystore.ErrWrongPassphrase):
		return msg, "check CREDBROKER_FILE_PASSPHRASE", "keyring"
	}
	return msg, "", "internal"
}

// ErrForbidden: the daemon's access rules do not let the caller have the
// profile.
var ErrForbidden = errors.New("forbidden")

// DaemonError is an error the daemon answered with (its JSON body).
type DaemonError struct {
	wire.ErrorBody
}

func (e *DaemonError) Error() string { return e.Message }

// Is lets callers match the sentinel behind a code.
func (e *DaemonError) Is(target error) bool {
	switch e.Code {
	case "mfa_required":
		return target == ErrMFARequired
	case "unknown_profile":
		return target == ErrUnknownProfile
	case "forbidden":
		return target == ErrForbidden
	case "mfa_refused":
		return target == ErrMFARefused
	}
	return false
}
