package mfa

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/term"
)

// ErrNoTerminal is returned when there is no terminal to ask a human on: /dev/tty
// cannot be opened (no controlling terminal, as under a service manager or a detached
// credential_process) or the path given is not a terminal.
var ErrNoTerminal = errors.New("no terminal to ask on")

// defaultTTY is the process's controlling terminal. Prompts never use stdin/stdout:
// under credential_process stdout carries the JSON the SDK parses and stdin may be a
// pipe.
const defaultTTY = "/dev/tty"

const (
	// codeDigits is the length of the codes AWS accepts from virtual and hardware
	// TOTP devices (TokenCode is 6 digits).
	codeDigits = 6

	// maxPrompts is the first prompt plus three re-asks after a malformed or
	// reused entry.
	maxPrompts = 4

	// maxLine bounds one typed line; a code is 6 digits, anything this long is a
	// paste accident and is refused without being kept.
	maxLine = 256
)

// Prompter asks a human for a code.
type Prompter interface {
	PromptCode(ctx context.Context, device string) (string, error)
}

// TTYPrompter asks for codes on a terminal. It remembers, per device, the last code it
// returned, and refuses the same code typed again ("that code was already used; wait
// for the next one"): AWS rejects a code already used for the device, and a human
// asked twice within one 30 s step would type the same one. That memory lives in the
// TTYPrompter, so use one *TTYPrompter per process.
//
// The zero value prompts on /dev/tty. Do not copy a TTYPrompter after first use.
// PromptCode is safe for concurrent use; prompts on one TTYPrompter are asked one at
// a time.
type TTYPrompter struct {
	Path string // "" = /dev/tty; tests use a pseudo-terminal

	mu    sync.Mutex   // guards the lazy creation of state
	state *promptState // a pointer, so printing a TTYPrompter shows no codes
}

type promptState struct {
	turn chan struct{}     // one prompt at a time on the terminal
	last map[string]string // device -> last code returned; guarded by turn
}

func (p *TTYPrompter) promptState() *promptState {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		p.state = &promptState{turn: make(chan struct{}, 1), last: make(map[string]string)}
	}
	return p.state
}

// PromptCode opens the terminal, writes "MFA code for DEVICE: ", and reads a line
// with echo on (a code is short-lived, and seeing it helps the user; it is still never
// logged or repeated in a message). It accepts 6 ASCII digits, ignoring spaces
// (authenticator apps show "123 456"), and re-asks at most 3 times after a malformed
// entry or a code equal to the last one returned for device. It returns ErrNoTerminal
// when there is no terminal, and an error wrapping ctx.Err() if ctx is done first
// (on systems whose poller supports terminals, such as Linux, ctx also interrupts a
// pending read).
func (p *TTYPrompter) PromptCode(ctx context.Context, device string) (string, error) {
	st := p.promptState()
	select {
	case st.turn <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("prompt for mfa code for %s: %w", device, ctx.Err())
	}
	defer func() { <-st.turn }()
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("prompt for mfa code for %s: %w", device, err)
	}

	tty, err := openTerminal(p.Path)
	if err != nil {
		return "", fmt.Errorf("prompt for mfa code for %s: %w", device, err)
	}
	defer tty.Close()
	// A deadline in the past wakes a blocked Read; it fails with ErrNoDeadline (and
	// the read is not interrupted) where the file is not in the runtime poller.
	stop := context.AfterFunc(ctx, func() { _ = tty.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	code, err := askCode(ctx, bufio.NewReader(tty), tty, device, st.last[device])
	if err != nil {
		return "", fmt.Errorf("prompt for mfa code for %s: %w", device, err)
	}
	st.last[device] = code
	return code, nil
}

// askCode runs the prompt loop on r and w. lastCode is the code last returned for
// device ("" if none).
func askCode(ctx context.Context, r *bufio.Reader, w io.Writer, device, lastCode string) (string, error) {
	prompt := "MFA code for " + printable(device) + ": "
	for range maxPrompts {
		if _, err := io.WriteString(w, prompt); err != nil {
			return "", fmt.Errorf("write prompt: %w", err)
		}
		line, err := readLine(r)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				_, _ = io.WriteString(w, "\n")
				return "", ctxErr
			}
			if errors.Is(err, io.EOF) {
				return "", errors.New("no code entered (end of input)")
			}
			return "", fmt.Errorf("read code: %w", err)
		}
		code, ok := normalizeCode(line)
		switch {
		case !ok:
			_, err = io.WriteString(w, "that is not a 6-digit code; type the 6 digits your MFA device shows\n")
		case code == lastCode:
			_, err = io.WriteString(w, "that code was already used; wait for the next one\n")
		default:
			return code, nil
		}
		if err != nil {
			return "", fmt.Errorf("write prompt: %w", err)
		}
	}
	return "", fmt.Errorf("no valid code after %d tries (expected %d digits, not a code already used)", maxPrompts, codeDigits)
}

