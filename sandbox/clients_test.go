package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The independent clients: the AWS SDK for Go, the AWS CLI v2 (Debian's
// awscli) and v1, boto3 and the AWS SDK for JavaScript v3, each against
// the sandbox served on a loopback port, each as its own IAM user with its
// own MFA device (so that their MFA codes never collide), each calling
// every STS operation the sandbox answers and reporting what it parsed in
// one clientResult, which TestClients checks the same way for all.

// clientResult is what a client got (the harnesses print it as JSON).
type clientResult struct {
	Identity struct {
		Arn     string
		UserID  string // UserId: encoding/json matches names regardless of case
		Account string
	} `json:"identity"`
	KeyAccount         string      `json:"keyAccount"`
	Denied             clientError `json:"denied"`
	Decoded            string      `json:"decoded"`
	SessionAccessKeyID string      `json:"sessionAccessKeyId"`
	SessionExpiration  string      `json:"sessionExpiration"`
	SessionIdentity    string      `json:"sessionIdentity"`
	RoleArn            string      `json:"roleArn"`
	RoleIdentity       string      `json:"roleIdentity"`
	TooLong            clientError `json:"tooLong"`
	FederatedArn       string      `json:"federatedArn"`
	FederatedIdentity  string      `json:"federatedIdentity"`
	WebIdentityArn     string      `json:"webIdentityArn"`
	WebIdentitySubject string      `json:"webIdentitySubject"`
	IAM                *iamResult  `json:"iam"`
	// Refusals: GetSessionToken with a wrong code (wrongCode) and with
	// the code already used (reusedCode), AssumeRole of a role that trusts
	// another account (untrusted) and of one that asks for an ExternalId,
	// without it (noExternalId); the JS SDK also signs with its clock 10
	// minutes behind (tenMinutesOld).
	Refusals map[string]clientError `json:"refusals"`
}

// iamResult is what a client got of IAM.
type iamResult struct {
	User       string   `json:"user"`
	Keys       []string `json:"keys"`
	MFADevices []string `json:"mfaDevices"`
	// Round is the rest of IAM, from the clients that call it.
	Round *iamRound `json:"round"`
}

// iamRound is every other IAM action, in this order: CreateAccessKey,
// ListAccessKeys, UpdateAccessKey (the new key Inactive),
// GetAccessKeyLastUsed (of the client's own key), DeleteAccessKey (the new
// one), CreateVirtualMFADevice (NAME-2), EnableMFADevice (two consecutive
// codes of its seed), ListMFADevices, DeactivateMFADevice,
// SimulateCustomPolicy (federationPolicy: s3:GetObject, s3:PutObject) and
// SimulatePrincipalPolicy (the user: iam:ListAccessKeys and iam:CreateUser
// on the user). Key lists are "ID:Status"; decisions "ACTION:DECISION".
type iamRound struct {
	CreatedKey          string   `json:"createdKey"`
	CreatedSecretLength int      `json:"createdSecretLength"`
	KeysAfterCreate     []string `json:"keysAfterCreate"`
	KeysAfterUpdate     []string `json:"keysAfterUpdate"`
	KeysAfterDelete     []string `json:"keysAfterDelete"`
	LastUsed            struct {
		User, Service, Region, Date string
	} `json:"lastUsed"`
	VirtualSerial          string   `json:"virtualSerial"`
	VirtualSeedLength      int      `json:"virtualSeedLength"`
	DevicesAfterEnable     []string `json:"devicesAfterEnable"`
	DevicesAfterDeactivate []string `json:"devicesAfterDeactivate"`
	CustomDecisions        []string `json:"customDecisions"`
	PrincipalDecisions     []string `json:"principalDecisions"`
}

// clientError is an error answer as a client parsed it; Status 0 when the
// client does not say (the AWS CLI).
type clientError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// clientUser is the IAM user a client signs as.
type clientUser struct {
	name, keyID, secret, userID, serial, seed string
}

// clientFixture is the sandbox the clients talk to.
type clientFixture struct {
	url   string
	users map[string]clientUser
	home  string // an empty HOME and AWS config for the clients
}

// elsewhereRole trusts another account only; the clients are refused
// it, and partnerRole without its ExternalId.
const elsewhereRole = "arn:aws:iam::222222222222:role/Elsewhere"

// wrongCode is a 6-digit code that is the code of no time step from two
// before to two after now.
func wrongCode(t *testing.T, seed string) string {
	t.Helper()
	now := time.Now().Unix() / totpPeriod
	valid := map[string]bool{}
	for s := now - 2; s <= now+2; s++ {
		c, err := codeAt(seed, s)
		if err != nil {
			t.Fatal(err)
		}
		valid[c] = true
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", (123456+n*7919)%1000000); !valid[c] {
			return c
		}
	}
}

const federationPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

var clientNames = []string{"go-sdk", "aws-cli-v2", "aws-cli-v1", "boto3", "js-sdk-v3"}

func startClientSandbox(t *testing.T) *clientFixture {
	t.Helper()
	st, err := demoState(rand.Reader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addOIDC(st)
	for name, trust := range map[string]string{
		"Partner":   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"partner-7"}}}]}`,
		"Elsewhere": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"sts:AssumeRole"}]}`,
	} {
		st.Roles = append(st.Roles, Role{Account: ProdAccount, Name: name, ID: "AROA" + strings.ToUpper(name) + strings.Repeat("0", 16-len(name)), TrustPolicy: json.RawMessage(trust)})
	}
	fx := &clientFixture{users: map[string]clientUser{}, home: t.TempDir()}
	for _, name := range clientNames {
		u := clientUser{name: name, serial: "arn:aws:iam::" + DevAccount + ":mfa/" + name}
		if u.keyID, err = newKeyID(rand.Reader, "AKIA", DevAccount); err == nil {
			if u.secret, err = newSecret(rand.Reader); err == nil {
				if u.userID, err = newUniqueID(rand.Reader, "AIDA"); err == nil {
					u.seed, err = newSeed(rand.Reader)
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		st.Users = append(st.Users, User{Account: DevAccount, Name: name, ID: u.userID, CreateDate: now,
			AccessKeys: []AccessKey{{ID: u.keyID, Secret: u.secret, Status: statusActive, CreateDate: now}},
			Policies:   st.Users[0].Policies})
		st.MFADevices = append(st.MFADevices, MFADevice{Account: DevAccount, Serial: u.serial, Seed: u.seed, User: name, EnableDate: &now})
		fx.users[name] = u
	}
	srv, err := New(st)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	fx.url = "http://" + l.Addr().(*net.TCPAddr).String()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(fx.home, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

// env is a client process's environment: its user's key, the sandbox's
// endpoints, and what its harness reads (SANDBOX_*). Sandbox keys are made
// up: they are no secrets.
func (fx *clientFixture) env(t *testing.T, u clientUser) []string {
	code, err := codeAt(u.seed, time.Now().Unix()/totpPeriod)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	token := jwt(t, oidcKey, map[string]any{"iss": issuer, "sub": "repo:credbroker/" + u.name, "aud": clientID, "iat": now, "exp": now + 600})
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + fx.home, "LANG=C.UTF-8",
		"AWS_CONFIG_FILE=" + filepath.Join(fx.home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(fx.home, "credentials"),
		"AWS_ENDPOINT_URL_STS=" + fx.url, "AWS_ENDPOINT_URL_IAM=" + fx.url,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
		"AWS_ACCESS_KEY_ID=" + u.keyID, "AWS_SECRET_ACCESS_KEY=" + u.secret,
		"SANDBOX_CLIENT=" + u.name, "SANDBOX_MFA_SERIAL=" + u.serial, "SANDBOX_MFA_CODE=" + code,
		"SANDBOX_ADMIN_ROLE=arn:aws:iam::222222222222:role/Admin", "SANDBOX_CI_ROLE=" + ciRole,
		"SANDBOX_WEB_IDENTITY_TOKEN=" + token, "SANDBOX_FEDERATION_POLICY=" + federationPolicy,
		"SANDBOX_WRONG_CODE=" + wrongCode(t, u.seed), "SANDBOX_PARTNER_ROLE=" + partnerRole, "SANDBOX_ELSEWHERE_ROLE=" + elsewhereRole,
	}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION", "npm_config_cache"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// needTool fails the test when a client is missing on CI (CI=true: a
// missing tool is a failure, never a skip), and skips it elsewhere.
func needTool(t *testing.T, what, fix string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: %s", what, fix)
	}
	t.Skipf("%s is missing (%s); on CI this fails", what, fix)
}

// awsCLIs finds the AWS CLI v1 and v2 on this machine (PATH, and Debian's
// /usr/bin/aws, which pyenv's shim may hide), by major version.
var awsCLIs = sync.OnceValue(func() map[string]string {
	found := map[string]string{}
	candidates := []string{"/usr/bin/aws", "/usr/local/bin/aws"}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		candidates = append(candidates, filepath.Join(dir, "aws"))
	}
	seen := map[string]bool{}
	for _, path := range candidates {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			if seen[real] {
				continue
			}
			seen[real] = true
		}
		out, err := exec.Command(path, "--version").CombinedOutput()
		if err != nil {
			continue
		}
		for _, major := range []string{"1", "2"} {
			if strings.HasPrefix(string(out), "aws-cli/"+major+".") && found[major] == "" {
				found[major] = path
			}
		}
	}
	return found
})

func TestClients(t *testing.T) {
	fx := startClientSandbox(t)
	for _, name := range clientNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := fx.users[name]
			var res clientResult
			switch name {
			case "go-sdk":
				res = runGoSDK(t, fx, u)
			case "aws-cli-v1", "aws-cli-v2":
				res = runAWSCLI(t, fx, u, name[len(name)-1:])
			case "boto3":
				res = runHarness(t, fx, u, "python3", "clients/python/sts_client.py")
			case "js-sdk-v3":
				res = runJS(t, fx, u)
			}
			checkClient(t, u, res)
		})
	}
}

