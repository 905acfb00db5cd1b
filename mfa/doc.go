// Package mfa produces and collects the one-time codes AWS asks for when a call is
// made with an MFA device (the SerialNumber and TokenCode of GetSessionToken and
// AssumeRole).
//
// A virtual MFA device is a TOTP generator (RFC 6238) keyed by a seed. When the owner
// chose to store the seed, [ParseSeed] reads it (a base32 secret or an
// otpauth://totp URI) and a [Generator] computes codes with github.com/pquerna/otp.
// Otherwise a [TTYPrompter] asks the human for the code on the terminal, and
// [ReadSecretFromTTY] reads passphrases and keys there without echo.
//
// # What it promises
//
//   - A Generator never hands out two codes for the same time step of one device. AWS
//     rejects a one-time code already used for the device ("MultiFactorAuthentication
//     failed ... invalid MFA one time pass code"), so when the current step was used
//     the Generator waits for the next one (at most one period, 30 s for AWS virtual
//     MFA devices, unless the clock stepped back) and says so through Notify first.
//   - The step is recorded in the [StepStore] before the code is returned, so a crash
//     after the code reached AWS cannot lead to its reuse. If recording fails, no code
//     is returned.
//   - A TTYPrompter refuses a code equal to the last one it returned for the device,
//     asking the human to wait for the next one, for the same reason.
//   - A seed never appears in an error, in the String, GoString or Format output of a
//     [Seed], or anywhere the package writes; ParseSeed's errors quote no part of
//     their input. Only Seed.Encode returns it, as the form to store in the keyring. A code never appears in an error or a message; the only place it
//     is shown is the terminal's own echo while the user types it.
//
// # Concurrency
//
// Seed is an immutable value. Generator.Code and TTYPrompter.PromptCode are safe for
// concurrent use once the struct's fields are set. A Generator serializes requests
// for one device (the second caller waits for the first, then for a fresh step) and
// lets different devices proceed in parallel; a wait for a turn or for the next step
// ends when ctx is done. A TTYPrompter asks one question at a time. The serialization
// is per Generator: processes sharing a StepStore must also lock around
// Generator.Code across processes (see StepStore).
//
// # What it never does
//
//   - It never reads stdin or writes stdout or stderr: under credential_process
//     stdout carries the JSON the SDK parses and stdin may be a pipe. Prompts go to
//     /dev/tty only, and with no terminal the answer is [ErrNoTerminal].
//   - It never logs, and never prints anything but the prompts and their one-line
//     corrections on the terminal.
//   - It never stores a seed or a code on disk; the caller keeps the seed (Seed.Encode)
//     in the keyring and implements StepStore, which holds step numbers only.
//   - It never accepts HOTP (otpauth://hotp) seeds, unknown algorithms, digit counts
//     other than 6 or 8, or secrets shorter than 80 bits.
//   - It never reads the system clock or sleeps through package variables: the
//     clock, the sleep and the notification are Generator fields.
package mfa
