package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/credbroker/credbroker/mfa"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// Retry says what a daemon does after a failure of a class.
type Retry int

const (
	// RetryBackoff: transient (STS trouble, a keyring hiccup); retried
	// with exponential backoff while still-usable credentials are served.
	RetryBackoff Retry = iota
	// RetryHuman: an MFA code is needed; nothing is scheduled, and each
	// caller's request may ask again.
	RetryHuman
	// RetryNever: retrying cannot help (a rejected key, a denied role, a
	// config mistake); a caller's request tries again after a cooldown.
	RetryNever
	// RetryLocked: STS refused an MFA code; nothing retries until a human
	// acts, as repeated failures can lock the device.
	RetryLocked
)

// Class is one kind of failure, declared once: the sentinel errors.Is
// matches, the code the daemon answers with (clients branch on it), the
// HTTP status of that answer, what the daemon's scheduler does, the word
// `credbroker status` shows, and the hint a human gets.
type Class struct {
	Sentinel   error
	Code       wire.Code
	HTTPStatus int
	Retry      Retry
	State      string
	// Hint is the command or check that fixes err ("" when there is none).
	Hint func(err error) string
}

// hint is a Hint that does not depend on the error's details.
func hint(s string) func(error) string { return func(error) string { return s } }

// Classes is the error table. ClassOf takes the first row whose sentinel
// matches, so a more specific row comes first.
var Classes = []Class{
	{profile.ErrUnknownProfile, wire.CodeUnknownProfile, http.StatusNotFound, RetryNever, "error", func(err error) string {
		var u *profile.UnknownProfileError
		if errors.As(err, &u) {
			return "add a [profile " + u.Name + "] section to " + u.ConfigPath + " or run: credbroker add " + u.Name
		}
		return "run: credbroker list"
	}},
	{profile.ErrConfig, wire.CodeConfig, http.StatusConflict, RetryNever, "error", func(err error) string {
		var cy *profile.CycleError
		if errors.As(err, &cy) {
			return "make one profile of the loop use its own key (no source_profile)"
		}
		return "fix the line and try again"
	}},
	{profile.ErrUnsupported, wire.CodeUnsupported, http.StatusConflict, RetryNever, "error",
		hint("use the AWS CLI for that profile, or describe it for credbroker with the keys of README.md")},
	{ErrNoAccessKey, wire.CodeNoAccessKey, http.StatusConflict, RetryNever, "error", func(err error) string {
		var nk *NoAccessKeyError
		if errors.As(err, &nk) {
			return "run: credbroker add " + nk.Source
		}
		return "run: credbroker add PROFILE"
	}},
	{ErrRootKey, wire.CodeRootKey, http.StatusForbidden, RetryNever, "error",
		hint("create an IAM user with least privilege and store its key instead; --allow-root overrides this")},
	{ErrForbidden, wire.CodeForbidden, http.StatusForbidden, RetryNever, "error",
		hint("ask the daemon's owner for an [access] rule that allows you this profile")},
	{ErrClockSkew, wire.CodeClockSkew, http.StatusServiceUnavailable, RetryBackoff, "retrying",
		hint("this machine's clock is off by more than 5 minutes (STS refuses such signatures): set it right (timedatectl, chrony or ntpd); nothing is wrong with the key")},
	{ErrKeyRejected, wire.CodeKeyRejected, http.StatusConflict, RetryNever, "error", func(err error) string {
		var se *STSError
		if errors.As(err, &se) && se.Op == "GetCallerIdentity" {
			return "check the key id and secret you entered (IAM console, Security credentials): nothing was stored"
		}
		return "the stored key was deleted, deactivated or mistyped: run credbroker add " + stsProfile(err)
	}},
	{ErrMFARefused, wire.CodeMFARefused, http.StatusForbidden, RetryLocked, "mfa_refused", func(err error) string {
		var se *STSError
		if errors.As(err, &se) && !se.GeneratedCode {
			return "nothing is retried (repeated failures can lock the device): wait for the next code, then run: credbroker unlock " + stsProfile(err)
		}
		p := stsProfile(err)
		return "nothing is retried (repeated failures can lock the device): check this machine's clock and the seed (credbroker totp code " + p + " against your authenticator), then store it again: credbroker totp add " + p
	}},
	{mfa.ErrStepAhead, wire.CodeMFAStepAhead, http.StatusConflict, RetryNever, "error",
		hint("check this machine's clock; if it is right now, forget the recorded step: credbroker mfa reset PROFILE")},
	{ErrMFAWait, wire.CodeMFAWait, http.StatusTooManyRequests, RetryHuman, "mfa_required", func(err error) string {
		var w *MFAWaitError
		if errors.As(err, &w) {
			return fmt.Sprintf("wait %s for the next code, then run: credbroker unlock %s", w.Wait.Round(time.Second), w.Profile)
		}
		return "wait for the next code, then run: credbroker unlock PROFILE"
	}},
	{ErrMFARequired, wire.CodeMFARequired, http.StatusUnauthorized, RetryHuman, "mfa_required", func(err error) string {
		var me *MFAError
		if errors.As(err, &me) {
			return "run: credbroker unlock " + me.Profile
		}
		return "store the device's seed (credbroker totp add PROFILE) or run the command in a terminal"
	}},
	{ErrSTSUnreachable, wire.CodeSTSUnreachable, http.StatusServiceUnavailable, RetryBackoff, "retrying",
		hint("check the network and AWS_ENDPOINT_URL_STS / endpoint_url")},
	{ErrAccessDenied, wire.CodeAccessDenied, http.StatusForbidden, RetryNever, "error", func(err error) string {
		var se *STSError
		if errors.As(err, &se) && se.Op != "AssumeRole" {
			return "check the IAM user's permission for sts:" + se.Op
		}
		return "check the role's trust policy and the caller's sts:AssumeRole permission"
	}},
	{ErrSTSUnavailable, wire.CodeSTSUnavailable, http.StatusServiceUnavailable, RetryBackoff, "retrying",
		hint("STS is throttling or failing; credbroker retries with backoff")},
	{ErrExpiredToken, wire.CodeExpiredToken, http.StatusServiceUnavailable, RetryBackoff, "retrying",
		hint("a cached session was revoked or expired early; if this persists, check this machine's clock")},
	{ErrInvalidRequest, wire.CodeInvalidRequest, http.StatusConflict, RetryNever, "error", func(err error) string {
		var se *STSError
		switch {
		case errors.As(err, &se) && se.Code == "RegionDisabledException":
			return "STS is not enabled in this region for the account: enable it, or set another region"
		case se != nil && se.Op == "GetSessionToken":
			return "check mfa_serial: it must be the ARN (or serial) of an MFA device of this IAM user"
		}
		return "check role_arn, external_id and duration_seconds of the profile"
	}},
	{ErrDamagedSeed, wire.CodeDamagedSeed, http.StatusConflict, RetryNever, "error", func(err error) string {
		var ds *DamagedSeedError
		if errors.As(err, &ds) {
			return "store it again: credbroker totp add " + ds.Profile
		}
		return "store it again: credbroker totp add PROFILE"
	}},
	{ErrNoSeed, wire.CodeNoSeed, http.StatusConflict, RetryNever, "error",
		hint("store the device's seed: credbroker totp add PROFILE < seed.txt")},
	{keystore.ErrPassphraseRequired, wire.CodePassphrase, http.StatusUnauthorized, RetryHuman, "locked",
		hint("run: credbroker unlock (it asks for the keyring's passphrase), or set CREDBROKER_FILE_PASSPHRASE for scripts")},
	{keystore.ErrNotAnswering, wire.CodeKeyringStalled, http.StatusServiceUnavailable, RetryBackoff, "retrying",
		hint("unlock the login keyring (a locked collection waits for a password prompt), or check that gnome-keyring-daemon (or your keyring's service) is running")},
	{keystore.ErrWrongPassphrase, wire.CodeKeyring, http.StatusInternalServerError, RetryBackoff, "retrying",
		hint("check CREDBROKER_FILE_PASSPHRASE")},
	{ErrKeyringMismatch, wire.CodeKeyringMismatch, http.StatusConflict, RetryNever, "error",
		hint("unset CREDBROKER_SOCKET (each keyring gets a daemon of its own), or run: credbroker daemon restart")},
	{ErrBadRequest, wire.CodeBadRequest, http.StatusBadRequest, RetryNever, "error", hint("")},
	{wire.ErrNoDaemon, wire.CodeNoDaemon, http.StatusServiceUnavailable, RetryBackoff, "error",
		hint("start it with credbroker daemon (or credbroker service install --user), or unset CREDBROKER_NO_AUTOSTART")},
	{wire.ErrForeignDaemon, wire.CodeForeignDaemon, http.StatusForbidden, RetryNever, "error",
		hint("set CREDBROKER_SOCKET to a socket in a folder only you can write, or have that folder removed")},
	{ErrDaemonRunning, wire.CodeDaemonRunning, http.StatusConflict, RetryNever, "error",
		hint("stop the other daemon first (credbroker daemon stop), or set CREDBROKER_SOCKET to another path")},
	{wire.ErrUnsafeSocket, wire.CodeUnsafeSocket, http.StatusInternalServerError, RetryNever, "error", hint("")},
	{wire.ErrThrottled, wire.CodeThrottled, http.StatusTooManyRequests, RetryBackoff, "retrying",
		hint("the daemon serves each local user a share (connections at once, requests a second): have fewer processes ask at once, or ask the daemon's owner")},
	{context.DeadlineExceeded, wire.CodeTimeout, http.StatusGatewayTimeout, RetryBackoff, "retrying", hint("")},
}

