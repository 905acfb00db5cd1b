package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// configTemplate is the system service's config file as install creates
// it: no profile yet, and what the daemon demands of the file.
const configTemplate = `# credbroker system service: profiles and [access] rules (see
# "credbroker --help" and README.md). The daemon reads this file only while
# it is owned by root or credbroker and no one but root and the group
# credbroker may read it, and only root may write it (mode 0640).
`

// files is where install prepares what the daemon reads and writes, and
// as whom: the real ones unless a test says otherwise.
type files struct {
	etcDir string // /etc/credbroker
	// ownerUID owns what install creates for the system service (root).
	ownerUID int
	// groupID is the system account's group.
	groupID func() (int, error)
}

func defaultFiles() files {
	return files{etcDir: filepath.Dir(SystemConfig), ownerUID: 0, groupID: func() (int, error) {
		g, err := user.LookupGroup(SystemAccount)
		if err != nil {
			return 0, fmt.Errorf("find the group %s: %w", SystemAccount, err)
		}
		return strconv.Atoi(g.Gid)
	}}
}

// prepareFiles makes, before the unit is written, the folders and files
// the daemon needs with the owners and modes it demands, so that the
// service starts on what install left: for the system service the folder
// /etc/credbroker (root:credbroker 0750) and an empty config file
// (root:credbroker 0640); for a user service the state folder
// ~/.local/state/credbroker (0700), which the user unit makes writable.
// What exists is kept, and refused when the daemon would refuse it.
func (m *Manager) prepareFiles() error {
	if m.scope == User {
		home, err := m.home()
		if err != nil {
			return fmt.Errorf("find the home folder: %w", err)
		}
		dir := filepath.Join(home, ".local", "state", "credbroker")
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return err
		}
		return m.ownFolder(dir, -1, -1, 0o700)
	}
	gid, err := m.files.groupID()
	if err != nil {
		return err
	}
	etc := m.files.etcDir
	if err := m.ownFolder(etc, m.files.ownerUID, gid, 0o750); err != nil {
		return err
	}
	config := filepath.Join(etc, filepath.Base(SystemConfig))
	if err := m.makeConfig(config, gid); err != nil {
		return err
	}
	if pass := filepath.Join(etc, filepath.Base(SystemPassphrase)); exists(pass) {
		return checkKept(pass, 0o077, "0600, owner root")
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// makeConfig creates the system config file, or checks the one there.
func (m *Manager) makeConfig(config string, gid int) error {
	f, err := os.OpenFile(config, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return checkKept(config, 0o027, "0640, owner root, group "+SystemAccount)
	case err != nil:
		return err
	}
	_, err = f.WriteString(configTemplate)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chown(config, m.files.ownerUID, gid)
	}
	if err == nil {
		err = os.Chmod(config, 0o640)
	}
	if err != nil {
		os.Remove(config) // nothing half-made
		return fmt.Errorf("create %s: %w", config, err)
	}
	m.notify("created " + config + " (owner root, group " + SystemAccount + ", mode 0640): add your profiles there")
	return nil
}

// ownFolder makes dir with mode, owned by uid:gid (-1 keeps them), or
// gives an existing folder that owner and mode; something there that is
// not a folder is refused.
func (m *Manager) ownFolder(dir string, uid, gid int, mode fs.FileMode) error {
	err := os.Mkdir(dir, mode)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder: remove it, then install again", dir)
	}
	if err := os.Lchown(dir, uid, gid); err != nil {
		return fmt.Errorf("give %s its owner: %w", dir, err)
	}
	if fi.Mode().Perm() != mode {
		if err := os.Chmod(dir, mode); err != nil {
			return err
		}
		m.notify(fmt.Sprintf("%s: mode %04o, was %04o", dir, mode, fi.Mode().Perm()))
	}
	return nil
}

// checkKept refuses an existing file the daemon would refuse: any of the
// bits in tooOpen set (or not a regular file).
func checkKept(path string, tooOpen fs.FileMode, want string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&tooOpen != 0 {
		return fmt.Errorf("%s is kept, but it is %s, mode %04o: the daemon refuses it; make it %s (chmod, chown), then install again",
			path, fileKind(fi), fi.Mode().Perm(), want)
	}
	return nil
}

func fileKind(fi fs.FileInfo) string {
	if fi.Mode().IsRegular() {
		return "a file"
	}
	return "not a regular file"
}
