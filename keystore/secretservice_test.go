//go:build linux

package keystore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/keyring"
)

// helperEnv tells a re-executed test binary which inner test it is there for.
const helperEnv = "CREDBROKER_KEYSTORE_TEST_HELPER"

// runHelper re-executes this test binary to run only the test named inner,
// with the environment env (on top of a copy of ours without any session bus
// address and with a private HOME), optionally under a wrapper command. A
// fresh process is needed because keyring decides at init whether a D-Bus
// session bus exists.
func runHelper(t *testing.T, inner string, wrapper []string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	home := t.TempDir()
	runtimeDir := t.TempDir() // 0700, as XDG_RUNTIME_DIR must be
	args := append(slices.Clone(wrapper), os.Args[0], "-test.run=^"+inner+"$", "-test.count=1", "-test.v")
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
			helperEnv, "CREDBROKER_KEYRING", "CREDBROKER_FILE_DIR", "CREDBROKER_FILE_PASSPHRASE", "CREDBROKER_SECRET_SERVICE_COLLECTION":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	// The helper's keyrings live in temporary folders, never the user's.
	cmd.Env = append(cmd.Env,
		"HOME="+home,
		"XDG_RUNTIME_DIR="+runtimeDir,
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
	)
	cmd.Env = append(cmd.Env, env...)
	// gnome-keyring-daemon forks into the background: kill the whole group
	// on timeout, and do not wait forever for pipes it may hold.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", inner, err, out)
	}
	// A helper that skipped (its marker lost on the way) must not pass.
	if !bytes.Contains(out, []byte("--- PASS: "+inner+" ")) {
		t.Fatalf("%s did not run and pass:\n%s", inner, out)
	}
	t.Logf("%s", out)
}

// TestSecretService runs TestSecretServiceInner against a real gnome-keyring
// on a private session bus.
func TestSecretService(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "secret-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install Debian packages dbus gnome-keyring libsecret-tools", tool)
		}
	}
	// --unlock reads the login keyring's password from stdin and creates
	// the "login" collection when there is none.
	const script = `printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"`
	runHelper(t, "TestSecretServiceInner", []string{"dbus-run-session", "--", "sh", "-c", script, "sh"}, helperEnv+"=secret-service")
}

// TestDefaultBackendWithoutDBus checks that Open falls back to the file
// backend when no session bus answers, in a process whose session bus
// address leads nowhere.
func TestDefaultBackendWithoutDBus(t *testing.T) {
	t.Parallel()
	nowhere := "unix:path=" + filepath.Join(t.TempDir(), "no-bus")
	runHelper(t, "TestNoDBusInner", nil, helperEnv+"=no-dbus", "DBUS_SESSION_BUS_ADDRESS="+nowhere)
}

