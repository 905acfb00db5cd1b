package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A pattern is one policy string compiled once at parse time: an Action, a
// Resource, or a condition value. Matching never allocates.
//
// Three flavours share the compiler:
//
//   - glob: * matches any run of characters and ? any one character
//     (Action, StringLike). IAM User Guide, Condition operators: "The values
//     can include multi-character match wildcards (*) and single-character
//     match wildcards (?) anywhere in the string."
//   - resource ARN: the same wildcards, but within the segments before the
//     fifth colon a wildcard stays inside its segment unless * is the last
//     character of the segment. IAM User Guide, Resource: "You can use
//     wildcard characters (* and ?) within the individual segments of an ARN
//     (the parts separated by colons) ... If the * wildcard is the last
//     character of a resource ARN segment, it can expand to match beyond the
//     colon boundaries."
//   - ARN condition (ArnEquals, ArnLike): "Each of the six colon-delimited
//     components of the ARN is checked separately and each can include
//     multi-character match wildcards (*) or single-character match
//     wildcards (?)", so no wildcard before the resource component crosses
//     a colon.
//
// Literal patterns (StringEquals) treat * and ? as themselves.
type pattern struct {
	toks   []token
	fold   bool // compare case-insensitively (Action, ...IgnoreCase)
	hasVar bool

	// fast paths, chosen at compile time
	kind    patternKind
	literal string
}

type patternKind uint8

const (
	patGeneral patternKind = iota
	patAny                 // a lone * that may cross colons
	patExact               // no wildcards, no variables
	patPrefix              // literal followed by one colon-crossing *
)

type tokenKind uint8

const (
	tokLiteral tokenKind = iota
	tokStar
	tokOne // ?
	tokVar // ${key} or ${key, 'default'}
)

type token struct {
	kind  tokenKind
	cross bool   // a wildcard that may match ':'
	text  string // literal text; for tokVar the lowercased key
	def   string
	hasDf bool
}

type patternFlavour uint8

const (
	flavourLiteral  patternFlavour = iota // StringEquals: no wildcards
	flavourGlob                           // Action, StringLike
	flavourResource                       // Resource, NotResource
	flavourArn                            // ArnEquals, ArnLike
)

