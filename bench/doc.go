// Command bench measures credbroker against the performance targets of
// its issue, on the machine it runs on, with real components: the static
// credbroker binary built as `make build` builds it, moto_server as STS
// behind a counting reverse proxy, and the file keyring.
//
// # Targets
//
//  1. Warm credential_process: the median time from starting
//     `credbroker credential-process --profile X` (daemon running,
//     credentials cached) to its exit with the JSON on stdout is at most
//     twice the median of the floor, a static Go binary that only prints a
//     fixed credential_process JSON (bench/floor). Both are started the same
//     way (fork/exec and wait4, stdout read from a pipe) and interleaved.
//  2. Daemon throughput: at least 10,000 GET /v1/credentials requests a
//     second over the Unix socket (keep-alive HTTP, K concurrent clients,
//     round-robin over 50 role profiles), and a daemon VmRSS of at most
//     30 MiB after 100,000 such requests.
//  3. The herd (reported, no fixed target): 200 credential-process
//     processes started together on a cold cache for an MFA + role profile
//     with no daemon running, parked in shells at a gate and released at
//     once. They autostart one daemon and STS should see one
//     GetSessionToken and one AssumeRole. The same herd again on a warm
//     daemon shows what the process starts alone cost. The cold herd runs
//     twice: on the file keyring (the default, whose passphrase the daemon
//     stretches with Argon2id once at unlock) and on the kernel's keyctl
//     keyring (no passphrase), whose profiles it names with the run's pid
//     and removes at the end with credbroker remove and mfa reset.
//
// # What it never does
//
// It never prints a secret: the IAM secret keys, the TOTP seed, the keyring
// passphrase and every secret STS issues stay in its memory, are handed to
// credbroker on stdin or in its environment only, and are redacted from any
// output it shows. Everything it makes lives in one temporary folder that
// it removes at the end, with the daemons and moto_server it started.
//
// Run it with `make bench` or `go run ./bench` from the module root; it
// runs on Linux only (it reads /proc). -compare measures more programs in
// target 1's interleaved runs, to try a faster client against the same
// floor; -runs, -clients, -requests and -herd size the runs.
package main
