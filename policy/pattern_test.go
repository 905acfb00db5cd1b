package policy

import (
	"regexp"
	"strings"
	"testing"
)

// referenceGlob is the obvious, slow definition of StringLike: * is .*, ?
// is one character, everything else literal.
func referenceGlob(pattern, s string, fold bool) bool {
	var b strings.Builder
	b.WriteString(`^`)
	if fold {
		b.WriteString(`(?i)`)
	}
	b.WriteString(`(?s)`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String()).MatchString(s)
}

// referenceSegments is the slow definition of the resource and ARN
// flavours: split pattern and value into the five segments before the
// resource part; a * that ends a segment (Resource only) may instead take
// the rest of the value.
func referenceResource(pattern, value string, resource bool) bool {
	var b strings.Builder
	b.WriteString(`^(?s)`)
	colons := 0
	rs := []rune(pattern)
	for i, r := range rs {
		switch {
		case r == ':':
			colons++
			b.WriteString(`:`)
		case r == '*' && colons >= 5:
			b.WriteString(`.*`)
		case r == '*' && resource && (i+1 == len(rs) || rs[i+1] == ':'):
			b.WriteString(`.*`)
		case r == '*':
			b.WriteString(`[^:]*`)
		case r == '?' && colons >= 5:
			b.WriteString(`.`)
		case r == '?':
			b.WriteString(`[^:]`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String()).MatchString(value)
}

var patternCases = []struct{ pattern, value string }{
	{"*", ""}, {"*", "abc"}, {"a*", "a"}, {"a*", "ba"}, {"*a", "bba"}, {"*a*", "xyz"}, {"?", ""}, {"?", "é"},
	{"a?c", "abc"}, {"a?c", "ac"}, {"*b*b*", "abxbz"}, {"*b*b*", "abxyz"}, {"**", "x"}, {"a**b", "a:b"},
	{"s3:Get*", "s3:GetObject"}, {"S3:GET*", "s3:getobject"}, {"*:*", "s3:x"}, {"iam:*AccessKey*", "iam:UpdateAccessKey"},
	{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b"}, {"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"},
	{"arn:aws:s3:*", "arn:aws:s3:::bucket/key"}, {"arn:aws:*:us-east-1:*:*", "arn:aws:ec2:us-east-1:1:instance/i"},
	{"arn:aws:sqs:us-*2:1:q", "arn:aws:sqs:us-east-2:1:q"}, {"arn:aws:sqs:us-*2:1:q", "arn:aws:sqs:us-east-1:1:x2:1:q"},
	{"arn:aws:sqs:us-?ast-2:1:q", "arn:aws:sqs:us-east-2:1:q"}, {"arn:aws:s??:::b", "arn:aws:s3x:::b"},
	{"arn:aws:logs:*:*:log-group:g:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s"},
	{"arn:aws:*:*:*:a*b", "arn:aws:x:y:z:a:q:b"}, {"arn:?ws:s3:::*", "arn:aws:s3:::b"}, {"arn:a*s:s3:::b", "arn:a:x:s:s3:::b"},
	{"arn:aws:iam::*:role/x", "arn:aws:iam::1:y:2:role/x"}, {"arn:aws:iam::1*:role/x", "arn:aws:iam::12:role/x"},
}

func TestGlobAgainstReference(t *testing.T) {
	for _, c := range patternCases {
		for _, fold := range []bool{false, true} {
			p := compilePattern(c.pattern, flavourGlob, fold, false)
			got := p.match(c.value, nil) == matched
			if want := referenceGlob(c.pattern, c.value, fold); got != want {
				t.Errorf("glob %q ~ %q (fold %v) = %v, want %v", c.pattern, c.value, fold, got, want)
			}
		}
	}
}

func TestResourceAndArnAgainstReference(t *testing.T) {
	for _, c := range patternCases {
		for _, resource := range []bool{true, false} {
			flavour := flavourArn
			if resource {
				flavour = flavourResource
			}
			got := compilePattern(c.pattern, flavour, false, false).match(c.value, nil) == matched
			if want := referenceResource(c.pattern, c.value, resource); got != want {
				t.Errorf("resource=%v %q ~ %q = %v, want %v", resource, c.pattern, c.value, got, want)
			}
		}
	}
}

func TestLiteralPatterns(t *testing.T) {
	for _, c := range []struct {
		pattern, value string
		fold, want     bool
	}{
		{"a*", "a*", false, true},
		{"a*", "ab", false, false},
		{"a?", "a?", false, true},
		{"JohnDoe", "johndoe", true, true},
		{"JohnDoe", "johndoe", false, false},
		{"straße", "STRASSE", true, false}, // simple folding, as strings.EqualFold
		{"ǅ", "ǆ", true, true},
	} {
		if got := compilePattern(c.pattern, flavourLiteral, c.fold, false).match(c.value, nil) == matched; got != c.want {
			t.Errorf("%q == %q (fold %v) = %v, want %v", c.pattern, c.value, c.fold, got, c.want)
		}
	}
}

type fakeVars map[string]string

func (f fakeVars) variable(k string) (string, bool) { v, ok := f[k]; return v, ok }

func TestVariablePatterns(t *testing.T) {
	vars := fakeVars{"aws:username": "alice", "aws:principaltag/team": "a*b"}
	for _, c := range []struct {
		pattern, value string
		want           matchResult
	}{
		{"home/${aws:username}/*", "home/alice/x", matched},
		{"home/${aws:username}/*", "home/bob/x", noMatch},
		{"home/${AWS:USERNAME}/*", "home/alice/x", matched},
		{"t/${aws:PrincipalTag/team}", "t/a*b", matched},
		{"t/${aws:PrincipalTag/team}", "t/axxb", noMatch},
		{"t/${aws:PrincipalTag/missing}", "t/", unresolved},
		{"t/${aws:PrincipalTag/missing, 'none'}", "t/none", matched},
		{"t/${aws:PrincipalTag/missing, ''}", "t/", matched},
		{"${*}${?}${$}", "*?$", matched},
		{"a${b", "a${b", matched},
		{"${aws:username}*", "alice-x", matched},
	} {
		p := compilePattern(c.pattern, flavourGlob, false, true)
		if got := p.match(c.value, vars); got != c.want {
			t.Errorf("%q ~ %q = %v, want %v", c.pattern, c.value, got, c.want)
		}
	}
}

func TestDecimalAndDate(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"10", "10.0", 0}, {"-0", "0", 0}, {"0.1", "0.10", 0}, {"9", "10", -1}, {"-9", "-10", 1}, {"1.05", "1.5", -1},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1}, {"+3", "3", 0},
	} {
		a, okA := parseDecimal(c.a)
		b, okB := parseDecimal(c.b)
		if !okA || !okB || compareDecimal(a, b) != c.want {
			t.Errorf("compare(%s, %s) = %d (%v %v), want %d", c.a, c.b, compareDecimal(a, b), okA, okB, c.want)
		}
	}
	for _, bad := range []string{"", "1e3", "1.", ".5", "--1", "0x10", "1,000"} {
		if _, ok := parseDecimal(bad); ok {
			t.Errorf("parseDecimal(%q) accepted", bad)
		}
	}
	for _, c := range []struct {
		in   string
		unix int64
	}{
		{"1970", 0}, {"2020", 1577836800}, {"2020-01", 1577836800}, {"2020-01-01", 1577836800},
		{"2020-01-01T00:00Z", 1577836800}, {"2020-01-01T00:00:00Z", 1577836800}, {"2020-01-01T05:30:00+05:30", 1577836800},
		{"2019-12-31T19:00:00-05:00", 1577836800}, {"1577836800", 1577836800}, {"2024-02-29T12:00:00Z", 1709208000},
	} {
		got, ok := parseDate(c.in)
		if !ok || got.sec != c.unix {
			t.Errorf("parseDate(%q) = %d, %v, want %d", c.in, got.sec, ok, c.unix)
		}
	}
	for _, bad := range []string{"", "2020-13-01", "2023-02-29", "2020-01-01T25:00Z", "2020-01-01 00:00:00", "2020-01-01T00:00:00+0100", "yesterday"} {
		if _, ok := parseDate(bad); ok {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
}