// readLine reads up to '\n' (or the end of input after some text) and returns the line
// without its end. A line longer than maxLine is consumed and returned truncated, which
// normalizeCode then refuses.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && b.Len() > 0 {
				return b.String(), nil
			}
			return "", err
		}
		if c == '\n' {
			return b.String(), nil
		}
		if b.Len() < maxLine {
			b.WriteByte(c)
		}
	}
}

// normalizeCode accepts exactly codeDigits ASCII digits once spaces (and a trailing
// '\r' from a terminal in raw mode) are removed.
func normalizeCode(line string) (string, bool) {
	if len(line) >= maxLine {
		return "", false
	}
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' {
			return -1
		}
		return r
	}, line)
	if len(code) != codeDigits {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

// printable keeps a device name from a config file from sending control sequences to
// the user's terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

// openTerminal opens path ("" = /dev/tty) for reading and writing and checks it is a
// terminal. The file stays in the runtime poller (its descriptor is only reached
// through SyscallConn), so SetReadDeadline can interrupt a read.
func openTerminal(path string) (*os.File, error) {
	if path == "" {
		path = defaultTTY
	}
	// O_NOCTTY: opening a terminal must never make it the controlling terminal of a
	// process that has none (a daemon, a test binary).
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoTerminal, err)
	}
	isTerminal := false
	rc, err := f.SyscallConn()
	if err == nil {
		err = rc.Control(func(fd uintptr) { isTerminal = term.IsTerminal(int(fd)) })
	}
	if err != nil || !isTerminal {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s is not a terminal", ErrNoTerminal, path)
	}
	return f, nil
}

// ReadSecretFromTTY writes prompt to the terminal at path ("" = /dev/tty) and reads a
// line with echo off, for passphrases and secret keys. The terminal's previous mode is
// restored before it returns, and also when ^C (SIGINT), SIGTERM or SIGHUP
// interrupts the read: then the signal takes its usual effect once echo is back. It returns
// ErrNoTerminal when there is no terminal. Spaces are kept: they may be part of a
// passphrase.
func ReadSecretFromTTY(path, prompt string) (string, error) {
	tty, err := openTerminal(path)
	if err != nil {
		return "", fmt.Errorf("read secret from terminal: %w", err)
	}
	defer tty.Close()
	// term.ReadPassword reads the descriptor directly, so it must be in blocking mode;
	// Fd switches it back to blocking (no deadline is used here).
	fd := int(tty.Fd())
	if _, err := io.WriteString(tty, prompt); err != nil {
		return "", fmt.Errorf("read secret from terminal: write prompt: %w", err)
	}
	stop := restoreOnSignal(fd)
	secret, err := term.ReadPassword(fd)
	stop()
	// The newline typed by the user was not echoed either.
	_, _ = io.WriteString(tty, "\n")
	defer clear(secret)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return "", errors.New("read secret from terminal: nothing entered (end of input)")
		}
		return "", fmt.Errorf("read secret from terminal: %w", err)
	}
	return string(secret), nil
}

// ReadLineFromTTY writes prompt to the terminal at path ("" = /dev/tty) and
// reads one line with echo on, for questions such as a confirmation. It
// returns ErrNoTerminal when there is no terminal.
func ReadLineFromTTY(path, prompt string) (string, error) {
	tty, err := openTerminal(path)
	if err != nil {
		return "", fmt.Errorf("read from terminal: %w", err)
	}
	defer tty.Close()
	if _, err := io.WriteString(tty, prompt); err != nil {
		return "", fmt.Errorf("read from terminal: write prompt: %w", err)
	}
	line, err := readLine(bufio.NewReader(tty))
	if err != nil {
		return "", fmt.Errorf("read from terminal: %w", err)
	}
	return line, nil
}
