package install

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPassphraseFromCredentials(t *testing.T) {
	t.Parallel()
	// The secret's marker: no error may contain it.
	const secret = "correct-horse-battery-staple"
	for _, tc := range []struct {
		name string
		// content is written to $CREDENTIALS_DIRECTORY/passphrase; nil
		// writes no file.
		content []byte
		// noDir leaves $CREDENTIALS_DIRECTORY unset.
		noDir     bool
		want      string
		wantFound bool
		wantErr   error // nil: no error
	}{
		{name: "no credentials directory", noDir: true},
		{name: "no passphrase credential", content: nil},
		{name: "plain", content: []byte(secret), want: secret, wantFound: true},
		{name: "final newline trimmed", content: []byte(secret + "\n"), want: secret, wantFound: true},
		{name: "final CRLF trimmed", content: []byte(secret + "\r\n"), want: secret, wantFound: true},
		{name: "only one newline trimmed", content: []byte(secret + "\n\n"), want: secret + "\n", wantFound: true},
		{name: "inner and leading spaces kept", content: []byte(" " + secret + " x\n"), want: " " + secret + " x", wantFound: true},
		{name: "exactly 4 KiB", content: []byte(strings.Repeat("p", MaxPassphraseSize)), want: strings.Repeat("p", MaxPassphraseSize), wantFound: true},
		{name: "empty file", content: []byte{}, wantErr: ErrEmptyPassphrase},
		{name: "only a newline", content: []byte("\n"), wantErr: ErrEmptyPassphrase},
		{name: "larger than 4 KiB", content: []byte(secret + strings.Repeat("x", MaxPassphraseSize)), wantErr: ErrPassphraseTooLarge},
		{name: "4 KiB and a newline", content: []byte(strings.Repeat(secret[:1], MaxPassphraseSize) + "\n"), wantErr: ErrPassphraseTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tc.content != nil {
				if err := os.WriteFile(filepath.Join(dir, "passphrase"), tc.content, 0o400); err != nil {
					t.Fatal(err)
				}
			}
			getenv := func(key string) string {
				if key == "CREDENTIALS_DIRECTORY" && !tc.noDir {
					return dir
				}
				return ""
			}
			got, found, err := PassphraseFromCredentials(getenv)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secret[:8]) {
					t.Errorf("error quotes the passphrase file: %v", err)
				}
				if got != "" || found {
					t.Errorf("with an error it returned found=%v and a %d-byte passphrase", found, len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if found != tc.wantFound {
				t.Errorf("found = %v, want %v", found, tc.wantFound)
			}
			// Compare without printing the passphrase.
			if got != tc.want {
				t.Errorf("passphrase differs from the file's (%d bytes, want %d)", len(got), len(tc.want))
			}
		})
	}
}

func TestPassphraseFromCredentialsUnreadable(t *testing.T) {
	t.Parallel()
	// A directory where the file should be: an error, not "not found",
	// so that a broken setup is not mistaken for a missing credential.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "passphrase"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, found, err := PassphraseFromCredentials(func(key string) string {
		if key == "CREDENTIALS_DIRECTORY" {
			return dir
		}
		return ""
	})
	if err == nil || found {
		t.Fatalf("found=%v err=%v, want an error", found, err)
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, "passphrase")) {
		t.Errorf("error %q does not name the file", err)
	}
}
