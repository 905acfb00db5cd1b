// Command credbroker hands temporary AWS credentials to every AWS SDK and
// the AWS CLI through credential_process.
//
// This program is deliberately small: it answers a warm credential_process
// from the daemon in one request, and runs credbroker-cli (the full
// command set, installed next to it) for everything else. See package
// front for why.
package main

import (
	"os"

	"github.com/credbroker/credbroker/cmd/credbroker/front"
)

func main() {
	os.Exit(front.Main(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