// runHarness runs a harness script and reads the JSON it prints.
func runHarness(t *testing.T, fx *clientFixture, u clientUser, interpreter, script string, args ...string) clientResult {
	t.Helper()
	path, err := exec.LookPath(interpreter)
	if err != nil {
		needTool(t, interpreter, "the machine image's Python 3 with boto3")
	}
	if interpreter == "python3" {
		if out, err := exec.Command(path, "-c", "import boto3").CombinedOutput(); err != nil {
			needTool(t, "boto3 for "+path, "pip install boto3: "+strings.TrimSpace(string(out)))
		}
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, append([]string{abs}, args...)...)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = fx.env(t, u)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", interpreter, script, err, stderr.String())
	}
	var res clientResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s printed no result: %v\n%s\n%s", script, err, out, stderr.String())
	}
	return res
}

// runJS installs the JavaScript harness's packages and runs it.
func runJS(t *testing.T, fx *clientFixture, u clientUser) clientResult {
	t.Helper()
	npmInstall(t)
	return runHarness(t, fx, u, "node", "clients/js/sts_client.mjs")
}

// npmInstall installs the JavaScript harnesses' packages (the pinned
// @aws-sdk/client-sts and @aws-sdk/client-iam; node_modules is ignored by
// git), once for every test that needs them.
func npmInstall(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			needTool(t, tool, "apt-get install nodejs npm")
		}
	}
	npmOnce.Do(func() {
		install := exec.Command("npm", "install", "--no-audit", "--no-fund")
		install.Dir = "clients/js"
		out, err := install.CombinedOutput()
		if err != nil {
			npmErr = fmt.Errorf("npm install: %v\n%s", err, out)
		}
	})
	if npmErr != nil {
		t.Fatal(npmErr)
	}
}

var (
	npmOnce sync.Once
	npmErr  error
)

func staticCreds(c creds) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.id, c.secret, c.token)
}
