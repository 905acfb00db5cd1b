//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// json is a command of the sandbox scenarios (testdata/sandbox: whoami,
// decode, clear, completion, --output json, --debug).
func init() {
	addCmds(sandboxCmds, map[string]func(*testscript.TestScript, bool, []string){"json": cmdJSON})
}

// json FILE PATH REGEXP: FILE (stdout, stderr, or a file of the script)
// is exactly one JSON document, and the value at PATH (.key, [n], or
// both, e.g. .profiles[0].profile; "." for the whole document) is a
// string, number or bool whose text matches REGEXP. "! json" passes when
// the value is absent or does not match; either way the document must
// parse.
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: json FILE PATH REGEXP")
	}
	data := ts.ReadFile(args[0]) // stdout, stderr, or a file
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		ts.Fatalf("%s is not JSON: %v", args[0], err)
	}
	if _, err := dec.Token(); err != io.EOF {
		ts.Fatalf("%s holds more than one JSON document", args[0])
	}
	re, err := regexp.Compile(args[2])
	ts.Check(err)
	v, found := jsonAt(doc, args[1])
	text := ""
	switch x := v.(type) {
	case string:
		text = x
	case json.Number:
		text = x.String()
	case bool:
		text = strconv.FormatBool(x)
	case nil:
		text = "null"
	default:
		var b bytes.Buffer
		_ = json.NewEncoder(&b).Encode(x)
		text = strings.TrimSpace(b.String())
	}
	if ok := found && re.MatchString(text); ok == neg {
		ts.Fatalf("%s %s = %q (found: %v); want it %s match %s", args[0], args[1], text, found, map[bool]string{true: "not to", false: "to"}[neg], args[2])
	}
}

var jsonStep = regexp.MustCompile(`^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\])`)

// jsonAt is the value at path in doc.
func jsonAt(doc any, path string) (any, bool) {
	if path == "." {
		return doc, true
	}
	for path != "" {
		m := jsonStep.FindStringSubmatch(path)
		if m == nil {
			return nil, false
		}
		path = path[len(m[0]):]
		if m[1] != "" {
			obj, ok := doc.(map[string]any)
			if !ok {
				return nil, false
			}
			if doc, ok = obj[m[1]]; !ok {
				return nil, false
			}
			continue
		}
		arr, ok := doc.([]any)
		i, _ := strconv.Atoi(m[2])
		if !ok || i >= len(arr) {
			return nil, false
		}
		doc = arr[i]
	}
	return doc, true
}
