package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFilePutLeavesNoStaging(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	for i := range 5 {
		for _, name := range []string{"prod", "arn:aws:iam::123456789012:mfa/alice"} {
			if err := s.Put(KindState, name, fmt.Appendf(nil, "%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{"credbroker:state:arn:aws:iam::123456789012:mfa%2Falice", "credbroker:state:prod"}
	if got := entries(t, dir); !slices.Equal(got, want) {
		t.Fatalf("folder holds %q, want only %q", got, want)
	}
	items, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := []Item{{KindState, "arn:aws:iam::123456789012:mfa/alice"}, {KindState, "prod"}}; !slices.Equal(items, want) {
		t.Fatalf("List = %v, want %v", items, want)
	}
	if got, _ := s.Get(KindState, "prod"); string(got) != "4" {
		t.Fatalf("Get = %q, want the last Put", got)
	}
}

// TestFilePutInterrupted stops Put between staging and rename, as a crash
// would: the old item must stay whole and readable, and nothing staged may
// remain or show up in List.
func TestFilePutInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	if err := s.Put(KindSession, "prod", []byte("old")); err != nil {
		t.Fatal(err)
	}
	var staged []string
	s.file.beforeRename = func() error {
		staged = entries(t, dir)
		return errors.New("simulated crash")
	}
	err := s.Put(KindSession, "prod", []byte("new"))
	if err == nil || !strings.Contains(err.Error(), `put session "prod": simulated crash`) {
		t.Fatalf("err = %v", err)
	}
	// While staged, the folder held the old item and one staging folder,
	// and List did not see the staged copy.
	if len(staged) != 2 || !strings.HasPrefix(staged[0], stagingPrefix) && !strings.HasPrefix(staged[1], stagingPrefix) {
		t.Fatalf("during Put the folder held %q, want the item and a staging folder", staged)
	}
	if got, err := s.Get(KindSession, "prod"); err != nil || string(got) != "old" {
		t.Fatalf("Get after interrupted Put = %q, %v; want old", got, err)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"credbroker:session:prod"}) {
		t.Fatalf("folder holds %q after the failed Put", got)
	}

	// A rename that fails for real is cleaned up the same way.
	s.file.beforeRename = nil
	blocker := filepath.Join(dir, "credbroker:session:blocked")
	if err := os.MkdirAll(filepath.Join(blocker, "child"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(KindSession, "blocked", []byte("x")); err == nil || !strings.Contains(err.Error(), "replace keyring file") {
		t.Fatalf("Put over a directory: err = %v", err)
	}
	for _, name := range entries(t, dir) {
		if strings.HasPrefix(name, stagingPrefix) {
			t.Fatalf("staging folder %s left after a failed rename", name)
		}
	}
}

func TestFileStaleStagingRemovedOnOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openFileStore(t, dir, testPassphrase)
	if err := s.Put(KindSession, "prod", []byte("x")); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, stagingPrefix+"crashed")
	fresh := filepath.Join(dir, stagingPrefix+"running")
	for _, d := range []string{stale, fresh} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "credbroker:session:prod"), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// And a parameters file a crash left half-written.
	staleParams := filepath.Join(dir, kdfFile+"-123.tmp")
	if err := os.WriteFile(staleParams, []byte(`{"kdf":`), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleStagingAge)
	for _, p := range []string{stale, staleParams} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := []Item{{KindSession, "prod"}}; !slices.Equal(items, want) {
		t.Fatalf("List with staging folders = %v, want %v", items, want)
	}
	openFileStore(t, dir, testPassphrase)
	for _, p := range []string{stale, staleParams} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("stale %s still there (err %v)", p, err)
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a recent staging folder (maybe another process's Put) was removed: %v", err)
	}
}
