package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"github.com/credbroker/credbroker/peercred"
)

// browserWait bounds how long login waits for the browser to load the
// one-time address.
const browserWait = 2 * time.Minute

// printURLHint is what to do when the browser cannot be opened.
const printURLHint = "print the URL instead: credbroker login PROFILE --stdout"

// desktopOpener is the command that opens a URL in the desktop's browser.
func desktopOpener() []string {
	switch runtime.GOOS {
	case "darwin":
		return []string{"open"}
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler"}
	default:
		return []string{"xdg-open"}
	}
}

// openInBrowser opens signin in the desktop's browser without putting it
// on a command line (another local user may read the opener's): the
// opener gets a one-time loopback address that redirects the first
// request of this user's (where the OS tells whose a connection is) to
// signin, once.
func (a *app) openInBrowser(ctx context.Context, signin string) error {
	opener := desktopOpener()
	path, err := exec.LookPath(opener[0])
	if err != nil {
		return &hintedError{fmt.Sprintf("no %s to open the browser with", opener[0]), printURLHint}
	}
	one, srv, err := serveOneTimeRedirect(signin)
	if err != nil {
		return err
	}
	defer srv.Close()

	cmd := exec.Command(path, append(opener[1:], one.url)...)
	cmd.Stdout, cmd.Stderr = a.stderr, a.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", opener[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Fprintf(a.stderr, "credbroker: waiting for the browser to open the console sign-in (at most %s)...\n", browserWait)
	timeout := time.NewTimer(browserWait)
	defer timeout.Stop()
	for {
		select {
		case <-one.served:
			// Let the redirect reach the browser before the server goes.
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = srv.Shutdown(sctx)
			cancel()
			fmt.Fprintln(a.stdout, "Opened the AWS console sign-in in your browser.")
			return nil
		case err := <-exited:
			if err != nil {
				return &hintedError{fmt.Sprintf("%s failed: %v", opener[0], err), printURLHint}
			}
			exited = nil // it handed the address on; wait for the browser
		case <-timeout.C:
			return &hintedError{fmt.Sprintf("the browser did not load the sign-in within %s", browserWait), printURLHint}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// serveOneTimeRedirect serves a oneTimeRedirect to signin on a loopback
// port; close the server when done.
func serveOneTimeRedirect(signin string) (*oneTimeRedirect, *http.Server, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("listen on loopback for the browser: %w", err)
	}
	one := &oneTimeRedirect{path: "/" + hex.EncodeToString(nonce), target: signin, served: make(chan struct{})}
	one.url = "http://" + l.Addr().String() + one.path
	srv := &http.Server{Handler: one, ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, signinConnKey{}, c)
		}}
	go func() { _ = srv.Serve(l) }()
	return one, srv, nil
}

// oneTimeRedirect answers its path once, with a redirect to target, and
// only to a connection of this process's user where the OS tells.
type oneTimeRedirect struct {
	path, target string
	url          string // where it is served
	served       chan struct{}
	once         sync.Mutex
	done         bool
}

func (o *oneTimeRedirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != o.path {
		http.NotFound(w, r)
		return
	}
	if peercred.LoopbackPeerUIDKnown() {
		c, _ := r.Context().Value(signinConnKey{}).(net.Conn)
		if c == nil {
			http.Error(w, "whose connection this is cannot be told", http.StatusForbidden)
			return
		}
		if uid, err := peercred.LoopbackPeerUID(c); err != nil || int64(uid) != int64(os.Getuid()) {
			http.Error(w, "this sign-in is another user's", http.StatusForbidden)
			return
		}
	}
	o.once.Lock()
	defer o.once.Unlock()
	if o.done {
		http.Error(w, "this one-time address was used already", http.StatusGone)
		return
	}
	o.done = true
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, o.target, http.StatusFound)
	close(o.served)
}

// signinConnKey is the context key of a request's connection.
type signinConnKey struct{}
