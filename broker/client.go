package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrNoDaemon: nothing answers on the socket.
var ErrNoDaemon = errors.New("no credbroker daemon answers")

// Client talks to a daemon over its Unix socket. It is what
// credential-process runs on every call, so it does the least it can: one
// connection, one request, the answer's bytes copied out.
type Client struct {
	Socket string
	http   *http.Client
}

// NewClient returns a client for the daemon at socket.
func NewClient(socket string) *Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &Client{Socket: socket, http: &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, "unix", socket)
			},
			DisableCompression: true,
			MaxIdleConns:       1,
		},
	}}
}

// Credentials asks for profile's credentials and returns the
// credential_process JSON as the daemon wrote it. Errors: ErrNoDaemon, or
// a *DaemonError (errors.Is matches ErrMFARequired, ErrForbidden...).
func (c *Client) Credentials(ctx context.Context, profile string) ([]byte, error) {
	return c.do(ctx, http.MethodGet, "/v1/credentials?profile="+url.QueryEscape(profile), nil)
}

// SubmitMFA gives the daemon a code for profile's MFA device and returns
// the credentials it made with it.
func (c *Client) SubmitMFA(ctx context.Context, profile, code string) ([]byte, error) {
	body, _ := json.Marshal(mfaRequest{Profile: profile, Code: code})
	return c.do(ctx, http.MethodPost, "/v1/mfa", body)
}

// Forget tells the daemon that profile's key or seed changed.
func (c *Client) Forget(ctx context.Context, profile string) error {
	body, _ := json.Marshal(mfaRequest{Profile: profile})
	_, err := c.do(ctx, http.MethodPost, "/v1/forget", body)
	return err
}

// Status returns what the daemon knows (never a secret).
func (c *Client) Status(ctx context.Context) (*Status, error) {
	body, err := c.do(ctx, http.MethodGet, "/v1/status", nil)
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
	_, err := c.do(ctx, http.MethodGet, "/v1/health", nil)
	return err
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://credbroker"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if isNoDaemon(err) {
			return nil, fmt.Errorf("%w on %s", ErrNoDaemon, c.Socket)
		}
		return nil, fmt.Errorf("daemon on %s: %w", c.Socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("daemon on %s: read answer: %w", c.Socket, err)
	}
	if resp.StatusCode == http.StatusOK {
		return data, nil
	}
	de := &DaemonError{}
	if err := json.Unmarshal(data, de); err != nil || de.Message == "" {
		return nil, fmt.Errorf("daemon on %s answered HTTP %d", c.Socket, resp.StatusCode)
	}
	return nil, de
}

// isNoDaemon tells "nobody listens" (no socket file, a stale one, or a
// folder we may not enter) from other failures.
func isNoDaemon(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist)
}

// EnsureDaemon starts a daemon with start when none answers, as gpg-agent
// is started on demand. An exclusive lock in the socket's folder makes one
// client start it while the others of a herd wait, then find it running.
// start returns a channel that yields if the daemon exits, with why.
func (c *Client) EnsureDaemon(ctx context.Context, start func() (<-chan error, error)) error {
	if err := c.Health(ctx); !errors.Is(err, ErrNoDaemon) {
		return err
	}
	dir := filepath.Dir(c.Socket)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create socket folder: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, "autostart.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.Health(ctx); !errors.Is(err, ErrNoDaemon) {
		return err // another client started it while we waited
	}
	exited, err := start()
	if err != nil {
		return fmt.Errorf("start the daemon: %w", err)
	}
	// Wait for it to answer: a daemon opens its keyring and socket in
	// milliseconds, but a loaded machine may be slower.
	deadline := time.Now().Add(10 * time.Second)
	for wait := 2 * time.Millisecond; ; wait = min(wait*2, 100*time.Millisecond) {
		err := c.Health(ctx)
		if !errors.Is(err, ErrNoDaemon) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: started a daemon for %s but it does not answer (see its log)", ErrNoDaemon, c.Socket)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-exited:
			return err
		case <-time.After(wait):
		}
	}
}
