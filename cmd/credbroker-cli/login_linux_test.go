package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credbroker/credbroker/internal/asuser"
)

// TestOneTimeRedirectRefusesOtherUsers: another local user who read the
// one-time address (on the opener's command line) gets 403, and the
// address still redirects this user's browser.
func TestOneTimeRedirectRefusesOtherUsers(t *testing.T) {
	asuser.Need(t)
	needTool(t, "curl", "curl")
	const signin = "https://signin.example/federation?Action=login&SigninToken=t"
	one, srv, err := serveOneTimeRedirect(signin)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := asuser.Command(ctx, asuser.Nobody, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", one.url).Output()
	if err != nil {
		t.Fatalf("curl as nobody: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "403" {
		t.Fatalf("as nobody: %q, want 403 and no redirect", got)
	}
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(one.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != signin {
		t.Fatalf("as this user, after nobody's try: HTTP %d to %q, want the redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
}
