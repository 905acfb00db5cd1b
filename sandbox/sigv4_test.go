package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// tamper is an http.RoundTripper that changes each request after the SDK
// signed it, as something in transit would.
type tamper func(*http.Request)

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if t != nil {
		t(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// sdkClient is the AWS SDK for Go's STS client for the sandbox at url,
// signing with c, its requests changed by t after signing.
func sdkClient(url string, c creds, t tamper) *sts.Client {
	return sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(c.id, c.secret, c.token),
		HTTPClient:       &http.Client{Transport: t},
		RetryMaxAttempts: 1,
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestSDKSignaturesVerify: the Go SDK's requests verify, with a long-lived
// key and with temporary credentials (whose token is a signed header).
func TestSDKSignaturesVerify(t *testing.T) {
	w := newWorld(t, nil)
	w.srv.Now = time.Now // the SDK signs with the real clock
	w.clock.t = time.Now()
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	ctx := context.Background()
	c := sdkClient(ts.URL, w.alice, nil)
	id, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Arn != "arn:aws:iam::111111111111:user/alice" {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	code, _ := codeAt(w.seed, time.Now().Unix()/totpPeriod)
	st, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(aliceSerial), TokenCode: aws.String(code)})
	if err != nil {
		t.Fatal(err)
	}
	sc := sdkClient(ts.URL, creds{*st.Credentials.AccessKeyId, *st.Credentials.SecretAccessKey, *st.Credentials.SessionToken}, nil)
	ar, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(w.admin), RoleSessionName: aws.String("sdk")})
	if err != nil {
		t.Fatal(err)
	}
	if *ar.AssumedRoleUser.Arn != "arn:aws:sts::222222222222:assumed-role/Admin/sdk" {
		t.Fatalf("assumed %s", *ar.AssumedRoleUser.Arn)
	}
	_, err = sc.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(aliceSerial), TokenCode: aws.String(code)})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("GetSessionToken with session credentials: %v", err)
	}
}

// TestTamperedRequestsFail: one byte changed in any signed part of a
// request the SDK signed is SignatureDoesNotMatch; the same request
// untouched passes (so each case fails only for its change).
func TestTamperedRequestsFail(t *testing.T) {
	w := newWorld(t, nil)
	w.srv.Now = time.Now
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	replaceHeader := func(name, old, new string) tamper {
		return func(r *http.Request) {
			v := r.Header.Get(name)
			if !strings.Contains(v, old) {
				panic("no " + old + " in " + name + ": " + v)
			}
			r.Header.Set(name, strings.Replace(v, old, new, 1))
		}
	}
	for _, tc := range []struct {
		name string
		t    tamper
	}{
		{"untouched", nil},
		{"method", func(r *http.Request) { r.Method = "PUT" }},
		{"path", func(r *http.Request) { r.URL.Path = "/x" }},
		{"query", func(r *http.Request) { r.URL.RawQuery = "Action=GetCallerIdentitz" }},
		{"a signed header", replaceHeader("Content-Type", "x-www", "x-wwx")},
		{"the body", func(r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			body = bytes.Replace(body, []byte("2011-06-15"), []byte("2011-06-16"), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}},
		{"the date", func(r *http.Request) {
			d, _ := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
			r.Header.Set("X-Amz-Date", d.Add(-time.Second).Format("20060102T150405Z"))
		}},
		{"the scope's region", replaceHeader("Authorization", "/us-east-1/", "/us-east-2/")},
		{"the signed header list", replaceHeader("Authorization", "SignedHeaders=", "SignedHeaders=accept;")},
		{"the signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			r.Header.Set("Authorization", a[:len(a)-1]+string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", last)+1)%16]))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sdkClient(ts.URL, w.alice, tc.t).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			switch {
			case tc.t == nil && err != nil:
				t.Fatalf("untouched request: %v", err)
			case tc.t != nil && apiCode(err) != "SignatureDoesNotMatch":
				t.Fatalf("got %v, want SignatureDoesNotMatch", err)
			}
		})
	}
}

func TestSignatureTimeAndScope(t *testing.T) {
	w := newWorld(t, nil)
	gci := map[string]string{"Action": "GetCallerIdentity"}
	now := w.clock.Now()
	w.refused(w.callAt(w.alice, "sts", gci, now.Add(-10*time.Minute)), http.StatusForbidden, "SignatureDoesNotMatch",
		"Signature expired: 20261127T095015Z is now earlier than 20261127T095515Z (20261127T100015Z - 5 min.)")
	w.refused(w.callAt(w.alice, "sts", gci, now.Add(10*time.Minute)), http.StatusForbidden, "SignatureDoesNotMatch",
		"Signature not yet current: 20261127T101015Z is still later than 20261127T100515Z (20261127T100015Z + 5 min.)")
	w.ok(w.callAt(w.alice, "sts", gci, now.Add(-4*time.Minute)), nil)
	// Signed for IAM, sent to STS.
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	signRequest(t, req, w.alice, "iam", now)
	w.refused(w.serve(req), http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'.")
	// An Authorization header without its parts.
	for _, tc := range []struct{ header, msg string }{
		{"AWS4-HMAC-SHA256 Credential=" + w.alice.id + "/20261127/us-east-1/sts/aws4_request", "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"AWS4-HMAC-SHA512 Credential=x", "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"},
		{"AWS4-HMAC-SHA256 Credential=" + w.alice.id + "/20261127/us-east-1/sts, SignedHeaders=host, Signature=00", "Credential should be scoped to a valid region, service and terminator"},
	} {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Amz-Date", "20261127T100015Z")
		req.Header.Set("Authorization", tc.header)
		w.refused(w.serve(req), http.StatusBadRequest, "IncompleteSignature", tc.msg)
	}
	// An inactive key is refused like an unknown one.
	w.ok(w.call(w.alice, "iam", map[string]string{"Action": "UpdateAccessKey", "AccessKeyId": w.alice.id, "Status": "Inactive"}), nil)
	w.refused(w.call(w.alice, "sts", gci), http.StatusForbidden, "InvalidClientTokenId", msgInvalidToken)
}

// TestPresignedURL: a GetCallerIdentity URL presigned with query
// parameters (as EKS tokens are) verifies until X-Amz-Expires, then
// RequestExpired; an altered one fails.
func TestPresignedURL(t *testing.T) {
	w := newWorld(t, nil)
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: w.alice.id, SecretAccessKey: w.alice.secret},
		req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sts", "us-east-1", w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) answer { return w.serve(httptest.NewRequest(http.MethodGet, u, nil)) }
	var id identityResult
	w.ok(get(signed), &id)
	if id.Arn != "arn:aws:iam::111111111111:user/alice" {
		t.Fatalf("presigned caller %s", id.Arn)
	}
	u, _ := url.Parse(signed)
	q := u.Query()
	q.Set("Version", "2011-06-16")
	u.RawQuery = q.Encode()
	w.refused(get(u.String()), http.StatusForbidden, "SignatureDoesNotMatch", msgSignatureMismatch)
	w.clock.Add(61 * time.Second)
	w.refused(get(signed), http.StatusBadRequest, "RequestExpired", "Request has expired.")
}
