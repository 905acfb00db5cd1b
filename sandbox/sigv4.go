package sandbox

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigV4 is what a request says about its Signature Version 4 signature,
// from its Authorization header or (a presigned URL) its query.
type sigV4 struct {
	keyID                          string
	scopeDate, region, service     string
	signedHeaders                  []string
	signature                      string
	date                           time.Time // X-Amz-Date
	presigned                      bool
	expires                        time.Duration // X-Amz-Expires of a presigned URL
	token                          string        // X-Amz-Security-Token
	rawDate, credential, terminate string
}

const sigAlgorithm = "AWS4-HMAC-SHA256"

// maxPresignExpiry is SigV4's limit on X-Amz-Expires: seven days.
const maxPresignExpiry = 7 * 24 * time.Hour

// signed reports whether r carries a signature at all.
func signed(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Signature") != ""
}

// parseSigV4 reads r's signature fields. What is missing or malformed is
// IncompleteSignature, with AWS's wording; nothing of the header is echoed.
func parseSigV4(r *http.Request) (*sigV4, *apiError) {
	s := &sigV4{}
	var missing []string
	if auth := r.Header.Get("Authorization"); auth != "" {
		alg, rest, _ := strings.Cut(auth, " ")
		if alg != sigAlgorithm {
			return nil, newError("IncompleteSignature", "Unsupported AWS 'algorithm': '%s'", clip(alg, 32))
		}
		for _, part := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				return nil, newError("IncompleteSignature", "'%s' not a valid key=value pair (missing equal-sign) in Authorization header", clip(k, 64))
			}
			switch k {
			case "Credential":
				s.credential = v
			case "SignedHeaders":
				s.signedHeaders = strings.Split(v, ";")
			case "Signature":
				s.signature = v
			}
		}
		s.rawDate = r.Header.Get("X-Amz-Date")
		s.token = r.Header.Get("X-Amz-Security-Token")
		for _, m := range [][2]string{{"Credential", s.credential}, {"Signature", s.signature}, {"SignedHeaders", strings.Join(s.signedHeaders, ";")}} {
			if m[1] == "" {
				missing = append(missing, "Authorization header requires '"+m[0]+"' parameter.")
			}
		}
		if s.rawDate == "" {
			missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
	} else {
		q := r.URL.Query()
		s.presigned = true
		if alg := q.Get("X-Amz-Algorithm"); alg != sigAlgorithm {
			return nil, newError("IncompleteSignature", "Unsupported AWS 'algorithm': '%s'", clip(alg, 32))
		}
		s.credential, s.signature, s.rawDate = q.Get("X-Amz-Credential"), q.Get("X-Amz-Signature"), q.Get("X-Amz-Date")
		s.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
		s.token = q.Get("X-Amz-Security-Token")
		for _, m := range [][2]string{{"X-Amz-Credential", s.credential}, {"X-Amz-SignedHeaders", q.Get("X-Amz-SignedHeaders")}, {"X-Amz-Date", s.rawDate}} {
			if m[1] == "" {
				missing = append(missing, "AWS query-string parameters must include '"+m[0]+"'.")
			}
		}
		if e := q.Get("X-Amz-Expires"); e != "" {
			n, err := strconv.Atoi(e)
			if err != nil || n < 1 || time.Duration(n)*time.Second > maxPresignExpiry {
				return nil, newError("IncompleteSignature", "X-Amz-Expires must be a number of seconds from 1 to 604800")
			}
			s.expires = time.Duration(n) * time.Second
		}
	}
	if len(missing) > 0 {
		return nil, newError("IncompleteSignature", "%s", strings.Join(missing, " "))
	}
	parts := strings.Split(s.credential, "/")
	if len(parts) != 5 {
		return nil, newError("IncompleteSignature", "Credential should be scoped to a valid region, service and terminator: KEY/YYYYMMDD/REGION/SERVICE/aws4_request")
	}
	s.keyID, s.scopeDate, s.region, s.service, s.terminate = parts[0], parts[1], parts[2], parts[3], parts[4]
	d, err := time.Parse("20060102T150405Z", s.rawDate)
	if err != nil {
		return nil, newError("IncompleteSignature", "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", clip(s.rawDate, 32))
	}
	s.date = d
	return s, nil
}

