package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// RequestTimeout bounds one request: a refresh with a slow STS (the daemon
// gives one 45 s), never a human (MFA codes are asked by the client before
// it calls).
const requestTimeout = 90 * time.Second

// defaultStartWait is how long a daemon started on demand has to answer:
// it opens its keyring and socket in milliseconds, but a loaded machine
// may be slower.
const defaultStartWait = 10 * time.Second

// Client talks to a daemon over its Unix socket, one request per
// connection (see Do), and refuses a daemon run by another user
// (ErrForeignDaemon).
type Client struct {
	Socket string
	// LockDir holds the client's prompt lock (PromptLock); "" is the
	// socket's folder. A client of the system daemon, whose folder
	// belongs to the service's user, names a folder of its own user.
	LockDir string
	// StartWait bounds how long EnsureDaemon waits for a daemon it
	// started to answer; 0 is 10 s.
	StartWait time.Duration
	// Caller is sent with every request: the daemon resolves profiles
	// with these settings, as the caller's SDK would.
	Caller *Caller
	// TrustRoot accepts a daemon run by root on Socket: set when the
	// caller named the socket itself (CREDBROKER_SOCKET; see ClientSocket).
	TrustRoot bool
	// OnWait, when set, hears what a request waits for as the daemon
	// says it (the next MFA time step, a retry against STS): see SayWaits.
	OnWait func(what string, wait time.Duration)
	// Trace, when set, is told of every request after it is answered:
	// the method, the endpoint (without its query), the HTTP status (0
	// when none came) and the error. Never a body: bodies may hold a
	// passphrase, an MFA code or credentials.
	Trace func(method, endpoint string, status int, err error)
}

// NewClient returns a client for the daemon at socket.
func NewClient(socket string) *Client { return &Client{Socket: socket} }

// ClientFor is the client of a caller with environment getenv: the daemon
// ClientSocket names, the caller's settings sent with each request, root
// trusted on a socket the caller named itself. autostart: a daemon may be
// started on demand.
func ClientFor(getenv func(string) string) (c *Client, autostart bool) {
	socket, autostart := ClientSocket(getenv)
	caller := CallerFrom(getenv)
	return &Client{Socket: socket, Caller: &caller, TrustRoot: getenv("CREDBROKER_SOCKET") != ""}, autostart
}

// Credentials asks for profile's credentials and returns the
// credential_process JSON as the daemon wrote it. Errors: ErrNoDaemon, or
// an *Error (the daemon's answer; branch on its Code).
func (c *Client) Credentials(ctx context.Context, profile string) ([]byte, error) {
	return c.do(ctx, "GET", c.path(PathCredentials, profile), nil)
}

// path is an endpoint with the profile and the caller's settings in its
// query.
func (c *Client) path(endpoint, profile string) string {
	q := url.Values{}
	if profile != "" {
		q.Set("profile", profile)
	}
	if c.Caller != nil {
		c.Caller.Query(q)
	}
	if len(q) == 0 {
		return endpoint
	}
	return endpoint + "?" + q.Encode()
}

// SubmitMFA gives the daemon a code for profile's MFA device and returns
// the credentials it made with it.
func (c *Client) SubmitMFA(ctx context.Context, profile, code string) ([]byte, error) {
	body, _ := json.Marshal(ProfileRequest{Profile: profile, Code: code})
	return c.do(ctx, "POST", c.path(PathMFA, ""), body)
}

// Unlock gives the daemon the file keyring's passphrase.
func (c *Client) Unlock(ctx context.Context, passphrase string) error {
	body, _ := json.Marshal(UnlockRequest{Passphrase: passphrase})
	_, err := c.do(ctx, "POST", c.path(PathUnlock, ""), body)
	return err
}

// Stop asks the daemon to stop (its own user only).
func (c *Client) Stop(ctx context.Context) error {
	_, err := c.do(ctx, "POST", c.path(PathStop, ""), []byte("{}"))
	return err
}

// Forget tells the daemon that profile's key or seed changed.
func (c *Client) Forget(ctx context.Context, profile string) error {
	body, _ := json.Marshal(ProfileRequest{Profile: profile})
	_, err := c.do(ctx, "POST", c.path(PathForget, ""), body)
	return err
}