// compilePattern compiles s. With vars false (Version 2008-10-17 or no
// Version) "${...}" is literal text: IAM User Guide, Policy variables: "If
// you don't include the Version element and set it to an appropriate version
// date, variables like ${aws:username} are treated as literal strings in the
// policy."
func compilePattern(s string, flavour patternFlavour, fold, vars bool) *pattern {
	p := &pattern{fold: fold}
	wild := flavour != flavourLiteral
	colons := 0 // literal colons seen so far: the segment we are in
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, token{kind: tokLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if vars && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			if end := strings.IndexByte(s[i+2:], '}'); end >= 0 {
				body := s[i+2 : i+2+end]
				i += 2 + end + 1
				// IAM User Guide, Policy variables, Special characters:
				// ${*}, ${?} and ${$} stand for the literal characters.
				switch body {
				case "*", "?", "$":
					lit.WriteString(body)
					continue
				}
				key, def, hasDef := splitVariable(body)
				flush()
				p.toks = append(p.toks, token{kind: tokVar, text: strings.ToLower(key), def: def, hasDf: hasDef})
				p.hasVar = true
				continue
			}
			// An unterminated "${" is literal text (and a Lint error).
		}
		if wild && (c == '*' || c == '?') {
			flush()
			t := token{kind: tokStar, cross: true}
			if c == '?' {
				t.kind = tokOne
			}
			if (flavour == flavourResource || flavour == flavourArn) && colons < 5 {
				t.cross = false
				if flavour == flavourResource && c == '*' && (i+1 == len(s) || s[i+1] == ':') {
					t.cross = true
				}
			}
			// Two stars in a row match what one matches; keep the
			// wider.
			if n := len(p.toks); t.kind == tokStar && n > 0 && p.toks[n-1].kind == tokStar {
				p.toks[n-1].cross = p.toks[n-1].cross || t.cross
			} else {
				p.toks = append(p.toks, t)
			}
			i++
			continue
		}
		if c == ':' {
			colons++
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	switch {
	case p.hasVar:
		p.kind = patGeneral
	case len(p.toks) == 0:
		p.kind, p.literal = patExact, ""
	case len(p.toks) == 1 && p.toks[0].kind == tokLiteral:
		p.kind, p.literal = patExact, p.toks[0].text
	case len(p.toks) == 1 && p.toks[0].kind == tokStar && p.toks[0].cross:
		p.kind = patAny
	case len(p.toks) == 2 && p.toks[0].kind == tokLiteral && p.toks[1].kind == tokStar && p.toks[1].cross:
		p.kind, p.literal = patPrefix, p.toks[0].text
	}
	return p
}

// splitVariable splits "key, 'default'" (IAM User Guide, Specifying default
// values: "surround the default value with single quotes (' '), and
// separate the variable text and the default value with a comma and space").
func splitVariable(body string) (key, def string, hasDef bool) {
	if i := strings.Index(body, ", '"); i >= 0 && strings.HasSuffix(body, "'") && len(body) >= i+4 {
		return strings.TrimSpace(body[:i]), body[i+3 : len(body)-1], true
	}
	return strings.TrimSpace(body), "", false
}

// resolver looks up a single-valued context key for a policy variable.
type resolver interface {
	variable(lowerKey string) (string, bool)
}

type matchResult uint8

const (
	noMatch matchResult = iota
	matched
	unresolved // a variable had no value and no default
)

// match reports whether s matches. A variable whose key is missing and has
// no default makes the pattern unresolved, which callers treat as "this
// statement does not apply": IAM User Guide, Policy variables: "If AWS
// cannot resolve a variable this might cause the entire statement to be
// invalid."
func (p *pattern) match(s string, vars resolver) matchResult {
	switch p.kind {
	case patAny:
		return matched
	case patExact:
		if p.fold {
			return boolResult(strings.EqualFold(s, p.literal))
		}
		return boolResult(s == p.literal)
	case patPrefix:
		if p.fold {
			_, ok := foldPrefix(s, p.literal)
			return boolResult(ok)
		}
		return boolResult(strings.HasPrefix(s, p.literal))
	}
	if p.hasVar {
		for i := range p.toks {
			if t := &p.toks[i]; t.kind == tokVar && !t.hasDf {
				if _, ok := vars.variable(t.text); !ok {
					return unresolved
				}
			}
		}
	}
	return boolResult(wildMatch(p.toks, s, p.fold, vars) == wmMatch)
}

func boolResult(b bool) matchResult {
	if b {
		return matched
	}
	return noMatch
}

// Results of wildMatch, after git's and rsync's wildmatch: a star that may
// cross ':' (like wildmatch's "**") keeps looking when a later segment-bound
// star gives up, a segment-bound star passes that up, and a failure at a
// colon-crossing star ends the whole match, since moving earlier stars can
// only start it later, on a shorter tail.
const (
	wmNoMatch = iota
	wmMatch
	wmAbortAll
	wmAbortToCross
)

func wildMatch(toks []token, s string, fold bool, vars resolver) int {
	for ti := 0; ti < len(toks); ti++ {
		t := &toks[ti]
		switch t.kind {
		case tokLiteral, tokVar:
			lit := t.text
			if t.kind == tokVar {
				v, ok := vars.variable(t.text)
				if !ok {
					v = t.def
				}
				lit = v
			}
			if fold {
				n, ok := foldPrefix(s, lit)
				if !ok {
					return wmNoMatch
				}
				s = s[n:]
			} else {
				if !strings.HasPrefix(s, lit) {
					return wmNoMatch
				}
				s = s[len(lit):]
			}
		case tokOne:
			if s == "" {
				return wmNoMatch
			}
			r, size := decodeRune(s)
			if r == ':' && !t.cross {
				return wmNoMatch
			}
			s = s[size:]
		case tokStar:
			if ti == len(toks)-1 {
				if t.cross || strings.IndexByte(s, ':') < 0 {
					return wmMatch
				}
				return wmNoMatch
			}
			for {
				r := wildMatch(toks[ti+1:], s, fold, vars)
				if r != wmNoMatch && (r != wmAbortToCross || !t.cross) {
					return r
				}
				if s == "" {
					break
				}
				c, size := decodeRune(s)
				if c == ':' && !t.cross {
					return wmAbortToCross
				}
				s = s[size:]
			}
			return wmAbortAll
		}
	}
	if s == "" {
		return wmMatch
	}
	return wmNoMatch
}

func decodeRune(s string) (rune, int) {
	if s[0] < utf8.RuneSelf {
		return rune(s[0]), 1
	}
	return utf8.DecodeRuneInString(s)
}

// foldPrefix reports whether s starts with prefix under Unicode simple case
// folding (what strings.EqualFold uses) and how many bytes of s that
// prefix spans, which can differ from len(prefix).
func foldPrefix(s, prefix string) (int, bool) {
	i := 0
	for j := 0; j < len(prefix); {
		if i >= len(s) {
			return 0, false
		}
		a, b := s[i], prefix[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i++
			j++
			continue
		}
		ra, na := utf8.DecodeRuneInString(s[i:])
		rb, nb := utf8.DecodeRuneInString(prefix[j:])
		if !equalFoldRune(ra, rb) {
			return 0, false
		}
		i += na
		j += nb
	}
	return i, true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
