package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/credbroker/credbroker/policy"
)

// ErrNotLoopback: the sandbox listens on loopback addresses only. Its
// keys are made up, but what it issues looks like AWS credentials, and its
// endpoint has no TLS.
var ErrNotLoopback = errors.New("the sandbox listens on loopback only (127.0.0.1, ::1 or localhost)")

// Listen opens a TCP listener on addr (host:port, port 0 for a free one),
// which must be a loopback address.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("listen address %q: %w", addr, ErrNotLoopback)
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tcp, ok := l.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		l.Close()
		return nil, fmt.Errorf("listen address %q: %w", addr, ErrNotLoopback)
	}
	return l, nil
}

// Serve answers on l until ctx is done, then shuts down, giving requests
// in flight a few seconds to finish.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// needsMFA reports whether a role's trust policy lets in a caller with
// MFA that it refuses without. The callers tried are a session of the
// root user of each account the trust policy names, and of the role's own
// account, with the caller's side taken as allowing.
func needsMFA(e *roleEntry) bool {
	accounts := []string{e.role.Account}
	for _, st := range e.trust.Statements {
		if st.Principal == nil {
			continue
		}
		for _, a := range st.Principal.AWS {
			if p, err := policy.ParsePrincipal(a); err == nil && p.Account != "" && !slices.Contains(accounts, p.Account) {
				accounts = append(accounts, p.Account)
			}
		}
	}
	for _, acct := range accounts {
		caller := policy.Principal{Kind: policy.PrincipalUser, Partition: "aws", Account: acct, ARN: "arn:aws:iam::" + acct + ":user/mfa-probe", Name: "mfa-probe"}
		without := policy.CanAssume(e.trust, policy.AssumeRoleRequest{Principal: caller, RoleARN: e.role.ARN()})
		with := policy.CanAssume(e.trust, policy.AssumeRoleRequest{Principal: caller, RoleARN: e.role.ARN(), MFAPresent: true})
		if without.Decision != policy.Allowed && with.Decision == policy.Allowed {
			return true
		}
	}
	return false
}
