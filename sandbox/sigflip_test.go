package sandbox

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestFlippedBytes: requests signed by four independent signers (the AWS
// SDK for Go, botocore through boto3, the AWS SDK for JavaScript v3, and
// the AWS CLI v2), captured on the wire on their way to the sandbox,
// verify when sent again as they were; with one byte changed in any
// signed part (method, path, query, each signed header, body, date,
// credential scope, signed header list, signature) each fails with the
// code AWS gives for that part: InvalidClientTokenId for the access key
// id and the session token, SignatureDoesNotMatch for everything else.
//
// Each signer makes GetSessionToken with a long-lived key and then
// GetCallerIdentity with that session (its token a signed header), POST
// with the parameters in the body; botocore and the Go SDK also presign
// GetCallerIdentity, which puts the parameters and the signature in the
// query. The endpoint has a path (/sbx/), so the path has bytes to change.
func TestFlippedBytes(t *testing.T) {
	fx := startClientSandbox(t)
	for _, signer := range []string{"go-sdk", "boto3", "js-sdk-v3", "aws-cli-v2"} {
		t.Run(signer, func(t *testing.T) {
			t.Parallel()
			capture := startCapture(t, fx.url)
			endpoint := capture.url + "/sbx/"
			var presigned [][]byte
			switch signer {
			case "go-sdk":
				presigned = signWithGoSDK(t, fx, endpoint)
			case "boto3":
				out := runSigner(t, fx, signer, endpoint, "python3", "clients/python/signed_calls.py")
				presigned = append(presigned, presignedRequest(t, strings.TrimSpace(out), nil))
			case "js-sdk-v3":
				npmInstall(t)
				runSigner(t, fx, signer, endpoint, "node", "clients/js/signed_calls.mjs")
			case "aws-cli-v2":
				signWithAWSCLI(t, fx, endpoint)
			}
			reqs := capture.requests(t)
			if len(reqs) != 2 {
				t.Fatalf("%s sent %d requests, want GetSessionToken and GetCallerIdentity", signer, len(reqs))
			}
			for i, raw := range append(reqs, presigned...) {
				name := []string{"GetSessionToken", "GetCallerIdentity with the session", "presigned GetCallerIdentity"}[min(i, 2)]
				t.Run(name, func(t *testing.T) { checkFlips(t, fx, raw) })
			}
		})
	}
}

// checkFlips sends raw as it is (it must verify), then once for each
// signed part with one byte of it changed.
func checkFlips(t *testing.T, fx *clientFixture, raw []byte) {
	addr := strings.TrimPrefix(fx.url, "http://")
	if status, code := sendRaw(t, addr, raw); status != http.StatusOK {
		t.Fatalf("the request as signed: %d %s, want 200\n%s", status, code, redactRaw(raw))
	}
	flips := flipsOf(t, raw)
	parts := map[string]bool{}
	for _, f := range flips {
		parts[strings.SplitN(f.part, " ", 2)[0]] = true
		changed := bytes.Clone(raw)
		changed[f.at] = f.to
		status, code := sendRaw(t, addr, changed)
		if code != f.want {
			t.Errorf("%s (byte %d %q -> %q): %d %s, want %s", f.part, f.at, raw[f.at], f.to, status, code, f.want)
		}
	}
	for _, want := range []string{"method", "path", "host", "date", "scope-date", "scope-region", "scope-service", "scope-terminator", "key-id", "signed-headers", "signature"} {
		if !parts[want] {
			t.Errorf("no byte of part %s was changed", want)
		}
	}
	if !parts["body"] && !parts["query"] {
		t.Error("neither the body nor the query was changed")
	}
	if !t.Failed() {
		t.Logf("%d one-byte changes, each refused: %s", len(flips), strings.Join(partNames(flips), ", "))
	}
}

func partNames(flips []byteFlip) []string {
	var names []string
	for _, f := range flips {
		names = append(names, f.part)
	}
	return names
}

// redactRaw shows a request's head without its signature and token.
func redactRaw(raw []byte) string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	return string(head)
}

// signWithGoSDK makes the two calls with the Go SDK through endpoint, and
// presigns GetCallerIdentity.
func signWithGoSDK(t *testing.T, fx *clientFixture, endpoint string) [][]byte {
	u := fx.users["go-sdk"]
	ctx := context.Background()
	transport := &http.Transport{}
	client := func(c creds) *sts.Client {
		return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
			Credentials: staticCreds(c), HTTPClient: &http.Client{Transport: transport}})
	}
	base := client(creds{id: u.keyID, secret: u.secret})
	st, err := base.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	session := creds{*st.Credentials.AccessKeyId, *st.Credentials.SecretAccessKey, *st.Credentials.SessionToken}
	if _, err := client(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	transport.CloseIdleConnections()
	pre, err := sts.NewPresignClient(base).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{presignedRequest(t, pre.URL, pre.SignedHeader)}
}

// signWithAWSCLI makes the two calls with the AWS CLI v2 through endpoint.
func signWithAWSCLI(t *testing.T, fx *clientFixture, endpoint string) {
	path := awsCLIs()["2"]
	if path == "" {
		needTool(t, "the AWS CLI v2", "apt-get install awscli")
	}
	u := fx.users["aws-cli-v2"]
	env := fx.env(t, u)
	get := exec.Command(path, "sts", "get-session-token", "--duration-seconds", "900", "--endpoint-url", endpoint,
		"--query", "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]", "--output", "text")
	get.Env = env
	var stderr bytes.Buffer
	get.Stderr = &stderr
	out, err := get.Output()
	if err != nil {
		t.Fatalf("aws sts get-session-token: %v: %s", err, stderr.String())
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		t.Fatalf("aws sts get-session-token printed %d fields", len(f))
	}
	cmd := exec.Command(path, "sts", "get-caller-identity", "--endpoint-url", endpoint)
	cmd.Env = append(withoutKeys(env), "AWS_ACCESS_KEY_ID="+f[0], "AWS_SECRET_ACCESS_KEY="+f[1], "AWS_SESSION_TOKEN="+f[2])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws sts get-caller-identity: %v: %s", err, out)
	}
}

// runSigner runs a harness that makes the two calls through endpoint and
// returns what it printed.
func runSigner(t *testing.T, fx *clientFixture, user, endpoint, interpreter, script string) string {
	t.Helper()
	path, err := exec.LookPath(interpreter)
	if err != nil {
		needTool(t, interpreter, "Python 3 with boto3 (the machine image), or nodejs and npm")
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = append(fx.env(t, fx.users[user]), "SANDBOX_SIGNED_URL="+endpoint)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", interpreter, script, err, stderr.String())
	}
	return string(out)
}
