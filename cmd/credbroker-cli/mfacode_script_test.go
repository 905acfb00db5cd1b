//go:build unix

package main

// Script commands for MFA codes from elsewhere (mfa_process, --mfa-code)
// and the role sessions they open, for the sandbox scenarios. They join
// sandboxCmds, which the hermetic suites register.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/wire"
)

func init() {
	addCmds(sandboxCmds, map[string]func(*testscript.TestScript, bool, []string){
		"mfa-seed-file":  cmdMFASeedFile,
		"expires-beyond": cmdExpiresBeyond,
	})
}

// mfa-seed-file USER VAR: USER's MFA seed in a file outside $WORK (which
// leakscan searches), for an mfa_process that runs oathtool on it; $VAR
// is its path. Removed at the end.
func cmdMFASeedFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mfa-seed-file USER VAR")
	}
	u := sandboxUserOf(ts, args[0])
	dir, err := os.MkdirTemp("", "cbseed")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "seed")
	ts.Check(os.WriteFile(path, []byte(u.seed+"\n"), 0o600))
	ts.Setenv(args[1], path)
}

// expires-beyond FILE DURATION: FILE holds credential_process JSON whose
// Expiration is more than DURATION from now (! : not more).
func cmdExpiresBeyond(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: expires-beyond FILE DURATION")
	}
	d, err := time.ParseDuration(args[1])
	ts.Check(err)
	var out wire.ProcessOutput
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &out))
	exp, err := time.Parse(time.RFC3339, out.Expiration)
	ts.Check(err)
	if left := time.Until(exp); (left > d) == neg {
		ts.Fatalf("%s expires in %s; want %s %s", args[0], left.Round(time.Second), map[bool]string{false: "more than", true: "at most"}[neg], d)
	}
}
