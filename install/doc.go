// Package install runs the credbroker daemon as a service of the operating
// system: it renders a hardened systemd unit, and installs, removes, starts,
// stops and queries the service through github.com/kardianos/service
// (systemd on Linux, launchd on macOS, the service control manager on
// Windows).
//
// There are two scopes. The [System] service is `credbroker daemon --system`
// run by the system's service manager; on Linux it runs as the dedicated
// account credbroker, in the sandbox [SystemdUnit] describes, with its
// profiles in /etc/credbroker/config, its encrypted file keyring in
// /var/lib/credbroker/keyring, its socket at /run/credbroker/broker.sock
// and its audit log at /var/log/credbroker/audit.log (the System* constants).
// The [User] service is `credbroker daemon` run by the user's own service
// manager (systemd --user, a launchd agent), with the sandboxing an
// unprivileged service manager can apply.
//
// # What it promises
//
//   - `credbroker service unit` shows exactly what Install writes:
//     [SystemdUnit] renders the whole unit, and kardianos/service copies it
//     unchanged (it has no template action).
//   - The system unit rates "OK" (2.0) or better in
//     `systemd-analyze security`; the tests check it with systemd-analyze.
//     Each group of directives carries a comment in the unit saying why,
//     including the ones left out (PrivateUsers=, IP address filtering).
//   - Nothing changes the system before every check has passed: changing
//     the system service needs root ([ErrNeedRoot]); on Linux it needs
//     systemd ([ErrUnsupported]) and a root-owned executable outside the
//     directories the sandbox hides.
//   - On Linux only, and for the system service only, Install creates the
//     system account credbroker (useradd --system) when it is missing.
//     Uninstall keeps the account, /var/lib/credbroker (the keyring) and
//     /etc/credbroker: removing them would destroy stored keys.
//   - On macOS and Windows the service definitions are kardianos/service's
//     defaults: the system service runs as the service manager's default
//     account (root, LocalSystem). Windows has no user services.
//
// # The passphrase
//
// The system service uses the encrypted file keyring, whose passphrase the
// unit passes as a systemd credential: LoadCredential= makes systemd copy
// the root-only file /etc/credbroker/passphrase into
// $CREDENTIALS_DIRECTORY/passphrase, a folder only the service can read
// (systemd.exec(5), "Credentials"). The daemon reads it with
// [PassphraseFromCredentials].
//
// # What it never does
//
//   - It never writes a secret into a unit file, a command line or the
//     service's environment, and never reads or writes the passphrase file
//     itself beyond [PassphraseFromCredentials], whose errors name the file
//     but never quote it.
//   - It never prints: it returns errors and reports the changes it made
//     through [Options].Notify.
//
// # Concurrency
//
// A [Manager] is meant for one command at a time. Service managers
// serialise their own operations; two Installs of the same scope at once
// would race on the unit file. [SystemdUnit] and [PassphraseFromCredentials]
// are safe for concurrent use.
package install
