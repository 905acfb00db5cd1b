package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
)

// kdfFile holds the file keyring's Argon2id parameters and salt, beside
// the items. It holds no secret. Its name does not start with
// "credbroker:", so it is never taken for an item.
const kdfFile = ".credbroker-kdf"

// The parameters a new keyring gets. keyring's file backend derives its
// key-wrapping key with PBKDF2-HMAC-SHA256 at 8192 iterations, a few
// milliseconds: an offline guess costs what Argon2id adds in front of it.
// With 64 MiB, 7 passes and 1 lane, one guess (BenchmarkOfflineGuess)
// takes about 0.3 s of one core of the 2-core machine the README names;
// 64 MiB is allocated for that long at each unlock, and freed.
const (
	kdfTime      = 7
	kdfMemoryKiB = 64 * 1024
	kdfThreads   = 1
	kdfSaltLen   = 32
	kdfKeyLen    = 32
)

// kdfParams is the content of kdfFile.
type kdfParams struct {
	KDF       string `json:"kdf"`     // "argon2id"
	Version   int    `json:"version"` // argon2.Version
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Salt      []byte `json:"salt"` // base64 in the file
}

func newKDFParams(rand io.Reader) (*kdfParams, error) {
	p := &kdfParams{KDF: "argon2id", Version: argon2.Version, Time: kdfTime, MemoryKiB: kdfMemoryKiB, Threads: kdfThreads,
		Salt: make([]byte, kdfSaltLen)}
	if _, err := io.ReadFull(rand, p.Salt); err != nil {
		return nil, fmt.Errorf("make a salt: %w", err)
	}
	return p, nil
}

// derive stretches pass into the password keyring is given (base64: keyring
// and jose2go take a string).
func (p *kdfParams) derive(pass string) string {
	key := argon2.IDKey([]byte(pass), p.Salt, p.Time, p.MemoryKiB, p.Threads, kdfKeyLen)
	return base64.RawStdEncoding.EncodeToString(key)
}

func (p *kdfParams) same(q *kdfParams) bool {
	return q != nil && p.KDF == q.KDF && p.Version == q.Version && p.Time == q.Time && p.MemoryKiB == q.MemoryKiB &&
		p.Threads == q.Threads && bytes.Equal(p.Salt, q.Salt)
}

// check refuses what this version cannot use or must not run: a huge
// memory cost from a damaged file would take the daemon's memory.
func (p *kdfParams) check() error {
	switch {
	case p.KDF != "argon2id":
		return fmt.Errorf("kdf is %q, want argon2id", p.KDF)
	case p.Version != argon2.Version:
		return fmt.Errorf("argon2 version is %d, want %d", p.Version, argon2.Version)
	case p.Time < 1 || p.Time > 64:
		return fmt.Errorf("time is %d, want 1 to 64", p.Time)
	case p.MemoryKiB < 8*1024 || p.MemoryKiB > 1024*1024:
		return fmt.Errorf("memory_kib is %d, want 8 MiB to 1 GiB", p.MemoryKiB)
	case p.Threads < 1 || p.Threads > 16:
		return fmt.Errorf("threads is %d, want 1 to 16", p.Threads)
	case len(p.Salt) < 16 || len(p.Salt) > 64:
		return fmt.Errorf("salt is %d bytes, want 16 to 64", len(p.Salt))
	}
	return nil
}

// paramsError: the parameters file is missing or cannot be used. Without
// it the items cannot be decrypted, whatever the passphrase.
type paramsError struct {
	path, problem string
}

func (e *paramsError) Error() string {
	return fmt.Sprintf("file keyring parameters %s: %s", e.path, e.problem)
}

// Hint says what to do: the file holds no secret, a backup copy will do.
func (e *paramsError) Hint() string {
	return "restore " + kdfFile + " from a backup of the keyring folder (it holds no secret, but the items cannot be decrypted without it)"
}

// maxParamsSize is far above what kdfFile holds (about 150 bytes).
const maxParamsSize = 4096

// readParams reads dir's parameters file: nil, nil when there is none.
func readParams(dir string) (*kdfParams, error) {
	path := filepath.Join(dir, kdfFile)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &paramsError{path: path, problem: err.Error()}
	}
	if !fi.Mode().IsRegular() {
		return nil, &paramsError{path: path, problem: "not a regular file"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &paramsError{path: path, problem: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxParamsSize+1))
	if err != nil {
		return nil, &paramsError{path: path, problem: err.Error()}
	}
	if len(data) > maxParamsSize {
		return nil, &paramsError{path: path, problem: "malformed: larger than any parameters file"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p kdfParams
	if err := dec.Decode(&p); err != nil {
		return nil, &paramsError{path: path, problem: "malformed: " + err.Error()}
	}
	if dec.More() {
		return nil, &paramsError{path: path, problem: "malformed: data after the parameters"}
	}
	if err := p.check(); err != nil {
		return nil, &paramsError{path: path, problem: "malformed: " + err.Error()}
	}
	return &p, nil
}

// writeParams replaces dir's parameters file atomically (a temporary file
// flushed, then renamed over it), mode 0600.
func writeParams(dir string, p *kdfParams) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, kdfFile+"-*.tmp")
	if err != nil {
		return fmt.Errorf("write keyring parameters: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, kdfFile))
	}
	if err != nil {
		return fmt.Errorf("write keyring parameters: %w", err)
	}
	_ = syncFile(dir, os.O_RDONLY)
	return nil
}
