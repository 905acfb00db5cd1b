package sandbox

import (
	"fmt"
	"net/http"
)

// errorClass is how AWS answers one error code: the HTTP status and
// whether the fault is the caller's (Sender) or the service's (Receiver).
type errorClass struct {
	status int
	fault  string
}

// errorClasses is the one table every error answer reads its status and
// fault from. The statuses are AWS's: the STS and IAM API references'
// "Common Errors" pages and botocore's sts and iam service-2.json error
// shapes (ExpiredTokenException 400, InvalidIdentityToken 400,
// NoSuchEntity 404, LimitExceeded 409, ...). The signature and token codes are what STS
// answers on the wire (ExpiredToken and SignatureDoesNotMatch with 403,
// as SDKs see them), which the common errors page lists under other names.
var errorClasses = map[string]errorClass{
	// Authentication (every service).
	"MissingAuthenticationToken": {http.StatusForbidden, "Sender"},
	"IncompleteSignature":        {http.StatusBadRequest, "Sender"},
	"InvalidClientTokenId":       {http.StatusForbidden, "Sender"},
	"SignatureDoesNotMatch":      {http.StatusForbidden, "Sender"},
	"ExpiredToken":               {http.StatusForbidden, "Sender"},
	"RequestExpired":             {http.StatusBadRequest, "Sender"},
	"AccessDenied":               {http.StatusForbidden, "Sender"},
	// Requests.
	"InvalidAction":   {http.StatusBadRequest, "Sender"},
	"ValidationError": {http.StatusBadRequest, "Sender"},
	"InternalFailure": {http.StatusInternalServerError, "Receiver"},
	// STS (botocore sts service-2.json).
	"MalformedPolicyDocument":              {http.StatusBadRequest, "Sender"},
	"InvalidAuthorizationMessageException": {http.StatusBadRequest, "Sender"},
	"InvalidIdentityToken":                 {http.StatusBadRequest, "Sender"},
	"ExpiredTokenException":                {http.StatusBadRequest, "Sender"},
	// IAM (botocore iam service-2.json).
	"NoSuchEntity":              {http.StatusNotFound, "Sender"},
	"LimitExceeded":             {http.StatusConflict, "Sender"},
	"EntityAlreadyExists":       {http.StatusConflict, "Sender"},
	"InvalidAuthenticationCode": {http.StatusForbidden, "Sender"},
	"InvalidInput":              {http.StatusBadRequest, "Sender"},
}

// apiError is an error answer: a code of errorClasses and AWS's message.
type apiError struct {
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// class is the error's row; an unknown code is the sandbox's own fault.
func (e *apiError) class() errorClass {
	if c, ok := errorClasses[e.Code]; ok {
		return c
	}
	return errorClass{http.StatusInternalServerError, "Receiver"}
}

func newError(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Messages AWS answers word for word, where more than one place needs them.
const (
	msgInvalidToken      = "The security token included in the request is invalid."
	msgExpiredToken      = "The security token included in the request is expired"
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgMFAInvalidCode    = "MultiFactorAuthentication failed with invalid MFA one time pass code."
	msgMFAUnknownDevice  = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."
	msgMFAIncomplete     = "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
)

func errInvalidToken() *apiError { return &apiError{"InvalidClientTokenId", msgInvalidToken} }

// validation is AWS's wording for a parameter outside its model's
// constraints: "1 validation error detected: Value '899' at
// 'durationSeconds' failed to satisfy constraint: Member must have value
// greater than or equal to 900".
func validation(value, member, constraint string) *apiError {
	return newError("ValidationError", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, constraint)
}

// validationNull is the same for a missing required parameter.
func validationNull(member string) *apiError {
	return newError("ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}
