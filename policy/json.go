package policy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Position is a place in a policy document: 1-based line and column
// (the column counts bytes, as Go's own tools do).
type Position struct {
	Line, Col int
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// jsonKind is the type of a JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// jsonValue is a parsed JSON value that remembers where it was written,
// which encoding/json does not, so every policy error can name its line.
type jsonValue struct {
	kind jsonKind
	pos  Position
	str  string // string value, number text, or "true"/"false"
	arr  []*jsonValue
	obj  []jsonMember // in document order
}

type jsonMember struct {
	key    string
	keyPos Position
	val    *jsonValue
}

// member returns the value of key, or nil.
func (v *jsonValue) member(key string) *jsonValue {
	for i := range v.obj {
		if v.obj[i].key == key {
			return v.obj[i].val
		}
	}
	return nil
}

// jsonSyntaxError is malformed JSON at a position.
type jsonSyntaxError struct {
	pos Position
	msg string
}

func (e *jsonSyntaxError) Error() string { return e.pos.String() + ": " + e.msg }

// maxJSONDepth bounds nesting: a policy is at most four levels deep
// (policy, Statement, Condition, operator, key, values), so anything far
// deeper is garbage, and the bound keeps the recursive reader off the stack
// limit.
const maxJSONDepth = 64

type jsonReader struct {
	data      []byte
	off       int
	line      int
	lineStart int
}

// parseJSON reads one JSON document. Duplicate keys in an object are an
// error: IAM's grammar says an element must not contain the same key twice,
// and a decoder that silently keeps the last one hides a policy's meaning.
func parseJSON(data []byte) (*jsonValue, error) {
	r := &jsonReader{data: data, line: 1}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		r.off = 3 // a UTF-8 byte order mark, as some editors write
		r.lineStart = 3
	}
	r.skipSpace()
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	r.skipSpace()
	if r.off < len(r.data) {
		return nil, r.errorf("unexpected %s after the end of the policy", r.describeNext())
	}
	return v, nil
}

func (r *jsonReader) pos() Position { return Position{r.line, r.off - r.lineStart + 1} }

func (r *jsonReader) errorf(format string, args ...any) error {
	return &jsonSyntaxError{pos: r.pos(), msg: fmt.Sprintf(format, args...)}
}

func (r *jsonReader) describeNext() string {
	if r.off >= len(r.data) {
		return "end of file"
	}
	c, _ := utf8.DecodeRune(r.data[r.off:])
	if c == utf8.RuneError {
		return fmt.Sprintf("byte %#02x", r.data[r.off])
	}
	return strconv.QuoteRune(c)
}

func (r *jsonReader) skipSpace() {
	for r.off < len(r.data) {
		switch r.data[r.off] {
		case '\n':
			r.off++
			r.line++
			r.lineStart = r.off
		case ' ', '\t', '\r':
			r.off++
		default:
			return
		}
	}
}

