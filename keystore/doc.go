// Package keystore keeps credbroker's secrets (long-lived IAM access keys,
// virtual MFA seeds, cached session credentials) and a little non-secret
// state in the operating system's keyring. It is the only code in credbroker
// that uses github.com/99designs/keyring.
//
// # Items
//
// An item is data under a Kind and a Name. Its key in the keyring is
// "credbroker:" + kind + ":" + name; a name may contain ':' and '/' (an MFA
// device ARN such as arn:aws:iam::123456789012:mfa/alice). List returns only
// keys with the "credbroker:" prefix: the secret-service "login" collection
// is shared with every other application of the desktop session.
//
// # Backends
//
// Config.Backend (CREDBROKER_KEYRING) names one of keyring's backends: file,
// secret-service, keyctl, pass, kwallet, keychain, wincred. When it is empty,
// Open uses secret-service if a D-Bus session bus is reachable and the
// collection (default "login", the one a desktop session unlocks at login)
// exists and accepts a probe item written, read back and removed; otherwise
// it uses file, which works everywhere. keyctl is never the default because
// the kernel keyring is lost at reboot; pass is not because it needs a gpg
// key and a password store set up first.
//
// The file backend encrypts each item in its own file (JWE: PBES2-HS256 with
// A128KW key wrap and A256GCM content encryption) in a folder kept at mode
// 0700. Its passphrase comes from Config.FilePassphrase
// (CREDBROKER_FILE_PASSPHRASE) or is asked once, when an item is first read
// or written, through Config.Passphrase.
//
// keyring derives the key-wrapping key with 8192 PBKDF2 iterations, a few
// milliseconds per guess: the passphrase is therefore stretched with
// Argon2id (64 MiB, 7 passes, 1 lane: about 0.3 s per offline guess,
// BenchmarkOfflineGuess) and keyring is given the result. The parameters
// and a random salt are in .credbroker-kdf beside the items (no secret;
// mode 0600; a damaged one is a clear error, never a wrong passphrase). A
// keyring made before that (no such file) is migrated the first time its
// passphrase decrypts an item: re-encrypted into a folder beside, committed
// by writing the parameters file, then moved into place; a crash at any
// point leaves a keyring that opens with the passphrase. An item an older
// credbroker still running writes under the raw passphrase afterwards is
// read, and re-encrypted under the stretched key. An older credbroker
// cannot read a migrated keyring: restart a daemon after an upgrade.
//
// # Importing keyring has a side effect
//
// On Linux, keyring's init connects to the D-Bus session bus to decide
// whether secret-service is available. With no DBUS_SESSION_BUS_ADDRESS and
// no /run/user/<uid>/bus, that connection runs dbus-launch (when installed),
// which starts a session dbus-daemon that outlives the process. A service
// that must not do that sets DBUS_SESSION_BUS_ADDRESS (to its real bus, or
// to an address that leads nowhere) before it starts.
//
// # What it promises
//
//   - A secret is only ever in the keyring (encrypted, for the file backend)
//     and in the memory of the caller that asked for it.
//   - A secret never appears in an error, a log line or a panic message:
//     errors name the item's kind and name, never its data. AccessKey and
//     Config print and log with the secret masked, whatever the fmt verb.
//   - On the file backend, Put replaces an item atomically: it stages the
//     encrypted item in a fresh folder next to the items and renames it over
//     the old file, so that a crash or a concurrent reader never sees a
//     truncated item. Staging folders never show up in List, are removed on
//     error, and Open removes those a crash left behind (once they are an
//     hour old: a younger one may be another process's Put in progress).
//   - On the file backend, a wrong passphrase gives an error wrapping
//     ErrWrongPassphrase, and Put refuses to encrypt with a passphrase that
//     cannot decrypt the items already there.
//   - No caller waits for the keyring longer than its call timeout
//     (Config.CallTimeout: DefaultCallTimeout unless set; at least 30 s for
//     Unlock and for a file keyring that may be migrated): keyring has no
//     deadlines (a locked Secret Service collection waits for a prompt), so
//     a call that outlives it is left running and the caller gets an error
//     wrapping ErrNotAnswering. Until that call returns, later callers get
//     the same error at once: a hung keyring holds one goroutine, never one
//     per caller. Asking for the file passphrase happens before the
//     deadline starts; a call that stretches it gets Unlock's deadline.
//
// # Concurrency
//
// A Store is safe for concurrent use by goroutines: one call into the
// backend runs at a time, because keyring's backends are not safe for
// concurrent use. Between processes, the file backend locks its folder
// (flock, shared for every operation, exclusive to write the parameters or
// migrate; not on systems without flock); the last Put of an item wins and
// a reader sees either the old or the new item.
//
// # What it never does
//
//   - It never writes a secret to disk in plaintext, never logs, never prints
//     and never prompts on a terminal itself (Config.Passphrase does).
//   - It never creates a secret-service collection or a KWallet wallet:
//     that needs an interactive prompt, which a daemon cannot answer.
//   - It never lists, changes or deletes items outside the "credbroker:"
//     namespace (the default-backend probe uses its own "credbroker-probe"
//     item and removes it).
//   - It never accepts an empty file passphrase.
package keystore
