package policy

import (
	"net/netip"
	"strings"
	"time"
)

// decimal is a number as written, compared exactly: no float rounding can
// make NumericEquals true for two different numbers.
type decimal struct {
	neg       bool
	int, frac string // no leading zeros in int, no trailing zeros in frac
}

// parseDecimal reads [+-]digits[.digits] without allocating.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s == "" {
		return d, false
	}
	switch s[0] {
	case '-':
		d.neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	intPart, fracPart, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (fracPart == "" || !allDigits(fracPart))) {
		return decimal{}, false
	}
	d.int = strings.TrimLeft(intPart, "0")
	d.frac = strings.TrimRight(fracPart, "0")
	if d.int == "" && d.frac == "" {
		d.neg = false // -0 is 0
	}
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareDecimal returns -1, 0 or +1.
func compareDecimal(a, b decimal) int {
	if a.neg != b.neg {
		if a.neg {
			return -1
		}
		return 1
	}
	c := compareMagnitude(a, b)
	if a.neg {
		return -c
	}
	return c
}

func compareMagnitude(a, b decimal) int {
	if len(a.int) != len(b.int) {
		if len(a.int) < len(b.int) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.int, b.int); c != 0 {
		return c
	}
	// Without trailing zeros, fraction digits compare as strings.
	return strings.Compare(a.frac, b.frac)
}

// instant is a point in time as seconds and nanoseconds since the Unix
// epoch, parsed without allocating.
type instant struct {
	sec  int64
	nsec int32
}

func compareInstant(a, b instant) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nsec < b.nsec:
		return -1
	case a.nsec > b.nsec:
		return 1
	}
	return 0
}

// parseDate reads the date formats the Date operators accept. IAM User
// Guide, Date condition operators: "You must specify date/time values with
// one of the W3C implementations of the ISO 8601 date formats or in epoch
// (UNIX) time." The W3C profile is YYYY, YYYY-MM, YYYY-MM-DD,
// YYYY-MM-DDThh:mmTZD, YYYY-MM-DDThh:mm:ssTZD and YYYY-MM-DDThh:mm:ss.sTZD,
// where TZD is Z or +hh:mm/-hh:mm; a missing TZD is read as UTC. A bare
// four-digit number is the year (W3C's YYYY); any other run of digits is
// epoch seconds.
func parseDate(s string) (instant, bool) {
	if s == "" {
		return instant{}, false
	}
	if allDigits(s) && len(s) != 4 || (s[0] == '-' && len(s) > 1 && allDigits(s[1:])) {
		neg := s[0] == '-'
		if neg {
			s = s[1:]
		}
		if len(s) > 18 {
			return instant{}, false
		}
		var n int64
		for i := 0; i < len(s); i++ {
			n = n*10 + int64(s[i]-'0')
		}
		if neg {
			n = -n
		}
		return instant{sec: n}, true
	}
	num := func(t string) (int, bool) {
		if t == "" || !allDigits(t) {
			return 0, false
		}
		n := 0
		for i := 0; i < len(t); i++ {
			n = n*10 + int(t[i]-'0')
		}
		return n, true
	}
	if len(s) < 4 {
		return instant{}, false
	}
	year, ok := num(s[:4])
	if !ok {
		return instant{}, false
	}
	month, day := 1, 1
	rest := s[4:]
	if rest != "" {
		if len(rest) < 3 || rest[0] != '-' {
			return instant{}, false
		}
		if month, ok = num(rest[1:3]); !ok || month < 1 || month > 12 {
			return instant{}, false
		}
		rest = rest[3:]
	}
	if rest != "" {
		if len(rest) < 3 || rest[0] != '-' {
			return instant{}, false
		}
		if day, ok = num(rest[1:3]); !ok || day < 1 || day > daysIn(month, year) {
			return instant{}, false
		}
		rest = rest[3:]
	}
	var hour, minute, second, nsec int
	offset := 0
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' || len(rest) < 6 || rest[3] != ':' {
			return instant{}, false
		}
		if hour, ok = num(rest[1:3]); !ok || hour > 23 {
			return instant{}, false
		}
		if minute, ok = num(rest[4:6]); !ok || minute > 59 {
			return instant{}, false
		}
		rest = rest[6:]
		if rest != "" && rest[0] == ':' {
			if len(rest) < 3 {
				return instant{}, false
			}
			if second, ok = num(rest[1:3]); !ok || second > 59 {
				return instant{}, false
			}
			rest = rest[3:]
			if rest != "" && rest[0] == '.' {
				i := 1
				scale := 100000000
				for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
					nsec += int(rest[i]-'0') * scale
					scale /= 10
					i++
				}
				if i == 1 {
					return instant{}, false
				}
				rest = rest[i:]
			}
		}
		switch {
		case rest == "" || rest == "Z" || rest == "z":
		case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
			h, ok1 := num(rest[1:3])
			m, ok2 := num(rest[4:6])
			if !ok1 || !ok2 || h > 23 || m > 59 {
				return instant{}, false
			}
			offset = h*3600 + m*60
			if rest[0] == '-' {
				offset = -offset
			}
		default:
			return instant{}, false
		}
	} else if len(s) > 10 {
		return instant{}, false
	}
	sec := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC).Unix() - int64(offset)
	return instant{sec: sec, nsec: int32(nsec)}, true
}

// daysIn is the number of days of a month.
func daysIn(month, year int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseBool reads "true" or "false" in any case.
func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseCIDR reads an address or a CIDR block. IAM User Guide, IP address
// condition operators: "If you specify an IP address without the associated
// routing prefix, IAM uses the default prefix value of /32" (and /128 for
// IPv6).
func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

func prefixContains(p netip.Prefix, s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return p.Contains(a)
}