func TestNoDBusInner(t *testing.T) {
	if os.Getenv(helperEnv) != "no-dbus" {
		t.Skip("run by TestDefaultBackendWithoutDBus in a process without a session bus")
	}
	dir := t.TempDir()
	s, err := Open(Config{FileDir: dir, FilePassphrase: testPassphrase})
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "file" {
		t.Fatalf("default Backend() = %q without D-Bus, want file", s.Backend())
	}
	if err := s.Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}

	_, err = Open(Config{Backend: "secret-service"})
	if err == nil || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Fatalf("Open secret-service without D-Bus: err = %v", err)
	}

	// Without a passphrase the error says why secret-service was not used.
	s, err = Open(Config{FileDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Put(KindSession, "prod", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "CREDBROKER_FILE_PASSPHRASE") || !strings.Contains(err.Error(), "secret-service not used: ") {
		t.Fatalf("Put without passphrase: err = %v", err)
	}
}

// waitForCollection opens the Store until gnome-keyring, started just before
// this process, has created the collection.
func waitForCollection(t *testing.T, cfg Config) *Store {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := Open(cfg)
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("secret-service collection never became usable: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSecretServiceInner(t *testing.T) {
	if os.Getenv(helperEnv) != "secret-service" {
		t.Skip("run by TestSecretService under dbus-run-session with gnome-keyring")
	}
	s := waitForCollection(t, Config{Backend: "secret-service", Collection: "login"})
	if s.Backend() != "secret-service" {
		t.Fatalf("Backend() = %q", s.Backend())
	}

	// Another application's items in the same collection.
	raw, err := keyring.Open(keyring.Config{
		AllowedBackends:         []keyring.BackendType{keyring.SecretServiceBackend},
		LibSecretCollectionName: "login",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"other-app", "credbroker", "credbroker:session"} {
		if err := raw.Set(keyring.Item{Key: k, Data: []byte("foreign")}); err != nil {
			t.Fatalf("store foreign item: %v", err)
		}
	}

	const secret = "secret-service-test-secret-0123456789"
	puts := []Item{
		{KindAccessKey, "prod"},
		{KindSession, "prod/admin"},
		{KindState, "arn:aws:iam::123456789012:mfa/alice"},
		{KindTOTPSeed, "100%/done"},
	}
	for _, it := range puts {
		if err := s.Put(it.Kind, it.Name, []byte(secret+it.Name)); err != nil {
			t.Fatalf("Put(%v): %v", it, err)
		}
	}
	// Replacing an item must not duplicate it.
	if err := s.Put(KindAccessKey, "prod", []byte(secret+"v2")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(KindAccessKey, "prod"); err != nil || string(got) != secret+"v2" {
		t.Fatalf("Get after replace: ok %t, err %v", string(got) == secret+"v2", err)
	}
	for _, it := range puts[1:] {
		if got, err := s.Get(it.Kind, it.Name); err != nil || string(got) != secret+it.Name {
			t.Fatalf("Get(%v): ok %t, err %v", it, string(got) == secret+it.Name, err)
		}
	}
	items, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(puts)
	slices.SortFunc(want, func(a, b Item) int { return strings.Compare(string(a.Kind), string(b.Kind)) })
	if !slices.Equal(items, want) {
		t.Fatalf("List = %v, want %v", items, want)
	}
	// The foreign items are really in the collection List read.
	labels, err := raw.Keys()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"other-app", "credbroker", "credbroker:session", itemKey(KindState, "arn:aws:iam::123456789012:mfa/alice")} {
		if !slices.Contains(labels, k) {
			t.Fatalf("collection labels %q lack %q", labels, k)
		}
	}
	for _, l := range labels {
		if strings.Contains(l, secret) {
			t.Fatal("an item label contains the secret")
		}
	}

	// What other tools see: the label and attributes name the item, the
	// secret stays in the secret.
	key := itemKey(KindState, "arn:aws:iam::123456789012:mfa/alice")
	out, err := exec.Command("secret-tool", "search", "--all", "profile", key).CombinedOutput()
	if err != nil {
		t.Fatalf("secret-tool search: %v", err)
	}
	// keyring keeps the data base64-encoded in JSON: the encoding of the
	// secret's first 15 bytes (a multiple of 3) starts that of the data.
	encoded := base64.StdEncoding.EncodeToString([]byte(secret[:15]))
	var sawLabel, sawSecret bool
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "secret = ") {
			// Proves the needle below would find the secret if it leaked.
			sawSecret = strings.Contains(line, encoded)
			continue
		}
		if strings.Contains(line, secret) || strings.Contains(line, encoded) {
			t.Fatal("secret-tool shows the secret outside the secret field")
		}
		if line == "label = "+key {
			sawLabel = true
		}
	}
	if !sawLabel || !sawSecret || !strings.Contains(string(out), "attribute.profile = "+key) {
		t.Fatalf("secret-tool search does not show the item's label, attribute and secret (label %t, secret %t; %d bytes of output)", sawLabel, sawSecret, len(out))
	}

	if err := s.Delete(KindSession, "prod/admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(KindSession, "prod/admin"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(KindSession, "prod/admin"); err != nil {
		t.Fatalf("Delete of an absent item: %v", err)
	}
	if items, err := s.List(); err != nil || len(items) != len(puts)-1 {
		t.Fatalf("List after Delete = %v, %v", items, err)
	}

	// Goroutines share one Store (and keyring's unguarded session state).
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			name := "concurrent/" + string(rune('a'+g))
			for range 5 {
				if err := s.Put(KindSession, name, []byte(name)); err != nil {
					t.Error(err)
					return
				}
				if got, err := s.Get(KindSession, name); err != nil || string(got) != name {
					t.Errorf("Get(%s) = %q, %v", name, got, err)
					return
				}
			}
		})
	}
	wg.Wait()

	t.Run("default backend", func(t *testing.T) {
		d, err := Open(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Backend() != "secret-service" {
			t.Fatalf("default Backend() = %q with an unlocked login collection, want secret-service", d.Backend())
		}
		if got, err := d.Get(KindState, "arn:aws:iam::123456789012:mfa/alice"); err != nil || !bytes.HasPrefix(got, []byte(secret)) {
			t.Fatalf("default Store does not see the items: %v", err)
		}
		labels, err := raw.Keys()
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(labels, probeKey) {
			t.Fatal("the default-backend probe item was left behind")
		}
	})

	t.Run("missing collection", func(t *testing.T) {
		start := time.Now()
		_, err := Open(Config{Backend: "secret-service", Collection: "nonexistent"})
		if err == nil || !strings.Contains(err.Error(), `collection "nonexistent" does not exist`) {
			t.Fatalf("err = %v, want a missing-collection error", err)
		}
		// Creating it would wait for a prompt nobody answers.
		if time.Since(start) > 5*time.Second {
			t.Fatalf("Open took %s", time.Since(start))
		}
		d, err := Open(Config{Collection: "nonexistent", FileDir: t.TempDir(), FilePassphrase: testPassphrase})
		if err != nil {
			t.Fatal(err)
		}
		if d.Backend() != "file" {
			t.Fatalf("default Backend() = %q without the collection, want file", d.Backend())
		}
	})
}
