//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/internal/stspeer"
	"github.com/credbroker/credbroker/keystore"
)

// accountCmds are the script commands of the rotate, mfa enrol and login
// scenarios, in every suite that has the daemon's commands (the moto and
// the sandbox suites).
func init() { addCmds(daemonCmds, accountCmds) }

var accountCmds = map[string]func(*testscript.TestScript, bool, []string){
	"iam-auth-user":     cmdIAMAuthUser,
	"stored-key-listed": cmdStoredKeyListed,
	"old-key-rejected":  cmdOldKeyRejected,
	"iam-delete-other":  cmdIAMDeleteOther,
	"iam-fault":         cmdIAMFault,
	"enrol-vs-oathtool": cmdEnrolVsOathtool,
	"signin-url-works":  cmdSigninURLWorks,
}

// userPolicy lets an IAM user look after its own keys and MFA devices, as
// the IAM User Guide's self-service example policies do, and make
// sessions.
const userPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*AccessKey*","iam:*MFADevice*","sts:GetSessionToken"],"Resource":"*"}]}`

// iam-auth-user NAME: a moto that checks keys, signatures and IAM policies
// (after the three actions made here) answers behind the proxy from now
// on, with IAM user NAME, a policy letting NAME manage its own keys and
// MFA devices, and a key (secret kept in the test's memory; $NAME_KEY_ID).
func cmdIAMAuthUser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: iam-auth-user NAME")
	}
	m, err := stspeer.StartMoto(nil, "INITIAL_NO_AUTH_ACTION_COUNT=3")
	ts.Check(err)
	ts.Defer(m.Stop)
	name := args[0]
	k, err := stspeer.CreateIAMUser(m.URL, name)
	ts.Check(err)
	_, err = stspeer.IAMCall(m.URL, url.Values{"Action": {"PutUserPolicy"}, "UserName": {name}, "PolicyName": {"self-service"}, "PolicyDocument": {userPolicy}})
	ts.Check(err)
	ts.Check(proxyOf(ts).SetTarget(m.URL))
	s := stateOf(ts)
	s.values[name+"_KEY_ID"], s.values[name+"_SECRET"] = k.ID, k.Secret
	ts.Setenv(name+"_KEY_ID", k.ID)
}

// storedKey is PROFILE's access key in the script's keyring.
func storedKey(ts *testscript.TestScript, profile string) keystore.AccessKey {
	keys, err := keystore.Open(keystore.ConfigFromEnv(ts.Getenv))
	ts.Check(err)
	k, err := keys.AccessKey(profile)
	ts.Check(err)
	return k
}

func peerClients(ts *testscript.TestScript, id, secret string) (*iam.Client, *sts.Client) {
	creds := credentials.NewStaticCredentialsProvider(id, secret, "")
	base := aws.String(proxyOf(ts).Target())
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: base, Credentials: creds, RetryMaxAttempts: 1}),
		sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: base, Credentials: creds, RetryMaxAttempts: 1})
}

// stored-key-listed PROFILE USER N: IAM lists exactly N access keys for
// USER, one of them PROFILE's stored key; the stored key works (the
// listing is signed with it, at a moto that checks signatures and
// policies) and is USER's (GetCallerIdentity).
func cmdStoredKeyListed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: stored-key-listed PROFILE USER N")
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	k := storedKey(ts, args[0])
	iamc, stsc := peerClients(ts, k.AccessKeyID, k.SecretAccessKey)
	ctx := context.Background()
	id, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		ts.Fatalf("the stored key does not work: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(id.Arn), ":user/"+args[1]) {
		ts.Fatalf("the stored key is %s's, not %s's", aws.ToString(id.Arn), args[1])
	}
	out, err := iamc.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(args[1])})
	ts.Check(err)
	var ids []string
	for _, m := range out.AccessKeyMetadata {
		ids = append(ids, aws.ToString(m.AccessKeyId))
	}
	if len(ids) != want || !slices.Contains(ids, k.AccessKeyID) {
		ts.Fatalf("IAM lists %d keys for %s (the stored one among them: %v); want %d with the stored one", len(ids), args[1], slices.Contains(ids, k.AccessKeyID), want)
	}
}

// old-key-rejected USER: the key iam-auth-user made for USER no longer
// works (it was deleted).
func cmdOldKeyRejected(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: old-key-rejected USER")
	}
	s := stateOf(ts)
	_, stsc := peerClients(ts, s.values[args[0]+"_KEY_ID"], s.values[args[0]+"_SECRET"])
	_, err := stsc.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		ts.Fatalf("GetCallerIdentity with the old key: %v; want InvalidClientTokenId", err)
	}
}

// iam-delete-other PROFILE USER: delete USER's keys but PROFILE's stored
// one, signed with the stored one.
func cmdIAMDeleteOther(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: iam-delete-other PROFILE USER")
	}
	k := storedKey(ts, args[0])
	iamc, _ := peerClients(ts, k.AccessKeyID, k.SecretAccessKey)
	ctx := context.Background()
	out, err := iamc.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(args[1])})
	ts.Check(err)
	for _, m := range out.AccessKeyMetadata {
		if aws.ToString(m.AccessKeyId) != k.AccessKeyID {
			_, err := iamc.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(args[1]), AccessKeyId: m.AccessKeyId})
			ts.Check(err)
		}
	}
}

var signedKey = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)

