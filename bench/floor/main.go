// Command floor is the reference for credbroker's warm credential_process
// target: a static Go binary that does nothing but print a fixed
// credential_process JSON (Version 1) as long as the one credbroker prints
// for a moto role session. No process that starts a Go runtime and prints
// credentials can be faster; bench compares credential-process with it
// (target: at most twice its median).
//
// The values are made up and grant nothing.
package main

import "os"

// The output is a constant (built by the compiler from these pieces), so
// the floor does no work at all before printing.
const (
	x64    = "FLOORFLOORFLOORFLOORFLOORFLOORFLOORFLOORFLOORFLOORFLOORFLOORFLOR"
	output = `{"Version":1,"AccessKeyId":"ASIAFLOOR0000000000A","SecretAccessKey":"FLOORFLOORFLOORFLOORFLOORFLOORFLOORFLOOR",` +
		`"SessionToken":"` + x64 + x64 + x64 + x64 + x64 + `FLOORFLOORFLOORFLOORFLOORFLOOR000000",` +
		`"Expiration":"2099-01-01T00:00:00Z"}` + "\n"
)

func main() {
	if _, err := os.Stdout.WriteString(output); err != nil {
		os.Exit(1)
	}
}
