package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// ecsPath is where the container credentials are served; the full URI
// handed to clients names it.
const ecsPath = "/credentials"

func newServeECSCmd(a *app) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "ecs --profile PROFILE [--listen 127.0.0.1:PORT]",
		Short: "Serve PROFILE's credentials as the container credentials endpoint",
		Long: `Serve PROFILE's temporary credentials as the container credentials
endpoint every AWS SDK and the AWS CLI know (the one ECS and EKS provide).
The first two lines on stdout are the environment a client needs:

  AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/credentials
  AWS_CONTAINER_AUTHORIZATION_TOKEN=...

The token is made afresh each time the server starts and required on every
request; it goes to stdout only (give it to the client, e.g. with
docker run --env-file). The server runs until interrupted.`,
		Args: cobraNoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := f.check(c); err != nil {
				return err
			}
			if _, err := a.firstCredentials(c.Context(), f.profile); err != nil {
				return err
			}
			e, env, err := a.startECS(f.profile, f.listen)
			if err != nil {
				return err
			}
			for _, kv := range env {
				fmt.Fprintln(a.stdout, kv)
			}
			fmt.Fprintf(a.stderr, "credbroker: serving profile %s's credentials at %s%s (container credentials endpoint); interrupt to stop\n",
				f.profile, e.baseURL(), ecsPath)
			return e.serveUntilSignal(c.Context())
		},
	}
	f.register(c)
	return c
}

// startECS starts a container credentials endpoint for profile on listen
// (a loopback address), and returns it with the environment a client
// needs.
func (a *app) startECS(profile, listen string) (*endpoint, []string, error) {
	token, err := randomToken(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	ln, err := listenLoopback(listen)
	if err != nil {
		return nil, nil, err
	}
	gate := newOwnerGate(a.warn)
	if gate.peerUID == nil {
		a.warn("this OS does not tell who owns a loopback connection: the token alone guards the endpoint")
	}
	e := startEndpoint(ln, &ecsHandler{token: []byte(token), creds: a.daemonSource(profile), warn: quietRepeats(a.warn, time.Now)}, gate, a.stderr)
	return e, []string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + e.baseURL() + ecsPath,
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + token,
	}, nil
}

// ecsHandler answers GET /credentials with the authorization token, as
// the container credentials endpoint does: {"AccessKeyId",
// "SecretAccessKey", "Token", "Expiration", "AccountId"} (botocore's
// ContainerProvider, the Go SDK's endpointcreds and the JS SDK's fromHttp
// read these names; the Expiration in RFC 3339).
type ecsHandler struct {
	token []byte
	creds credentialSource
	warn  func(string)
}

// ecsCredentials is the container endpoint's answer.
type ecsCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	AccountID       string `json:"AccountId,omitempty"`
}

func (h *ecsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The token first: nothing, not even whether a path exists, is said
	// to a caller without it.
	if got := r.Header.Get("Authorization"); got == "" || subtle.ConstantTimeCompare([]byte(got), h.token) != 1 {
		writeJSONError(w, http.StatusUnauthorized, "Unauthorized",
			"the Authorization header must carry the token credbroker serve ecs printed (AWS_CONTAINER_AUTHORIZATION_TOKEN)")
		return
	}
	if r.URL.Path != ecsPath {
		writeJSONError(w, http.StatusNotFound, "NotFound", "credentials are served at "+ecsPath)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSONError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "GET only")
		return
	}
	out, err := h.creds(r.Context())
	if err != nil {
		msg := credentialsError(err)
		h.warn("a client got no credentials: " + msg)
		writeJSONError(w, http.StatusInternalServerError, "CredentialsUnavailable", msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(ecsCredentials{
		AccessKeyID:     out.AccessKeyID,
		SecretAccessKey: out.SecretAccessKey,
		Token:           out.SessionToken,
		Expiration:      out.Expiration,
		AccountID:       out.AccountID,
	})
}