func (r *jsonReader) value(depth int) (*jsonValue, error) {
	if depth > maxJSONDepth {
		return nil, r.errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	if r.off >= len(r.data) {
		return nil, r.errorf("unexpected end of file, expected a value")
	}
	start := r.pos()
	switch c := r.data[r.off]; {
	case c == '{':
		return r.object(depth)
	case c == '[':
		return r.array(depth)
	case c == '"':
		s, err := r.string()
		if err != nil {
			return nil, err
		}
		return &jsonValue{kind: jsonString, pos: start, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		s, err := r.number()
		if err != nil {
			return nil, err
		}
		return &jsonValue{kind: jsonNumber, pos: start, str: s}, nil
	case r.literal("true"):
		return &jsonValue{kind: jsonBool, pos: start, str: "true"}, nil
	case r.literal("false"):
		return &jsonValue{kind: jsonBool, pos: start, str: "false"}, nil
	case r.literal("null"):
		return &jsonValue{kind: jsonNull, pos: start}, nil
	default:
		return nil, r.errorf("unexpected %s, expected a value", r.describeNext())
	}
}

func (r *jsonReader) literal(word string) bool {
	if !strings.HasPrefix(string(r.data[r.off:min(len(r.data), r.off+len(word))]), word) {
		return false
	}
	end := r.off + len(word)
	if end < len(r.data) && isIdentByte(r.data[end]) {
		return false
	}
	r.off = end
	return true
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (r *jsonReader) object(depth int) (*jsonValue, error) {
	v := &jsonValue{kind: jsonObject, pos: r.pos()}
	r.off++ // {
	r.skipSpace()
	if r.off < len(r.data) && r.data[r.off] == '}' {
		r.off++
		return v, nil
	}
	for {
		if r.off >= len(r.data) || r.data[r.off] != '"' {
			return nil, r.errorf("unexpected %s, expected a string key", r.describeNext())
		}
		keyPos := r.pos()
		key, err := r.string()
		if err != nil {
			return nil, err
		}
		for _, m := range v.obj {
			if m.key == key {
				return nil, &jsonSyntaxError{pos: keyPos, msg: fmt.Sprintf("duplicate key %q (first at %s)", key, m.keyPos)}
			}
		}
		r.skipSpace()
		if r.off >= len(r.data) || r.data[r.off] != ':' {
			return nil, r.errorf("unexpected %s, expected ':' after key %q", r.describeNext(), key)
		}
		r.off++
		r.skipSpace()
		val, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.obj = append(v.obj, jsonMember{key: key, keyPos: keyPos, val: val})
		done, err := r.separator('}')
		if err != nil {
			return nil, err
		}
		if done {
			return v, nil
		}
	}
}

func (r *jsonReader) array(depth int) (*jsonValue, error) {
	v := &jsonValue{kind: jsonArray, pos: r.pos()}
	r.off++ // [
	r.skipSpace()
	if r.off < len(r.data) && r.data[r.off] == ']' {
		r.off++
		return v, nil
	}
	for {
		val, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.arr = append(v.arr, val)
		done, err := r.separator(']')
		if err != nil {
			return nil, err
		}
		if done {
			return v, nil
		}
	}
}

// separator reads what follows an element of an object or array: a ',' (more
// elements follow) or the closing byte (done).
func (r *jsonReader) separator(closing byte) (done bool, err error) {
	r.skipSpace()
	if r.off >= len(r.data) {
		return false, r.errorf("unexpected end of file, expected ',' or '%c'", closing)
	}
	switch r.data[r.off] {
	case ',':
		r.off++
		r.skipSpace()
		return false, nil
	case closing:
		r.off++
		return true, nil
	}
	return false, r.errorf("unexpected %s, expected ',' or '%c'", r.describeNext(), closing)
}

func (r *jsonReader) number() (string, error) {
	start := r.off
	if r.data[r.off] == '-' {
		r.off++
	}
	digits := func() int {
		n := 0
		for r.off < len(r.data) && r.data[r.off] >= '0' && r.data[r.off] <= '9' {
			r.off++
			n++
		}
		return n
	}
	switch {
	case r.off < len(r.data) && r.data[r.off] == '0':
		r.off++
	case digits() == 0:
		return "", r.errorf("malformed number")
	}
	if r.off < len(r.data) && r.data[r.off] == '.' {
		r.off++
		if digits() == 0 {
			return "", r.errorf("malformed number: no digits after '.'")
		}
	}
	if r.off < len(r.data) && (r.data[r.off] == 'e' || r.data[r.off] == 'E') {
		r.off++
		if r.off < len(r.data) && (r.data[r.off] == '+' || r.data[r.off] == '-') {
			r.off++
		}
		if digits() == 0 {
			return "", r.errorf("malformed number: no digits in exponent")
		}
	}
	if r.off < len(r.data) && isIdentByte(r.data[r.off]) {
		return "", r.errorf("malformed number")
	}
	return string(r.data[start:r.off]), nil
}

// jsonEscapes maps the byte after a backslash to the byte it stands for
// (zero: not a one-byte escape).
var jsonEscapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// string reads a JSON string; the document must be UTF-8.
func (r *jsonReader) string() (string, error) {
	r.off++ // opening quote
	start := r.off
	// Fast path: no escapes.
	for r.off < len(r.data) {
		c := r.data[r.off]
		if c == '"' {
			s := r.data[start:r.off]
			r.off++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		r.off++
	}
	var b strings.Builder
	b.Write(r.data[start:r.off])
	for {
		if r.off >= len(r.data) {
			return "", r.errorf("unterminated string")
		}
		c := r.data[r.off]
		switch {
		case c == '"':
			r.off++
			return b.String(), nil
		case c < 0x20:
			return "", r.errorf("control character %#02x in string (escape it)", c)
		case c == '\\':
			if r.off+1 >= len(r.data) {
				return "", r.errorf("unterminated string")
			}
			esc := r.data[r.off+1]
			switch {
			case jsonEscapes[esc] != 0:
				b.WriteByte(jsonEscapes[esc])
				r.off += 2
			case esc == 'u':
				rn, ok := r.hex4(r.off + 2)
				if !ok {
					return "", r.errorf(`malformed \u escape`)
				}
				r.off += 6
				if utf16.IsSurrogate(rn) {
					if lo, ok := r.hex4(r.off + 2); ok && r.off+1 < len(r.data) && r.data[r.off] == '\\' && r.data[r.off+1] == 'u' {
						if dec := utf16.DecodeRune(rn, lo); dec != utf8.RuneError {
							r.off += 6
							rn = dec
						} else {
							rn = utf8.RuneError
						}
					} else {
						rn = utf8.RuneError
					}
				}
				b.WriteRune(rn)
			default:
				return "", r.errorf("invalid escape \\%c in string", esc)
			}
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			r.off++
		default:
			rn, size := utf8.DecodeRune(r.data[r.off:])
			if rn == utf8.RuneError && size == 1 {
				return "", r.errorf("invalid UTF-8 in string")
			}
			b.WriteRune(rn)
			r.off += size
		}
	}
}

func (r *jsonReader) hex4(at int) (rune, bool) {
	if at+4 > len(r.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(r.data[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
