//go:build linux

package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
)

// systemAccount creates the account the Linux system service runs as.
// The unit names it in User= and Group= rather than using DynamicUser=,
// whose uid may change between runs and would lose the keyring's files.
type systemAccount struct {
	lookupUser  func(name string) (bool, error)
	lookupGroup func(name string) (bool, error)
	run         func(name string, args ...string) ([]byte, error)
	// ran is the command that created the account, for the notice.
	ran []string
}

func newSystemAccount() *systemAccount {
	return &systemAccount{
		lookupUser: func(name string) (bool, error) {
			_, err := user.Lookup(name)
			var unknown user.UnknownUserError
			if errors.As(err, &unknown) {
				return false, nil
			}
			return err == nil, err
		},
		lookupGroup: func(name string) (bool, error) {
			_, err := user.LookupGroup(name)
			var unknown user.UnknownGroupError
			if errors.As(err, &unknown) {
				return false, nil
			}
			return err == nil, err
		},
		run: func(name string, args ...string) ([]byte, error) {
			return exec.Command(name, args...).CombinedOutput()
		},
	}
}

// useraddUserInUse is useradd's exit status for "username already in use"
// (shadow-utils): the account exists where os/user does not look (LDAP,
// SSSD) or was created meanwhile.
const useraddUserInUse = 9

// ensure creates the system account unless it exists. It reports whether
// it created it.
func (a *systemAccount) ensure() (created bool, err error) {
	exists, err := a.lookupUser(SystemAccount)
	if err != nil {
		return false, fmt.Errorf("look up the user %s: %w", SystemAccount, err)
	}
	if exists {
		return false, nil
	}
	groupExists, err := a.lookupGroup(SystemAccount)
	if err != nil {
		return false, fmt.Errorf("look up the group %s: %w", SystemAccount, err)
	}
	args := []string{"--system", "--no-create-home", "--home-dir", "/var/lib/credbroker", "--shell", "/usr/sbin/nologin"}
	// Group= needs the group: make it with the user unless it exists
	// (--user-group fails then), whatever USERGROUPS_ENAB in login.defs says.
	if groupExists {
		args = append(args, "--gid", SystemAccount)
	} else {
		args = append(args, "--user-group")
	}
	args = append(args, SystemAccount)
	out, err := a.run("useradd", args...)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == useraddUserInUse {
		return false, nil
	}
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg != "" {
			msg = ": " + msg
		}
		return false, fmt.Errorf("create the system user %s (useradd %s): %w%s", SystemAccount, strings.Join(args, " "), err, msg)
	}
	a.ran = append([]string{"useradd"}, args...)
	return true, nil
}

func (a *systemAccount) describe() string { return strings.Join(a.ran, " ") }

// hiddenFromService lists where the system unit's sandbox hides files:
// ProtectHome=yes empties /home, /root and /run/user, PrivateTmp=yes gives
// the service its own /tmp and /var/tmp.
var hiddenFromService = []string{"/home/", "/root/", "/run/user/", "/tmp/", "/var/tmp/"}

// checkSystemExecutable refuses a binary the system service could not run,
// or that someone other than root could replace: whoever can rewrite it
// runs as credbroker and reads every key the daemon holds.
func checkSystemExecutable(path string) error {
	for _, dir := range hiddenFromService {
		if strings.HasPrefix(path, dir) {
			return fmt.Errorf("executable %s: the service's sandbox hides %s; copy credbroker to /usr/local/bin and install from there", path, strings.TrimSuffix(dir, "/"))
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("executable: %w", err)
	}
	if err := checkExecutableOwner(path, fi); err != nil {
		return err
	}
	// A root-owned binary in a folder someone else may write can still be
	// replaced by a rename: every folder up to / must be root's too.
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if err := checkFolderOwner(dir); err != nil {
			return fmt.Errorf("executable %s: %w", path, err)
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// checkFolderOwner refuses a folder not owned by root, or writable by
// group or others (the sticky bit does not help: a folder's owner may still
// rename within it).
func checkFolderOwner(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return fmt.Errorf("cannot tell who owns %s", dir)
	case st.Uid != 0:
		return fmt.Errorf("folder %s is owned by uid %d, not root: install credbroker in a root-owned folder such as /usr/local/bin", dir, st.Uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("folder %s is writable by group or others (mode %v): install credbroker in a root-owned folder such as /usr/local/bin", dir, fi.Mode().Perm())
	}
	return nil
}

func checkExecutableOwner(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("executable %s: not a regular file", path)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("executable %s: writable by group or others (mode %v); run: chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("executable %s: cannot tell its owner", path)
	}
	if st.Uid != 0 {
		return fmt.Errorf("executable %s: owned by uid %d, not root; run: chown root: %s", path, st.Uid, path)
	}
	return nil
}