// iam-fault VAR ACTION fail | ACTION reject-new PROFILE | ACTION
// propagate PROFILE N: a proxy in front of $STS, its URL in $VAR, that
// answers ACTION with an error: always (fail: InjectedFault), when not
// signed with PROFILE's key stored now (reject-new: AccessDenied), or
// the first N times it is not (propagate: InvalidClientTokenId, as STS
// answers for a key IAM has not yet propagated). Everything else is
// forwarded.
func cmdIAMFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: iam-fault VAR ACTION fail|reject-new PROFILE|propagate PROFILE N")
	}
	action, mode := args[1], args[2]
	var keep string
	left := 0
	switch {
	case mode == "fail" && len(args) == 3:
	case mode == "reject-new" && len(args) == 4:
		keep = storedKey(ts, args[3]).AccessKeyID
	case mode == "propagate" && len(args) == 5:
		keep = storedKey(ts, args[3]).AccessKeyID
		n, err := strconv.Atoi(args[4])
		ts.Check(err)
		left = n
	default:
		ts.Fatalf("iam-fault: unknown mode %v", args[2:])
	}
	target, err := url.Parse(ts.Getenv("STS"))
	ts.Check(err)
	var mu sync.Mutex
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // SigV4 signs the host
	}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(body))
		key := ""
		if m := signedKey.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			key = m[1]
		}
		code, status := "", 0
		mu.Lock()
		if form.Get("Action") == action {
			switch {
			case mode == "fail":
				code, status = "InjectedFault", http.StatusBadRequest
			case mode == "reject-new" && key != keep:
				code, status = "AccessDenied", http.StatusForbidden
			case mode == "propagate" && key != keep && left > 0:
				left--
				code, status = "InvalidClientTokenId", http.StatusForbidden
			}
		}
		mu.Unlock()
		if code != "" {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>injected by the test</Message></Error><RequestId>0</RequestId></ErrorResponse>`, code)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	ts.Defer(func() { _ = srv.Close() })
	ts.Setenv(args[0], "http://"+l.Addr().String())
}

// enrol-vs-oathtool PROFILE USER: the last EnableMFADevice that reached
// the proxy carried the codes oathtool makes from PROFILE's stored seed
// for two consecutive time steps of the last few minutes, the later of
// which is recorded as used for the device; moto lists the device as
// USER's. The seed becomes a script secret (leakscan looks for it).
func cmdEnrolVsOathtool(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: enrol-vs-oathtool PROFILE USER")
	}
	keys, err := keystore.Open(keystore.ConfigFromEnv(ts.Getenv))
	ts.Check(err)
	stored, err := keys.Get(keystore.KindTOTPSeed, args[0])
	ts.Check(err)
	u, err := url.Parse(string(stored))
	ts.Check(err)
	secret := u.Query().Get("secret")
	if len(secret) < 16 {
		ts.Fatalf("the stored seed holds no secret")
	}
	stateOf(ts).values["seed:enrolled-"+args[0]] = secret
	p := proxyOf(ts)
	serial := p.Param("EnableMFADevice", "SerialNumber")
	code1, code2 := p.Param("EnableMFADevice", "AuthenticationCode1"), p.Param("EnableMFADevice", "AuthenticationCode2")
	if serial == "" || code1 == "" || code2 == "" {
		ts.Fatalf("no EnableMFADevice with a serial and two codes reached the peer")
	}
	now := time.Now().Unix() / 30
	codes := oathCodes(ts, secret, now-10, now)
	found := int64(-1)
	for i := 0; i+1 < len(codes) && found < 0; i++ {
		if codes[i] == code1 && codes[i+1] == code2 {
			found = now - 10 + int64(i)
		}
	}
	if found < 0 {
		ts.Fatalf("EnableMFADevice's codes are not oathtool's for two consecutive steps of the last 5 minutes")
	}
	last, ok, err := (broker.StepStore{Keys: keys}).LastStep(serial)
	ts.Check(err)
	if !ok || int64(last) < found+1 {
		ts.Fatalf("the last time step recorded for %s is %d (recorded: %v); the codes were of steps %d and %d", serial, last, ok, found, found+1)
	}
	body, err := stspeer.IAMCall(p.Target(), url.Values{"Action": {"ListMFADevices"}, "UserName": {args[1]}})
	ts.Check(err)
	if !strings.Contains(string(body), "<SerialNumber>"+serial+"</SerialNumber>") {
		ts.Fatalf("moto lists no device %s for %s", serial, args[1])
	}
	ts.Logf("EnableMFADevice sent oathtool's codes of steps %d and %d; step %d is recorded as used", found, found+1, last)
}

var signinURL = regexp.MustCompile(`^(http://127\.0\.0\.1:[0-9]+/federation)\?Action=login&Destination=([^&]+)&Issuer=credbroker&SigninToken=([A-Za-z0-9_%-]+)\n$`)

// signin-url-works DESTINATION: the last command's stdout is one sign-in
// URL at the script's federation endpoint, and the endpoint takes its
// SigninToken: login redirects to DESTINATION.
func cmdSigninURLWorks(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: signin-url-works DESTINATION")
	}
	out := ts.ReadFile("stdout")
	m := signinURL.FindStringSubmatch(out)
	if m == nil || m[1] != ts.Getenv("CREDBROKER_FEDERATION_ENDPOINT") {
		ts.Fatalf("stdout is not one sign-in URL at %s", ts.Getenv("CREDBROKER_FEDERATION_ENDPOINT"))
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(strings.TrimSpace(out))
	if err != nil {
		ts.Fatalf("GET the sign-in URL failed") // the error quotes the URL
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != args[0] {
		ts.Fatalf("the federation endpoint answered the sign-in URL with HTTP %d to %q, not a redirect to %s", resp.StatusCode, resp.Header.Get("Location"), args[0])
	}
}
