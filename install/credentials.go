package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxPassphraseSize is the largest passphrase file PassphraseFromCredentials
// accepts. A passphrase is typed or generated, never megabytes: a bigger
// file is the wrong file.
const MaxPassphraseSize = 4 << 10

var (
	// ErrEmptyPassphrase: the passphrase credential holds nothing (or only
	// a newline).
	ErrEmptyPassphrase = errors.New("passphrase credential is empty")
	// ErrPassphraseTooLarge: the passphrase credential is larger than
	// MaxPassphraseSize.
	ErrPassphraseTooLarge = errors.New("passphrase credential is larger than 4 KiB")
)

// PassphraseFromCredentials reads the file keyring's passphrase from the
// systemd credential the system unit loads (LoadCredential=passphrase:...):
// the file "passphrase" in $CREDENTIALS_DIRECTORY, looked up with getenv.
//
// It returns found == false and no error when $CREDENTIALS_DIRECTORY is
// unset or holds no such file (the daemon was not started by the unit, and
// falls back to its other sources). One final newline ("\n" or "\r\n"), as
// editors and `echo` leave, is not part of the passphrase. An empty file or
// one larger than MaxPassphraseSize is an error. Errors name the file, never
// what it holds.
func PassphraseFromCredentials(getenv func(string) string) (passphrase string, found bool, err error) {
	dir := getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return "", false, nil
	}
	path := filepath.Join(dir, PassphraseCredential)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read passphrase credential: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit rather than trust Stat: the size of a
	// file that is not regular says nothing.
	buf, err := io.ReadAll(io.LimitReader(f, MaxPassphraseSize+1))
	if err != nil {
		return "", false, fmt.Errorf("read passphrase credential %s: %w", path, err)
	}
	defer clear(buf)
	if len(buf) > MaxPassphraseSize {
		return "", false, fmt.Errorf("read passphrase credential %s: %w", path, ErrPassphraseTooLarge)
	}
	p := buf
	if bytes.HasSuffix(p, []byte("\r\n")) {
		p = p[:len(p)-2]
	} else if bytes.HasSuffix(p, []byte("\n")) {
		p = p[:len(p)-1]
	}
	if len(p) == 0 {
		return "", false, fmt.Errorf("read passphrase credential %s: %w", path, ErrEmptyPassphrase)
	}
	return string(p), true, nil
}