// Clear asks the daemon to drop the cached sessions profiles use (all of
// them when profiles is empty), in memory and in the sealed cache, and
// returns the names of those it dropped.
func (c *Client) Clear(ctx context.Context, profiles []string) ([]string, error) {
	body, _ := json.Marshal(ClearRequest{Profiles: profiles})
	data, err := c.do(ctx, "POST", c.path(PathClear, ""), body)
	if err != nil {
		return nil, err
	}
	var ans ClearAnswer
	if err := json.Unmarshal(data, &ans); err != nil {
		return nil, fmt.Errorf("daemon on %s: clear: %w", c.Socket, err)
	}
	return ans.Dropped, nil
}

// Status returns what the daemon knows (never a secret).
func (c *Client) Status(ctx context.Context) (*Status, error) {
	body, err := c.do(ctx, "GET", c.path(PathStatus, ""), nil)
	if err != nil {
		return nil, err
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("daemon status: %w", err)
	}
	return &st, nil
}

// Health reports whether a daemon answers.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.do(ctx, "GET", PathHealth, nil)
	return err
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	timeout := requestTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	status, data, err := roundTrip(c.Socket, method, path, body, timeout, c.TrustRoot, c.OnWait)
	if c.Trace != nil {
		endpoint, _, _ := strings.Cut(path, "?")
		c.Trace(method, endpoint, status, err)
	}
	if err != nil {
		return nil, err
	}
	if status == 200 {
		return data, nil
	}
	de := &Error{}
	if err := json.Unmarshal(data, de); err != nil || de.Message == "" {
		return nil, fmt.Errorf("daemon on %s answered HTTP %d", c.Socket, status)
	}
	return nil, de
}

// EnsureDaemon starts a daemon with start when none answers, as gpg-agent
// is started on demand. An exclusive lock in the socket's folder makes one
// client start it while the others of a herd wait, then find it running.
// start returns a channel that yields if the daemon exits, with why;
// logPath is where the started daemon logs, named when it does not answer.
//
// The socket's folder must be the caller's own (or root's) and writable by
// nobody else, or nothing is created, locked or started there: without
// XDG_RUNTIME_DIR it is /tmp/credbroker-UID, which another local user may
// have made first, to serve credentials of their choosing and collect MFA
// codes.
func (c *Client) EnsureDaemon(ctx context.Context, start func() (<-chan error, error), logPath string) error {
	if err := c.Health(ctx); !errors.Is(err, ErrNoDaemon) {
		return err
	}
	unlock, err := LockFile(ctx, filepath.Join(filepath.Dir(c.Socket), "autostart.lock"))
	if err != nil {
		return fmt.Errorf("start a daemon on %s: %w", c.Socket, err)
	}
	defer unlock()
	if err := c.Health(ctx); !errors.Is(err, ErrNoDaemon) {
		return err // another client started it while we waited
	}
	exited, err := start()
	if err != nil {
		return fmt.Errorf("start the daemon: %w", err)
	}
	wait := c.StartWait
	if wait <= 0 {
		wait = defaultStartWait
	}
	deadline := time.Now().Add(wait)
	for pause := 2 * time.Millisecond; ; pause = min(pause*2, 100*time.Millisecond) {
		err := c.Health(ctx)
		if !errors.Is(err, ErrNoDaemon) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: started a daemon for %s but it does not answer after %s (see its log %s)", ErrNoDaemon, c.Socket, wait, logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-exited:
			return err
		case <-time.After(pause):
		}
	}
}

// PromptLock takes an exclusive lock on prompt.lock in LockDir (the
// socket's folder by default), waiting for it until ctx is done. A client
// holds it from asking the daemon again whether it needs an MFA code to
// giving it the code typed, so that of a herd of processes that all heard
// "mfa code required" only the first asks on the terminal; the others then
// find the profile unlocked. The folder is checked as EnsureDaemon checks
// it.
func (c *Client) PromptLock(ctx context.Context) (unlock func(), err error) {
	dir := c.LockDir
	if dir == "" {
		dir = filepath.Dir(c.Socket)
	}
	unlock, err = LockFile(ctx, filepath.Join(dir, "prompt.lock"))
	if err != nil {
		return nil, fmt.Errorf("wait for other prompts for an MFA code: %w", err)
	}
	return unlock, nil
}