// checkScope checks the credential scope and the request's time: the
// scope's date is X-Amz-Date's, its service the one called, its region a
// region, and X-Amz-Date within skew of now (or, presigned, the URL not
// past its X-Amz-Expires). The messages are AWS's.
func (s *sigV4) checkScope(service string, now time.Time, skew time.Duration) *apiError {
	if s.terminate != "aws4_request" {
		return newError("SignatureDoesNotMatch", "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", clip(s.terminate, 32))
	}
	if want := s.rawDate[:8]; s.scopeDate != want {
		return newError("SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from 'X-Amz-Date'.", clip(s.scopeDate, 16), want)
	}
	if s.service != service {
		return newError("SignatureDoesNotMatch", "Credential should be scoped to correct service: '%s'. ", service)
	}
	if !validRegion(s.region) {
		return newError("SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")
	}
	const stamp = "20060102T150405Z"
	// Signature Version 4: "AWS rejects the request if the date in
	// X-Amz-Date is more than five minutes away from the time AWS
	// received it" (the skew is a field: STS itself allows 15 minutes);
	// a presigned URL may be used until its X-Amz-Expires instead.
	if s.presigned && s.expires > 0 {
		if now.After(s.date.Add(s.expires)) {
			return newError("RequestExpired", "Request has expired.")
		}
	} else if now.Sub(s.date) > skew {
		return newError("SignatureDoesNotMatch", "Signature expired: %s is now earlier than %s (%s - %d min.)",
			s.rawDate, now.Add(-skew).UTC().Format(stamp), now.UTC().Format(stamp), int(skew/time.Minute))
	}
	if s.date.Sub(now) > skew {
		return newError("SignatureDoesNotMatch", "Signature not yet current: %s is still later than %s (%s + %d min.)",
			s.rawDate, now.Add(skew).UTC().Format(stamp), now.UTC().Format(stamp), int(skew/time.Minute))
	}
	return nil
}

// verify recomputes the signature with the AWS SDK's own signer over the
// parts of r the client says it signed (method, path, query, the signed
// headers, the body's SHA-256, the date and the scope) and compares. A
// client that signed a header the SDK's signer never signs (User-Agent)
// cannot be verified, and fails.
func (s *sigV4) verify(r *http.Request, body []byte, secret string) *apiError {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if s.presigned {
		q := u.Query()
		q.Del("X-Amz-Signature")
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), nil)
	if err != nil {
		return &apiError{"SignatureDoesNotMatch", msgSignatureMismatch}
	}
	req.Host = r.Host
	for _, h := range s.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: secret}
	noToken := func(o *v4.SignerOptions) { o.DisableSessionToken, o.DisableHeaderHoisting = true, true }
	signer := v4.NewSigner()
	var got string
	if s.presigned {
		signedURL, _, err := signer.PresignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), s.service, s.region, s.date, noToken)
		if err != nil {
			return &apiError{"SignatureDoesNotMatch", msgSignatureMismatch}
		}
		pu, err := url.Parse(signedURL)
		if err != nil || !slices.Equal(strings.Split(pu.Query().Get("X-Amz-SignedHeaders"), ";"), s.signedHeaders) {
			return &apiError{"SignatureDoesNotMatch", msgSignatureMismatch}
		}
		got = pu.Query().Get("X-Amz-Signature")
	} else {
		if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), s.service, s.region, s.date, noToken); err != nil {
			return &apiError{"SignatureDoesNotMatch", msgSignatureMismatch}
		}
		ours, err := parseAuthorization(req.Header.Get("Authorization"))
		if err != nil || !slices.Equal(ours.signedHeaders, s.signedHeaders) {
			return &apiError{"SignatureDoesNotMatch", msgSignatureMismatch}
		}
		got = ours.signature
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.signature)) != 1 {
		return &apiError{"SignatureDoesNotMatch", msgSignatureMismatch}
	}
	return nil
}

// parseAuthorization reads back the header the SDK's signer wrote.
func parseAuthorization(h string) (*sigV4, *apiError) {
	r := &http.Request{Header: http.Header{"Authorization": {h}, "X-Amz-Date": {"20000101T000000Z"}}, URL: &url.URL{}}
	return parseSigV4(r)
}

// validRegion: lowercase letters, digits and dashes, as region names are.
func validRegion(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// clip bounds what an error quotes of a request.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
