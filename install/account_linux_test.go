package install

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSystemAccountEnsure(t *testing.T) {
	t.Parallel()
	// exitStatus returns a real *exec.ExitError with the given status.
	exitStatus := func(code int) error {
		err := exec.Command("sh", "-c", "exit "+strconv.Itoa(code)).Run()
		if err == nil {
			t.Fatal("sh exited 0")
		}
		return err
	}
	base := []string{"--system", "--no-create-home", "--home-dir", "/var/lib/credbroker", "--shell", "/usr/sbin/nologin"}
	for _, tc := range []struct {
		name                    string
		userExists, groupExists bool
		runErr                  error
		runOut                  string
		wantRun                 []string // nil: useradd must not run
		wantCreated             bool
		wantErr                 string
	}{
		{name: "user exists", userExists: true},
		{name: "neither exists", wantRun: append(append([]string{}, base...), "--user-group", "credbroker"), wantCreated: true},
		{name: "group exists", groupExists: true, wantRun: append(append([]string{}, base...), "--gid", "credbroker", "credbroker"), wantCreated: true},
		{name: "useradd: already in use", runErr: exitStatus(useraddUserInUse), wantRun: append(append([]string{}, base...), "--user-group", "credbroker")},
		{name: "useradd fails", runErr: exitStatus(1), runOut: "useradd: cannot lock /etc/passwd\n", wantRun: append(append([]string{}, base...), "--user-group", "credbroker"), wantErr: "cannot lock /etc/passwd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ran []string
			a := &systemAccount{
				lookupUser:  func(string) (bool, error) { return tc.userExists, nil },
				lookupGroup: func(string) (bool, error) { return tc.groupExists, nil },
				run: func(name string, args ...string) ([]byte, error) {
					if name != "useradd" {
						t.Errorf("ran %s, want useradd", name)
					}
					ran = args
					return []byte(tc.runOut), tc.runErr
				},
			}
			created, err := a.ensure()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if created != tc.wantCreated {
				t.Errorf("created = %v, want %v", created, tc.wantCreated)
			}
			if !reflect.DeepEqual(ran, tc.wantRun) {
				t.Errorf("useradd %q, want %q", ran, tc.wantRun)
			}
		})
	}
}

func TestSystemAccountLookupFails(t *testing.T) {
	t.Parallel()
	a := &systemAccount{
		lookupUser: func(string) (bool, error) { return false, errors.New("nss down") },
		run: func(string, ...string) ([]byte, error) {
			t.Error("useradd ran after a failed lookup")
			return nil, nil
		},
	}
	if _, err := a.ensure(); err == nil {
		t.Fatal("no error")
	}
}

// fileInfo is a FileInfo with a chosen mode and owner.
type fileInfo struct {
	mode fs.FileMode
	uid  uint32
}

func (f fileInfo) Name() string       { return "credbroker" }
func (f fileInfo) Size() int64        { return 1 }
func (f fileInfo) Mode() fs.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return &syscall.Stat_t{Uid: f.uid} }

func TestCheckSystemExecutable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path string
		fi         fs.FileInfo // nil: only the path is checked
		wantErr    string      // "" for none
	}{
		{"home", "/home/alice/go/bin/credbroker", nil, "hides /home"},
		{"root's home", "/root/credbroker", nil, "hides /root"},
		{"tmp", "/tmp/credbroker", nil, "hides /tmp"},
		{"var tmp", "/var/tmp/x/credbroker", nil, "hides /var/tmp"},
		{"root-owned 0755", "/usr/local/bin/credbroker", fileInfo{mode: 0o755}, ""},
		{"group-writable", "/usr/local/bin/credbroker", fileInfo{mode: 0o775}, "writable by group or others"},
		{"world-writable", "/usr/local/bin/credbroker", fileInfo{mode: 0o757}, "writable by group or others"},
		{"owned by a user", "/usr/local/bin/credbroker", fileInfo{mode: 0o755, uid: 1000}, "owned by uid 1000"},
		{"directory", "/usr/local/bin/credbroker", fileInfo{mode: fs.ModeDir | 0o755}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tc.fi == nil {
				err = checkSystemExecutable(tc.path)
			} else {
				err = checkExecutableOwner(tc.path, tc.fi)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error = %v, want one saying %q", err, tc.wantErr)
			}
		})
	}
}

// TestCheckSystemExecutableFolders: a root-owned binary in a folder another
// user may write can be replaced by a rename; every folder up to / counts.
func TestCheckSystemExecutableFolders(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root to make root-owned files (CI runs as root)")
	}
	base, err := os.MkdirTemp("/var/lib", "cbinst")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	bin := filepath.Join(base, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(bin, "credbroker-cli")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkSystemExecutable(exe); err != nil {
		t.Fatalf("root-owned folders: %v", err)
	}
	if err := os.Chmod(bin, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := checkSystemExecutable(exe); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("world-writable folder: %v", err)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(bin, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if err := checkSystemExecutable(exe); err == nil || !strings.Contains(err.Error(), "owned by uid 1000") {
		t.Errorf("a user's folder: %v", err)
	}
}
