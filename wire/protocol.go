package wire

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Endpoints of the daemon's API (version 1).
const (
	PathCredentials = "/v1/credentials"
	PathMFA         = "/v1/mfa"
	PathForget      = "/v1/forget"
	PathClear       = "/v1/clear"
	PathStatus      = "/v1/status"
	PathHealth      = "/v1/health"
	PathUnlock      = "/v1/unlock"
	PathStop        = "/v1/stop"
)

// Code names the class of a failure in the daemon's answers. Clients branch
// on it, never on the text; the error table (package broker) gives each its
// HTTP status, retry kind, status word and hint.
type Code string

// The codes a daemon answers with, and those a client makes up itself
// (no_daemon, foreign_daemon, unsafe_socket, daemon_failed).
const (
	CodeUnknownProfile  Code = "unknown_profile"
	CodeConfig          Code = "config"
	CodeUnsupported     Code = "unsupported"
	CodeNoAccessKey     Code = "no_access_key"
	CodeRootKey         Code = "root_key"
	CodeForbidden       Code = "forbidden"
	CodeKeyRejected     Code = "key_rejected"
	CodeClockSkew       Code = "clock_skew"
	CodeMFARefused      Code = "mfa_refused"
	CodeMFAWait         Code = "mfa_wait"
	CodeMFAStepAhead    Code = "mfa_step_ahead"
	CodeMFARequired     Code = "mfa_required"
	CodeSTSUnreachable  Code = "sts_unreachable"
	CodeAccessDenied    Code = "access_denied"
	CodeSTSUnavailable  Code = "sts_unavailable"
	CodeExpiredToken    Code = "expired_token"
	CodeInvalidRequest  Code = "invalid_request"
	CodeDamagedSeed     Code = "damaged_seed"
	CodeNoSeed          Code = "no_seed"
	CodeKeyring         Code = "keyring"
	CodeKeyringMismatch Code = "keyring_mismatch"
	CodeKeyringStalled  Code = "keyring_not_answering"
	CodePassphrase      Code = "passphrase_required"
	CodeBadRequest      Code = "bad_request"
	CodeNoDaemon        Code = "no_daemon"
	CodeForeignDaemon   Code = "foreign_daemon"
	CodeDaemonRunning   Code = "daemon_running"
	CodeUnsafeSocket    Code = "unsafe_socket"
	CodeDaemonFailed    Code = "daemon_failed"
	CodeTimeout         Code = "timeout"
	CodeThrottled       Code = "throttled"
	CodeInternal        Code = "internal"
)

// Codes lists every Code above.
var Codes = []Code{
	CodeUnknownProfile, CodeConfig, CodeUnsupported, CodeNoAccessKey, CodeRootKey, CodeForbidden, CodeKeyRejected, CodeClockSkew,
	CodeMFARefused, CodeMFAWait, CodeMFAStepAhead, CodeMFARequired, CodeSTSUnreachable, CodeAccessDenied, CodeSTSUnavailable,
	CodeExpiredToken, CodeInvalidRequest, CodeDamagedSeed, CodeNoSeed, CodeKeyring, CodeKeyringMismatch, CodeKeyringStalled, CodePassphrase, CodeBadRequest, CodeNoDaemon,
	CodeForeignDaemon, CodeDaemonRunning, CodeUnsafeSocket, CodeDaemonFailed, CodeTimeout, CodeThrottled, CodeInternal,
}

// ErrThrottled: the caller's uid asks more than the daemon serves one uid
// at a time (connections held, requests a second); the answer says when to
// ask again (ErrorBody.RetryAfterMS).
var ErrThrottled = errors.New("too many requests from this uid")

// WantsCode reports whether a client that hears code, with an MFASerial,
// should ask its user for an MFA code and submit it (POST /v1/mfa):
// mfa_required, or mfa_refused (the last typed code was wrong; the next
// may do). Every other code is shown as it is: message, then hint.
func (c Code) WantsCode() bool { return c == CodeMFARequired || c == CodeMFARefused }

// WantsPassphrase reports whether a client that hears code should give the
// daemon the file keyring's passphrase (POST /v1/unlock): from
// CREDBROKER_FILE_PASSPHRASE, or asked on its terminal.
func (c Code) WantsPassphrase() bool { return c == CodePassphrase }

// ErrorBody is what the daemon answers with when it fails a request.
type ErrorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	// MFASerial is set with code mfa_required, or mfa_refused, when a
	// code typed by a human is wanted: the device to ask a code for.
	// Clients prompt for it; with mfa_wait (a code was refused moments
	// ago) they say the message and hint instead.
	MFASerial string `json:"mfa_serial,omitempty"`
	// RetryAfterMS is set with code throttled: the milliseconds after
	// which the daemon takes a request of this uid again.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// Error is an answer of the daemon's that is a failure.
type Error struct{ ErrorBody }

func (e *Error) Error() string { return e.Message }

