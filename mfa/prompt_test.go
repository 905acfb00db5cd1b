package mfa

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAskCode(t *testing.T) {
	t.Parallel()
	const (
		malformed = "not a 6-digit code"
		reused    = "already used; wait for the next one"
	)
	tests := []struct {
		name     string
		input    string
		last     string
		want     string // "" = an error is expected
		prompts  int
		messages []string // substrings the terminal must show, in addition to prompts
	}{
		{"plain", "123456\n", "", "123456", 1, nil},
		{"spaces as the app shows it", "  123 456 \n", "", "123456", 1, nil},
		{"carriage return", "123456\r\n", "", "123456", 1, nil},
		{"leading zero", "012345\n", "", "012345", 1, nil},
		{"end of input after the code", "123456", "", "123456", 1, nil},
		{"re-ask after letters", "abc\n123456\n", "", "123456", 2, []string{malformed}},
		{"re-ask after 5 digits", "12345\n654321\n", "", "654321", 2, []string{malformed}},
		{"fourth prompt is the last", "1\n12\n1234567\n000000\n", "", "000000", 4, []string{malformed}},
		{"four malformed entries", "1\n12\n1234567\n12a456\n123456\n", "", "", 4, []string{malformed}},
		{"non-ascii digits", "١٢٣٤٥٦\n123456\n", "", "123456", 2, []string{malformed}},
		{"8 digits", "12345678\n123456\n", "", "123456", 2, []string{malformed}},
		{"very long line", strings.Repeat("1", 10000) + "\n123456\n", "", "123456", 2, []string{malformed}},
		{"long line of exactly 6 digits after spaces", strings.Repeat(" ", 300) + "123456\n111111\n", "", "111111", 2, []string{malformed}},
		{"empty line", "\n123456\n", "", "123456", 2, []string{malformed}},
		{"no input", "", "", "", 1, nil},
		{"end of input after malformed", "12\n", "", "", 2, []string{malformed}},
		{"same code as last time", "123456\n654321\n", "123456", "654321", 2, []string{reused}},
		{"same code with spaces", "123 456\n654321\n", "123456", "654321", 2, []string{reused}},
		{"different code from last time", "654321\n", "123456", "654321", 1, nil},
		{"same code four times", "123456\n123456\n123456\n123456\n", "123456", "", 4, []string{reused}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			got, err := askCode(context.Background(), bufio.NewReader(strings.NewReader(tc.input)), &out, deviceA, tc.last)
			switch {
			case tc.want == "" && err == nil:
				t.Error("askCode accepted a code, want an error")
			case tc.want != "" && err != nil:
				t.Errorf("askCode: %v", err)
			case got != tc.want:
				t.Error("askCode returned a different code than typed")
			}
			if err != nil && strings.Contains(err.Error(), "123456") {
				t.Error("error contains a typed code")
			}
			shown := out.String()
			if n := strings.Count(shown, "MFA code for "+deviceA+": "); n != tc.prompts {
				t.Errorf("%d prompts, want %d", n, tc.prompts)
			}
			for _, m := range tc.messages {
				if !strings.Contains(shown, m) {
					t.Errorf("terminal does not show %q", m)
				}
			}
			// The terminal's echo shows what the user types; the package itself
			// never writes a code.
			rest := strings.NewReplacer(deviceA, "", "6-digit", "", "6 digits", "").Replace(shown)
			if strings.ContainsAny(rest, "0123456789") {
				t.Error("terminal output contains digits besides the device and the hint")
			}
		})
	}
}

func TestAskCodeSanitizesDevice(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	_, err := askCode(context.Background(), bufio.NewReader(strings.NewReader("123456\n")), &out, "evil\x1b]0;owned\x07\n", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\n") {
		t.Errorf("prompt %q passes control characters to the terminal", out.String())
	}
}

func TestNoTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	regular := filepath.Join(dir, "not-a-tty")
	if err := os.WriteFile(regular, []byte("123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{
		"missing file": filepath.Join(dir, "missing"),
		"regular file": regular,
		"directory":    dir,
		"/dev/null":    os.DevNull, // a character device that is not a terminal
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &TTYPrompter{Path: path}
			if _, err := p.PromptCode(context.Background(), deviceA); !errors.Is(err, ErrNoTerminal) {
				t.Errorf("PromptCode: err = %v, want ErrNoTerminal", err)
			}
			if _, err := ReadSecretFromTTY(path, "Passphrase: "); !errors.Is(err, ErrNoTerminal) {
				t.Errorf("ReadSecretFromTTY: err = %v, want ErrNoTerminal", err)
			}
		})
	}
	if b, err := os.ReadFile(regular); err != nil || string(b) != "123456\n" {
		t.Error("the regular file was written to")
	}
}

func TestPromptCodeCancelledBeforeTurn(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &TTYPrompter{Path: filepath.Join(t.TempDir(), "missing")}
	if _, err := p.PromptCode(ctx, deviceA); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