// internalClass is the class of what no row matches: keyring trouble and
// the unforeseen, retried with backoff.
var internalClass = Class{nil, wire.CodeInternal, http.StatusInternalServerError, RetryBackoff, "retrying", hint("")}

// ClassOf returns the class of err: the first row of Classes whose
// sentinel it matches, else the internal class.
func ClassOf(err error) Class {
	for _, c := range Classes {
		if errors.Is(err, c.Sentinel) {
			return c
		}
	}
	return internalClass
}

// hinted is an error that knows the command or check that fixes it, apart
// from its message (which never carries the hint).
type hinted interface {
	error
	Hint() string
}

// Explain turns an error into one line for a human, the command or check
// that fixes it ("" when there is none), and the code for the daemon's
// API. An error the daemon answered with (*wire.Error) is explained as the
// daemon explained it.
func Explain(err error) (msg, hint string, code wire.Code) {
	var de *wire.Error
	if errors.As(err, &de) {
		return de.Message, de.Hint, de.Code
	}
	c := ClassOf(err)
	hint = c.Hint(err)
	var h hinted
	if errors.As(err, &h) && h.Hint() != "" {
		hint = h.Hint()
	}
	return err.Error(), hint, c.Code
}

// stsProfile is the profile an STS failure is about, for hints.
func stsProfile(err error) string {
	var se *STSError
	if errors.As(err, &se) && se.Profile != "" {
		return se.Profile
	}
	return "PROFILE"
}
