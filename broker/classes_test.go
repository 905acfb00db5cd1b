package broker

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

// sentinels lists every package-level `var ErrX = errors.New(...)` of the
// packages whose errors reach a user, read from their source, so that a
// sentinel added without a row in Classes fails TestErrorTable.
func sentinels(t *testing.T) map[string]error {
	t.Helper()
	known := map[string]error{
		"broker.ErrNoAccessKey": ErrNoAccessKey, "broker.ErrKeyRejected": ErrKeyRejected,
		"broker.ErrMFARequired": ErrMFARequired, "broker.ErrMFARefused": ErrMFARefused,
		"broker.ErrAccessDenied": ErrAccessDenied, "broker.ErrSTSUnreachable": ErrSTSUnreachable,
		"broker.ErrSTSUnavailable": ErrSTSUnavailable, "broker.ErrExpiredToken": ErrExpiredToken,
		"broker.ErrRootKey": ErrRootKey, "broker.ErrInvalidRequest": ErrInvalidRequest,
		"broker.ErrDaemonRunning": ErrDaemonRunning, "broker.ErrForbidden": ErrForbidden,
		"broker.ErrMFAWait": ErrMFAWait, "broker.ErrBadRequest": ErrBadRequest,
		"broker.ErrDamagedSeed": ErrDamagedSeed, "broker.ErrNoSeed": ErrNoSeed, "broker.ErrKeyringMismatch": ErrKeyringMismatch, "broker.ErrClockSkew": ErrClockSkew,
		"profile.ErrUnknownProfile": profile.ErrUnknownProfile, "profile.ErrConfig": profile.ErrConfig, "profile.ErrUnsupported": profile.ErrUnsupported,
		"wire.ErrNoDaemon": wire.ErrNoDaemon, "wire.ErrForeignDaemon": wire.ErrForeignDaemon,
		"wire.ErrUnsafeSocket": wire.ErrUnsafeSocket, "wire.ErrThrottled": wire.ErrThrottled,
		"keystore.ErrWrongPassphrase": keystore.ErrWrongPassphrase, "keystore.ErrPassphraseRequired": keystore.ErrPassphraseRequired, "mfa.ErrStepAhead": mfa.ErrStepAhead,
		"keystore.ErrNotAnswering": keystore.ErrNotAnswering,
	}
	found := map[string]error{}
	for _, dir := range []string{".", "../profile", "../wire"} {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, spec := range gd.Specs {
					for _, name := range spec.(*ast.ValueSpec).Names {
						if !strings.HasPrefix(name.Name, "Err") {
							continue
						}
						key := f.Name.Name + "." + name.Name
						err, ok := known[key]
						if !ok {
							t.Errorf("%s is a sentinel error this test does not know: add it here and a row to Classes", key)
							continue
						}
						found[key] = err
					}
				}
			}
		}
	}
	found["keystore.ErrWrongPassphrase"] = keystore.ErrWrongPassphrase
	found["keystore.ErrPassphraseRequired"] = keystore.ErrPassphraseRequired
	found["keystore.ErrNotAnswering"] = keystore.ErrNotAnswering
	found["mfa.ErrStepAhead"] = mfa.ErrStepAhead
	for k := range known {
		if _, ok := found[k]; !ok {
			t.Errorf("%s is no longer declared: drop it from this test", k)
		}
	}
	return found
}

// TestErrorTable: every sentinel has exactly one row; every row's code is
// a wire code, each code in one row only; every wire code has a row (or is
// one a client makes up itself).
func TestErrorTable(t *testing.T) {
	for name, s := range sentinels(t) {
		n := 0
		for _, c := range Classes {
			if c.Sentinel == s {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d rows in Classes, want 1", name, n)
		}
		if got := ClassOf(s); got.Sentinel != s {
			t.Errorf("ClassOf(%s) is the row of %v", name, got.Sentinel)
		}
	}
	clientOnly := []wire.Code{wire.CodeDaemonFailed, wire.CodeInternal}
	seen := map[wire.Code]bool{}
	for _, c := range Classes {
		if !slices.Contains(wire.Codes, c.Code) {
			t.Errorf("row %v: code %q is not in wire.Codes", c.Sentinel, c.Code)
		}
		if seen[c.Code] {
			t.Errorf("code %q is in two rows", c.Code)
		}
		seen[c.Code] = true
		if http.StatusText(c.HTTPStatus) == "" || c.HTTPStatus < 400 {
			t.Errorf("row %v: HTTP status %d", c.Sentinel, c.HTTPStatus)
		}
		if c.State == "" || c.Hint == nil {
			t.Errorf("row %v: no status word or hint", c.Sentinel)
		}
	}
	for _, code := range wire.Codes {
		if !seen[code] && !slices.Contains(clientOnly, code) {
			t.Errorf("wire code %q has no row in Classes", code)
		}
	}
	if c := ClassOf(errors.New("something else")); c.Code != wire.CodeInternal || c.Retry != RetryBackoff {
		t.Errorf("an unforeseen error is %+v", c)
	}
}

// TestExplainKeepsHintsOutOfMessages: the message of an error never
// carries its hint; Explain gives the two apart.
func TestExplainKeepsHintsOutOfMessages(t *testing.T) {
	for _, err := range []error{
		&profile.UnknownProfileError{Name: "nope", ConfigPath: "/c"},
		&NoAccessKeyError{Profile: "prod", Source: "base"},
		&MFAError{Profile: "prod", Device: "arn:aws:iam::1:mfa/a", Err: ErrMFARequired},
		&MFAWaitError{Profile: "prod", Device: "arn:aws:iam::1:mfa/a", Wait: 20e9},
		&STSError{Op: "AssumeRole", Profile: "prod", Code: "AccessDenied", Message: "no", Kind: ErrAccessDenied},
		&DamagedSeedError{Profile: "base", Err: errors.New("bad base32")},
		&wire.SocketDirError{Dir: "/tmp/x", Problem: "is writable by others", Fix: "chmod go-w it"},
	} {
		msg, hint, code := Explain(err)
		if hint == "" || strings.Contains(msg, hint) || code == wire.CodeInternal {
			t.Errorf("%T: msg %q, hint %q, code %s", err, msg, hint, code)
		}
	}
	// A daemon's answer is explained as the daemon explained it.
	de := &wire.Error{ErrorBody: wire.ErrorBody{Code: wire.CodeForbidden, Message: "m", Hint: "h"}}
	if msg, hint, code := Explain(de); msg != "m" || hint != "h" || code != wire.CodeForbidden {
		t.Errorf("daemon error explained as %q %q %s", msg, hint, code)
	}
}
