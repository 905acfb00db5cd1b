package sandbox

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// signinTokenLifetime: IAM User Guide, custom identity broker: "The
// sign-in token is valid for 15 minutes after it is issued".
const signinTokenLifetime = 15 * time.Minute

// maxConsoleSession is the longest console session the federation
// endpoint gives (SessionDuration at most 43200 seconds).
const maxConsoleSession = 12 * time.Hour

// signinClaims is what a sign-in token seals.
type signinClaims struct {
	ARN            string `json:"arn"`
	Account        string `json:"acct"`
	Expires        int64  `json:"exp"`
	ConsoleExpires int64  `json:"cexp"`
}

// serveFederation answers the console sign-in federation endpoint
// (https://signin.aws.amazon.com/federation), as the IAM User Guide's
// "Enable custom identity broker access to the AWS console" describes it:
//
//	GET /federation?Action=getSigninToken&Session={"sessionId":..,"sessionKey":..,"sessionToken":..}[&SessionDuration=N]
//	  -> {"SigninToken":"..."}
//	GET /federation?Action=login&Issuer=..&Destination=URL&SigninToken=..
//	  -> 302 to Destination
//
// Only credentials of a role session (AssumeRole*) or a federated user
// (GetFederationToken) sign in; SessionDuration (900 to 43200 seconds) is
// for role sessions not made by role chaining.
func (s *Server) serveFederation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		fedError(w, http.StatusMethodNotAllowed, "the federation endpoint takes GET (or POST) requests")
		return
	}
	if err := r.ParseForm(); err != nil {
		fedError(w, http.StatusBadRequest, "the request's parameters are not a valid form")
		return
	}
	sn := s.cur.Load()
	switch r.Form.Get("Action") {
	case "getSigninToken":
		s.getSigninToken(w, r.Form, sn)
	case "login":
		s.login(w, r, sn)
	default:
		fedError(w, http.StatusBadRequest, "Action must be getSigninToken or login")
	}
}

func (s *Server) getSigninToken(w http.ResponseWriter, form url.Values, sn *snapshot) {
	var session struct {
		ID    string `json:"sessionId"`
		Key   string `json:"sessionKey"`
		Token string `json:"sessionToken"`
	}
	if err := json.Unmarshal([]byte(form.Get("Session")), &session); err != nil || session.ID == "" || session.Key == "" || session.Token == "" {
		fedError(w, http.StatusBadRequest, `Session must be the JSON {"sessionId":...,"sessionKey":...,"sessionToken":...} of temporary credentials`)
		return
	}
	now := s.now()
	cl, ok := sn.openSession(session.ID, session.Token)
	if !strings.HasPrefix(session.ID, "ASIA") || !ok ||
		subtle.ConstantTimeCompare([]byte(temporarySecret(sn.st.SealKey, session.ID)), []byte(session.Key)) != 1 {
		fedError(w, http.StatusForbidden, "the session credentials are not valid")
		return
	}
	if _, err := sessionCaller(sn.ix, cl); err != nil {
		fedError(w, http.StatusForbidden, "the session credentials are not valid")
		return
	}
	expires := time.Unix(cl.Expires, 0)
	if !now.Before(expires) {
		fedError(w, http.StatusForbidden, "the session credentials have expired")
		return
	}
	if cl.Kind == kindUserSession {
		fedError(w, http.StatusForbidden, "credentials from GetSessionToken cannot sign in to the console: use AssumeRole or GetFederationToken")
		return
	}
	console := expires
	if limit := now.Add(maxConsoleSession); limit.Before(console) {
		console = limit
	}
	if v := form.Get("SessionDuration"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 900 || n > 43200:
			fedError(w, http.StatusBadRequest, "SessionDuration must be 900 to 43200 seconds")
			return
		case cl.Kind != kindRole || cl.Chained:
			fedError(w, http.StatusBadRequest, "SessionDuration is for role sessions not made by role chaining")
			return
		}
		console = now.Add(time.Duration(n) * time.Second)
	}
	token, err := sn.seal.seal(s.rand(), sealSignin, signinClaims{ARN: cl.ARN, Account: cl.Account,
		Expires: now.Add(signinTokenLifetime).Unix(), ConsoleExpires: console.Unix()}, base64.RawURLEncoding)
	if err != nil {
		fedError(w, http.StatusInternalServerError, "the sign-in token could not be made")
		return
	}
	body, _ := json.Marshal(struct {
		SigninToken string `json:"SigninToken"`
	}{token})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, sn *snapshot) {
	var cl signinClaims
	if sn.seal.open(sealSignin, r.Form.Get("SigninToken"), &cl, base64.RawURLEncoding) != nil {
		fedError(w, http.StatusForbidden, "the sign-in token is not valid")
		return
	}
	if !s.now().Before(time.Unix(cl.Expires, 0)) {
		fedError(w, http.StatusForbidden, "the sign-in token has expired (they are valid for 15 minutes)")
		return
	}
	dest, err := url.Parse(r.Form.Get("Destination"))
	if err != nil || (dest.Scheme != "https" && dest.Scheme != "http") || dest.Host == "" {
		fedError(w, http.StatusBadRequest, "Destination must be an absolute http(s) URL")
		return
	}
	http.Redirect(w, r, dest.String(), http.StatusFound)
}

// fedError answers the federation endpoint's errors as plain text.
func fedError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
