package sandbox

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// byteFlip is one byte of a signed request to change: at offset at, to to;
// want is the code AWS answers the changed request with.
type byteFlip struct {
	part string
	at   int
	to   byte
	want string
}

// next is c changed to another character of its kind (a digit to the
// next digit, a letter to the next letter of its case), so that the
// request still parses and only the signed content differs.
func next(c byte) byte {
	switch {
	case c >= '0' && c <= '8', c >= 'a' && c <= 'y', c >= 'A' && c <= 'Y':
		return c + 1
	case c == '9':
		return '0'
	case c == 'z':
		return 'a'
	case c == 'Z':
		return 'A'
	}
	return 0
}

// lastAlnum is the offset of the last letter or digit in raw[from:to], or -1.
func lastAlnum(raw []byte, from, to int) int {
	for i := to - 1; i >= from; i-- {
		if next(raw[i]) != 0 {
			return i
		}
	}
	return -1
}

func firstAlnum(raw []byte, from, to int) int {
	for i := from; i < to; i++ {
		if next(raw[i]) != 0 {
			return i
		}
	}
	return -1
}

// span is where a value sits in the request.
type span struct{ from, to int }

// flipsOf lists a change for every signed part of raw, a request signed
// in its Authorization header or in its query (presigned).
func flipsOf(t *testing.T, raw []byte) []byteFlip {
	t.Helper()
	headEnd := bytes.Index(raw, []byte("\r\n\r\n"))
	if headEnd < 0 {
		t.Fatal("no end of the request's head")
	}
	var flips []byteFlip
	add := func(part string, at int, want string) {
		t.Helper()
		if at < 0 {
			t.Fatalf("%s: no letter or digit to change", part)
		}
		flips = append(flips, byteFlip{part: part, at: at, to: next(raw[at]), want: want})
	}
	const mismatch, invalidToken = "SignatureDoesNotMatch", "InvalidClientTokenId"

	// Request line: METHOD TARGET HTTP/1.1.
	lineEnd := bytes.Index(raw, []byte("\r\n"))
	sp1 := bytes.IndexByte(raw, ' ')
	sp2 := sp1 + 1 + bytes.IndexByte(raw[sp1+1:lineEnd], ' ')
	add("method", 0, mismatch)
	pathEnd := sp2
	if q := bytes.IndexByte(raw[sp1:sp2], '?'); q >= 0 {
		pathEnd = sp1 + q
	}
	add("path", firstAlnum(raw, sp1+1, pathEnd), mismatch)

	// Headers, by lowercase name.
	headers := map[string]span{}
	for off := lineEnd + 2; off < headEnd; {
		end := off + bytes.Index(raw[off:headEnd+2], []byte("\r\n"))
		name, _, _ := bytes.Cut(raw[off:end], []byte(":"))
		from := off + len(name) + 1
		for from < end && raw[from] == ' ' {
			from++
		}
		headers[strings.ToLower(string(name))] = span{from, end}
		off = end + 2
	}

	// Where the signature's fields are: the Authorization header, or the
	// query of a presigned URL.
	var credential, signedHeaders, signature, date span
	if auth, ok := headers["authorization"]; ok {
		field := func(name string) span {
			i := bytes.Index(raw[auth.from:auth.to], []byte(name+"="))
			if i < 0 {
				t.Fatalf("no %s in the Authorization header", name)
			}
			from := auth.from + i + len(name) + 1
			end := from + bytes.IndexAny(raw[from:auth.to], ", ")
			if end < from {
				end = auth.to
			}
			return span{from, end}
		}
		credential, signedHeaders, signature = field("Credential"), field("SignedHeaders"), field("Signature")
		date = headers["x-amz-date"]
		add("date (X-Amz-Date)", date.to-2, mismatch)
	} else {
		param := func(name string) span {
			i := bytes.Index(raw[sp1:sp2], []byte(name+"="))
			if i < 0 {
				t.Fatalf("no %s in the query", name)
			}
			from := sp1 + i + len(name) + 1
			end := from + bytes.IndexByte(raw[from:sp2], '&')
			if end < from {
				end = sp2
			}
			return span{from, end}
		}
		credential, signedHeaders, signature, date = param("X-Amz-Credential"), param("X-Amz-SignedHeaders"), param("X-Amz-Signature"), param("X-Amz-Date")
		add("date (X-Amz-Date in the query)", date.to-2, mismatch)
		action := param("Action")
		add("query (Action)", firstAlnum(raw, action.from, action.to), mismatch)
		version := param("Version")
		add("query (Version)", lastAlnum(raw, version.from, version.to), mismatch)
	}
	// The credential: KEY/DATE/REGION/SERVICE/aws4_request, its slashes
	// escaped (%2F) in a query.
	cred := string(raw[credential.from:credential.to])
	sep := "/"
	if strings.Contains(cred, "%2F") {
		sep = "%2F"
	}
	fields := strings.Split(cred, sep)
	if len(fields) != 5 {
		t.Fatalf("credential %q has %d fields", cred, len(fields))
	}
	off := credential.from
	for i, part := range []string{"key-id", "scope-date", "scope-region", "scope-service", "scope-terminator"} {
		end := off + len(fields[i])
		want := mismatch
		if part == "key-id" {
			want = invalidToken
		}
		add(part, lastAlnum(raw, off, end), want)
		off = end + len(sep)
	}
	add("signed-headers", firstAlnum(raw, signedHeaders.from, signedHeaders.to), mismatch)
	add("signature", signature.to-1, mismatch)

	// Each signed header's value.
	list := string(raw[signedHeaders.from:signedHeaders.to])
	list = strings.ReplaceAll(list, "%3B", ";")
	for _, name := range strings.Split(list, ";") {
		h, ok := headers[name]
		if !ok {
			t.Fatalf("signed header %s is not in the request", name)
		}
		switch name {
		case "x-amz-date":
			// changed above, as the date
		case "x-amz-security-token":
			add("header x-amz-security-token", firstAlnum(raw, (h.from+h.to)/2, h.to), invalidToken)
		case "content-length":
			// One byte less is a shorter body; one more would leave the
			// sandbox waiting for a byte that never comes.
			n, err := strconv.Atoi(string(raw[h.from:h.to]))
			if err != nil || n < 10 || raw[h.to-1] == '0' {
				add("header content-length", -1, mismatch)
			}
			flips = append(flips, byteFlip{part: "header content-length", at: h.to - 1, to: raw[h.to-1] - 1, want: mismatch})
		default:
			part := "header " + name
			if name == "host" {
				part = "host"
			}
			add(part, lastAlnum(raw, h.from, h.to), mismatch)
		}
	}
	if body := raw[headEnd+4:]; len(body) > 0 {
		i := bytes.Index(body, []byte("Action="))
		if i < 0 {
			t.Fatalf("no Action in the body %q", body)
		}
		add("body (Action)", headEnd+4+i+len("Action="), mismatch)
		add("body (last byte)", lastAlnum(raw, headEnd+4, len(raw)), mismatch)
	}
	return flips
}
