package profile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxConfigSize bounds what is read: a profile file is a few kilobytes.
const maxConfigSize = 1 << 20

// entry is one meaningful line of a shared-config file: a section header
// (Key == ""), a key = value line, or an indented sub-property of the key
// named by Parent (as in a [services NAME] section).
type entry struct {
	// Section is the header as written between the brackets, with runs of
	// blanks made one space ("profile prod").
	Section string
	// Key is lower case, as botocore compares keys.
	Key, Value string
	// Parent is set for a sub-property: the key above it with an empty
	// value.
	Parent string
	Line   int
}

// lex reads AWS shared-config syntax and calls yield for each section
// header and each key = value line, in order: comments (# and ;, also
// after a value when a blank precedes them) and blank lines are dropped; a
// key whose value is empty opens sub-properties on the indented lines
// below it. It checks only the form of lines; what a key means is the
// section's business. An error is a *ConfigError at its line.
func lex(path string, r io.Reader, yield func(entry) error) error {
	sc := bufio.NewScanner(io.LimitReader(r, maxConfigSize+1))
	sc.Buffer(make([]byte, 64*1024), maxConfigSize+1)
	var (
		lineNo, size int
		section      string
		parent       string
	)
	fail := func(format string, args ...any) error {
		return &ConfigError{Path: path, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		size += len(raw) + 1
		if size > maxConfigSize {
			return fail("file is larger than %d bytes", maxConfigSize)
		}
		if lineNo == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		if trimmed[0] == '[' {
			// As botocore's configparser: the header ends at the last ],
			// which a comment may follow ("[profile dev]  ; the dev
			// account").
			end := strings.LastIndexByte(trimmed, ']')
			if end < 0 {
				return fail("section header %q has no closing ]", trimmed)
			}
			if rest := strings.TrimSpace(trimmed[end+1:]); rest != "" && rest[0] != '#' && rest[0] != ';' {
				return fail("section header %q has %q after its closing ]", trimmed, clip(rest))
			}
			section = strings.Join(strings.Fields(trimmed[1:end]), " ")
			if section == "" {
				return fail("empty section header []")
			}
			parent = ""
			if err := yield(entry{Section: section, Line: lineNo}); err != nil {
				return err
			}
			continue
		}
		if section == "" {
			return fail("%q is outside any section: start with [profile NAME]", clip(trimmed))
		}
		// botocore's configparser splits at the first = or : (the Go
		// SDK knows only =): "region: us-east-1" works for the AWS CLI.
		// A : after a blank ("role_arn arn:aws:...") is a missing =, not
		// a key with a blank in it.
		i := strings.IndexAny(trimmed, "=:")
		if i >= 0 && trimmed[i] == ':' && strings.ContainsAny(strings.TrimSpace(trimmed[:i]), " \t") {
			i = -1
		}
		if i < 0 {
			return fail("expected key = value, found %q", clip(trimmed))
		}
		key, value := trimmed[:i], trimmed[i+1:]
		e := entry{Section: section, Key: strings.ToLower(strings.TrimSpace(key)), Value: stripInlineComment(strings.TrimSpace(value)), Line: lineNo}
		if e.Key == "" {
			return fail("a line starts with %c and has no key", trimmed[i])
		}
		indented := raw[0] == ' ' || raw[0] == '\t'
		switch {
		case indented && parent != "":
			e.Parent = parent
		case e.Value == "":
			parent = e.Key
		default:
			parent = ""
		}
		if err := yield(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			lineNo++
			return fail("line is longer than %d bytes", maxConfigSize)
		}
		return fmt.Errorf("read config %s: %w", path, err)
	}
	return nil
}

// stripInlineComment drops " # comment" and " ; comment" after a value, as
// the AWS SDKs do: the comment character must follow whitespace.
func stripInlineComment(v string) string {
	for i := 1; i < len(v); i++ {
		if (v[i] == '#' || v[i] == ';') && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

// clip keeps messages to one readable line.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