// WaitThrottled reports whether err is the daemon's answer throttled with
// a time to ask again that ctx leaves room for; then it has waited that
// long, and the caller asks again. A uid's own herd of processes is
// throttled only for a moment, so its calls are answered, a little later.
func WaitThrottled(ctx context.Context, err error) bool {
	var de *Error
	if !errors.As(err, &de) || de.Code != CodeThrottled || de.RetryAfterMS <= 0 {
		return false
	}
	wait := time.Duration(de.RetryAfterMS) * time.Millisecond
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ProfileRequest is the body of POST /v1/mfa (with Code) and /v1/forget.
type ProfileRequest struct {
	Profile string `json:"profile"`
	Code    string `json:"code,omitempty"`
}

// UnlockRequest is the body of POST /v1/unlock: the file keyring's
// passphrase, which reaches the daemon only this way (never through its
// environment or command line).
type UnlockRequest struct {
	Passphrase string `json:"passphrase"`
}

// ProfileStatus is one profile in GET /v1/status, as one caller's settings
// resolve it (a profile served to callers of other settings appears once
// for each). It never holds a secret.
type ProfileStatus struct {
	Profile string `json:"profile"`
	// Endpoint is the STS endpoint its credentials come from, Region the
	// region they were made for.
	Endpoint   string     `json:"endpoint,omitempty"`
	Region     string     `json:"region,omitempty"`
	RoleARN    string     `json:"role_arn,omitempty"`
	Expiration *time.Time `json:"expiration,omitempty"`
	Fresh      bool       `json:"fresh"`
	State      string     `json:"state"`
	LastError  string     `json:"last_error,omitempty"`
	NextRetry  *time.Time `json:"next_retry,omitempty"`
}

// Status is GET /v1/status.
type Status struct {
	PID      int             `json:"pid"`
	Started  time.Time       `json:"started"`
	Socket   string          `json:"socket"`
	Requests uint64          `json:"requests"`
	Profiles []ProfileStatus `json:"profiles"`
	// AuditDropped counts audit records lost to a stalled disk.
	AuditDropped uint64 `json:"audit_dropped,omitempty"`
	// ConfigError says why the config file's last change was not taken
	// (the daemon goes on with the previous one).
	ConfigError string `json:"config_error,omitempty"`
	// Keyring is the keyring the daemon serves; Locked says it waits for
	// its passphrase (credbroker unlock).
	Keyring string `json:"keyring,omitempty"`
	Locked  bool   `json:"locked,omitempty"`
	// Dumpable: the daemon could be dumped or traced by its user (not on
	// Linux, where it is made not dumpable). MemoryLocked: its memory is
	// not swapped out; MemoryLockError says why not.
	Dumpable        bool   `json:"dumpable"`
	MemoryLocked    bool   `json:"memory_locked"`
	MemoryLockError string `json:"memory_lock_error,omitempty"`
	// ClockSkew is set, for the daemon's own user, when this machine's
	// clock was over a minute off STS's at its last answer.
	ClockSkew *ClockSkew `json:"clock_skew,omitempty"`
}

// ClockSkew is how far this machine's clock is from STS's, measured from
// the Date header of an answer.
type ClockSkew struct {
	// Seconds is STS's clock minus this machine's: positive when this
	// machine's clock is behind.
	Seconds  float64   `json:"seconds"`
	Endpoint string    `json:"endpoint"`
	Measured time.Time `json:"measured"`
}

// ForgetAnswer is what POST /v1/forget answers.
type ForgetAnswer struct {
	Dropped int `json:"dropped"`
}

// ClearRequest is the body of POST /v1/clear (credbroker clear): drop the
// cached sessions Profiles use (their role sessions and the session their
// chain starts with), or every cached session when Profiles is empty.
type ClearRequest struct {
	Profiles []string `json:"profiles,omitempty"`
}

// ClearAnswer is what POST /v1/clear answers: the cached sessions dropped,
// by their names in the cache ("base/mfa-session", "prod/role").
type ClearAnswer struct {
	Dropped []string `json:"dropped"`
}

// ProcessOutput is what credential_process prints and every AWS SDK
// parses (Version 1; Expiration in RFC 3339). GET /v1/credentials answers
// with it, so a client copies the body to its stdout as it is.
type ProcessOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
	// AccountID is the account the credentials act in (botocore, the Go
	// SDK v2 and the JS SDK v3 read it, for account-based endpoints);
	// omitted when unknown.
	AccountID string `json:"AccountId,omitempty"`
}

// MarshalProcessOutput renders credentials as credential_process JSON,
// with a final newline.
func MarshalProcessOutput(accessKeyID, secretAccessKey, sessionToken string, expires time.Time, accountID string) []byte {
	out, _ := json.Marshal(ProcessOutput{
		Version:         1,
		AccessKeyID:     accessKeyID,
		SecretAccessKey: secretAccessKey,
		SessionToken:    sessionToken,
		Expiration:      expires.UTC().Format(time.RFC3339),
		AccountID:       accountID,
	})
	return append(out, '\n')
}
