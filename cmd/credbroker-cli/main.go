// Command credbroker keeps long-lived AWS keys in the OS keyring and hands
// temporary STS credentials to every AWS SDK through credential_process.
//
// main only wires the commands (one file per command group) and exits;
// the work is done in the packages.
package main

import (
	"os"

	"github.com/credbroker/credbroker/internal/harden"

	"github.com/credbroker/credbroker/wire"
)

func main() {
	// Every command may hold a secret (a key typed, a seed, the keyring's
	// passphrase): no core dump, no same-user tracing.
	_ = harden.Process()
	// The file keyring's passphrase is read once and taken out of the
	// environment before any child process or daemon can inherit it.
	pass := os.Getenv(wire.PassphraseVar)
	_ = os.Unsetenv(wire.PassphraseVar)
	os.Exit(run(os.Args[1:], &app{
		stdin:          os.Stdin,
		stdout:         os.Stdout,
		stderr:         os.Stderr,
		getenv:         os.Getenv,
		filePassphrase: pass,
	}))
}
