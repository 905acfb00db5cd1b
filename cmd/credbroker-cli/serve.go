package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/peercred"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// serveRequestTimeout bounds one request's wait for the daemon: an SDK
// gives up on these endpoints within seconds, and a request must not hold
// a connection longer than anyone waits for it.
const serveRequestTimeout = 30 * time.Second

func newServeCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve ecs|imds --profile PROFILE [--listen 127.0.0.1:PORT]",
		Short: "Serve a profile's credentials on loopback to programs that cannot run credential_process",
		Long: `Serve PROFILE's temporary credentials on a loopback address, as the
endpoints AWS SDKs know from containers and EC2 instances:

  credbroker serve ecs   the container credentials endpoint
                         (AWS_CONTAINER_CREDENTIALS_FULL_URI with an
                         authorization token required on every request)
  credbroker serve imds  an IMDSv2 endpoint
                         (AWS_EC2_METADATA_SERVICE_ENDPOINT)

The first lines on stdout are the environment a client needs. Every request
is answered from the daemon's cache (no STS call per request), only to
programs of the user who started the server: a request from another local
user is refused (on Linux; elsewhere serve imds does not start, and serve ecs
relies on its token alone). The server runs until interrupted.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{c, fmt.Sprintf("no endpoint kind %q: serve ecs or serve imds", args[0])}
			}
			return usageError{c, "serve needs a kind of endpoint: serve ecs or serve imds"}
		},
	}
	c.AddCommand(newServeECSCmd(a), newServeIMDSCmd(a))
	return c
}

// serveFlags are what both endpoints take.
type serveFlags struct {
	profile, listen string
}

func (f *serveFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.profile, "profile", "", "the profile whose credentials to serve")
	c.Flags().StringVar(&f.listen, "listen", "127.0.0.1:0", "loopback address and port to listen on (port 0: a free one)")
}

func (f *serveFlags) check(c *cobra.Command) error {
	if err := requiredProfile(c, c.CommandPath(), f.profile); err != nil {
		return err
	}
	if err := loopbackOnly(f.listen); err != nil {
		return usageError{c, err.Error()}
	}
	return nil
}

// loopbackOnly accepts a HOST:PORT whose host is a loopback address (or
// localhost): the endpoints hand out credentials to whoever may connect,
// and only this host's loopback keeps other machines out.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:0", addr)
	}
	if !profile.LoopbackHost(host) {
		return fmt.Errorf("--listen %q: not a loopback address; credentials are served on 127.0.0.1 or [::1] only", addr)
	}
	return nil
}

// listenLoopback listens on addr (checked by loopbackOnly), localhost
// being 127.0.0.1.
func listenLoopback(addr string) (net.Listener, error) {
	if host, port, _ := net.SplitHostPort(addr); host == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// credentialSource gets the credentials to serve for one request.
type credentialSource func(ctx context.Context) (wire.ProcessOutput, error)

// daemonSource asks the daemon for profile's credentials on every call:
// the daemon answers from its cache and refreshes ahead of expiry, so a
// request costs a round trip on its socket and never an STS call of its
// own. No terminal prompt: a code the daemon wants is asked for by
// credbroker unlock, as the error's hint says.
func (a *app) daemonSource(name string) credentialSource {
	return func(ctx context.Context) (wire.ProcessOutput, error) {
		return a.processOutput(ctx, name, false, serveRequestTimeout)
	}
}

// firstCredentials gets profile's credentials once before serving, asking
// for an MFA code on the terminal if the daemon wants one: a profile that
// cannot be served fails here, with one line, not on an SDK's first
// request.
func (a *app) firstCredentials(ctx context.Context, name string) (wire.ProcessOutput, error) {
	return a.processOutput(ctx, name, true, credentialProcessTimeout)
}

// randomToken is 256 random bits, URL-safe: an authorization or session
// token nobody can guess.
func randomToken(rnd io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("make a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ownerGate lets through only requests from the user the server runs as,
// over loopback, addressed to a loopback name: another local user gets
// 403 (the daemon refuses other users the same way), and a page in a
// browser that reaches the port through a rebound DNS name gets 403 too.
type ownerGate struct {
	uid uint32
	// peerUID tells who owns the other end of a connection
	// (peercred.LoopbackPeerUID); nil when this OS cannot tell, and then
	// the endpoint's token is all that guards it.
	peerUID func(net.Conn) (uint32, error)
	warn    func(string)

	mu       sync.Mutex
	reported map[uint32]bool
}

func newOwnerGate(warn func(string)) *ownerGate {
	g := &ownerGate{uid: uint32(os.Getuid()), peerUID: peercred.LoopbackPeerUID, warn: warn, reported: map[uint32]bool{}}
	if !peercred.LoopbackPeerUIDKnown() {
		g.peerUID = nil
	}
	return g
}

type connKey struct{}

// connPeer is a connection's owner, looked up on its first request (a
// connection may carry many).
type connPeer struct {
	conn net.Conn
	once sync.Once
	uid  uint32
	err  error
}

// connContext remembers the connection for the requests it carries.
func (g *ownerGate) connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connPeer{conn: c})
}

func (g *ownerGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !profile.LoopbackHost(requestHost(r.Host)) {
			writeJSONError(w, http.StatusForbidden, "Forbidden", "the credentials endpoint answers requests addressed to a loopback address only")
			return
		}
		if g.peerUID != nil {
			p, _ := r.Context().Value(connKey{}).(*connPeer)
			if p == nil {
				writeJSONError(w, http.StatusForbidden, "AccessDenied", "cannot tell who is asking")
				return
			}
			p.once.Do(func() { p.uid, p.err = g.peerUID(p.conn) })
			if p.err != nil || p.uid != g.uid {
				g.refused(p.uid, p.err)
				writeJSONError(w, http.StatusForbidden, "AccessDenied",
					fmt.Sprintf("credbroker serves this endpoint to uid %d only (the user who started it)", g.uid))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// refused says once per uid that one was refused (a refused caller may
// retry in a loop; its uid is what the owner needs to know).
func (g *ownerGate) refused(uid uint32, err error) {
	if err != nil {
		g.warn("refused a request whose sender cannot be told: " + err.Error())
		return
	}
	g.mu.Lock()
	first := !g.reported[uid]
	g.reported[uid] = true
	g.mu.Unlock()
	if first {
		g.warn(fmt.Sprintf("refused a request from uid %d (only uid %d is served); further ones from it are refused silently", uid, g.uid))
	}
}

func requestHost(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport // no port
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// writeJSONError answers with the error shape the SDKs read from these
// endpoints: Code and Message (the Go SDK matches the keys without regard
// to case; the JS SDK reads Code and Message).
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": msg})
}

// quietRepeats passes a warning on unless it is the one said last, less
// than a minute ago: an SDK that retries in a loop must not flood the
// terminal with the same line.
func quietRepeats(warn func(string), now func() time.Time) func(string) {
	var (
		mu   sync.Mutex
		last string
		at   time.Time
	)
	return func(msg string) {
		mu.Lock()
		t := now()
		repeat := msg == last && t.Sub(at) < time.Minute
		if !repeat {
			last, at = msg, t
		}
		mu.Unlock()
		if !repeat {
			warn(msg)
		}
	}
}

// credentialsError is what a request is told when the daemon could not
// give credentials: its line and hint, never more (neither holds a
// secret).
func credentialsError(err error) string {
	msg, hint := describe(err)
	if hint != "" {
		msg += "; " + hint
	}
	return msg
}

// endpoint is a running credentials server.
type endpoint struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// startEndpoint serves h on ln behind gate until stopped.
func startEndpoint(ln net.Listener, h http.Handler, gate *ownerGate, errLog io.Writer) *endpoint {
	e := &endpoint{
		srv: &http.Server{
			Handler:           gate.wrap(h),
			ConnContext:       gate.connContext,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          log.New(errLog, "credbroker: ", 0),
		},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { e.done <- e.srv.Serve(ln) }()
	return e
}

// baseURL is http://HOST:PORT of the listener.
func (e *endpoint) baseURL() string { return "http://" + e.ln.Addr().String() }

// close stops the server at once.
func (e *endpoint) close() {
	_ = e.srv.Close()
	<-e.done
}

// serveUntilSignal runs until SIGINT or SIGTERM (or the server fails),
// then lets requests in flight finish.
func (e *endpoint) serveUntilSignal(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-e.done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(shut)
	return nil
}

// roleName is the name IMDS lists for profile: its role's name when it
// assumes one, else the profile's name.
func (a *app) roleName(name string) string {
	if cfg, err := a.config(); err == nil {
		if p := cfg.Profiles[name]; p != nil && p.RoleARN != "" {
			if i := strings.LastIndexAny(p.RoleARN, "/:"); i >= 0 && i+1 < len(p.RoleARN) {
				return p.RoleARN[i+1:]
			}
		}
	}
	return name
}
