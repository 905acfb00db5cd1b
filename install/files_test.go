//go:build unix

package install

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestInstallMakesFilesTheDaemonTakes: install leaves the folders and the
// config file with the owners and modes the daemon demands (a system
// config it would refuse never comes from install), keeps what exists,
// and refuses to go on over a file the daemon would refuse.
func TestInstallMakesFilesTheDaemonTakes(t *testing.T) {
	t.Parallel()
	mode := func(t *testing.T, path string) (os.FileMode, uint32, uint32) {
		t.Helper()
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		return fi.Mode(), st.Uid, st.Gid
	}
	t.Run("system", func(t *testing.T) {
		env := fakeEnv{goos: "linux", platform: "linux-systemd", euid: 0}
		m := newTestManager(t, System, &env)
		if err := m.Install(); err != nil {
			t.Fatal(err)
		}
		etc := m.files.etcDir
		if md, uid, gid := mode(t, etc); md != os.ModeDir|0o750 || int(uid) != os.Getuid() || int(gid) != os.Getgid() {
			t.Errorf("%s: %v %d:%d, want a 0750 folder of the owner and the service's group", etc, md, uid, gid)
		}
		config := filepath.Join(etc, "config")
		if md, uid, gid := mode(t, config); md != 0o640 || int(uid) != os.Getuid() || int(gid) != os.Getgid() {
			t.Errorf("%s: %v %d:%d, want 0640 of the owner and the service's group", config, md, uid, gid)
		}
		if data, _ := os.ReadFile(config); string(data) != configTemplate {
			t.Errorf("config = %q", data)
		}
		// Kept as it is on a second run: the profiles written there stay.
		if err := os.WriteFile(config, []byte("[profile ci]\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := m.prepareFiles(); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(config); string(data) != "[profile ci]\n" {
			t.Errorf("a second install changed the config: %q", data)
		}
		// One the daemon would refuse stops install, saying what to do.
		if err := os.Chmod(config, 0o664); err != nil {
			t.Fatal(err)
		}
		err := m.prepareFiles()
		if err == nil || !strings.Contains(err.Error(), config+" is kept, but it is a file, mode 0664: the daemon refuses it; make it 0640") {
			t.Errorf("group-writable config: %v", err)
		}
		pass := filepath.Join(etc, "passphrase")
		if err := os.Chmod(config, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pass, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := m.prepareFiles(); err == nil || !strings.Contains(err.Error(), "mode 0644: the daemon refuses it; make it 0600, owner root") {
			t.Errorf("a passphrase others may read: %v", err)
		}
	})
	t.Run("user", func(t *testing.T) {
		env := fakeEnv{goos: "linux", platform: "linux-systemd", euid: 1000}
		m := newTestManager(t, User, &env)
		home, _ := m.home()
		state := filepath.Join(home, ".local", "state", "credbroker")
		if err := os.MkdirAll(state, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := m.Install(); err != nil {
			t.Fatal(err)
		}
		if md, _, _ := mode(t, state); md != os.ModeDir|0o700 {
			t.Errorf("%s: %v, want 0700 (the daemon refuses a state folder others may enter)", state, md)
		}
		if _, err := os.Stat(filepath.Join(m.files.etcDir, "config")); !os.IsNotExist(err) {
			t.Errorf("a user service install touched the system config: %v", err)
		}
	})
}
