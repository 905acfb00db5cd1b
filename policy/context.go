package policy

import (
	"maps"
	"slices"
	"strings"
)

// Context holds the request context keys a policy's Condition element and
// policy variables read (aws:SourceIp, s3:prefix, aws:PrincipalTag/team,
// ...). Key names are case-insensitive: IAM User Guide, Condition:
// "Condition key names are not case-sensitive." Values are kept as written;
// each operator reads them as its type (a number for Numeric..., a date for
// Date..., the raw bytes for BinaryEquals).
//
// A key is single-valued (Set) or multivalued (SetMulti). The difference
// matters: IAM User Guide, Multivalued context keys: "The difference
// between single-valued and multivalued condition keys depends on the
// number of values in the request context, not the number of values in the
// policy condition."
//
// A Context is not safe for concurrent modification; once filled it may be
// read by any number of evaluations at once.
type Context struct {
	keys map[string]contextEntry
}

type contextEntry struct {
	name   string // as first set, for display
	values []string
	multi  bool
}

// NewContext returns an empty context.
func NewContext() *Context { return &Context{keys: map[string]contextEntry{}} }

// Set makes key a single-valued key with value.
func (c *Context) Set(key, value string) {
	c.put(key, contextEntry{name: key, values: []string{value}})
}

// SetMulti makes key a multivalued key (aws:TagKeys, aws:CalledVia, ...)
// holding values, which may be empty: an empty set is the "null data set"
// for which ForAllValues is true and ForAnyValue false.
func (c *Context) SetMulti(key string, values ...string) {
	c.put(key, contextEntry{name: key, values: slices.Clone(values), multi: true})
}

func (c *Context) put(key string, e contextEntry) {
	if c.keys == nil {
		c.keys = map[string]contextEntry{}
	}
	c.keys[strings.ToLower(key)] = e
}

// Delete removes key.
func (c *Context) Delete(key string) { delete(c.keys, strings.ToLower(key)) }

// Get returns key's values and whether it is present and multivalued.
func (c *Context) Get(key string) (values []string, multi, ok bool) {
	if c == nil {
		return nil, false, false
	}
	e, ok := c.keys[strings.ToLower(key)]
	return slices.Clone(e.values), e.multi, ok
}

// Keys returns the keys as first set, sorted.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	var names []string
	for _, e := range c.keys {
		names = append(names, e.name)
	}
	slices.Sort(names)
	return names
}

// Clone returns a copy that can be changed without changing c.
func (c *Context) Clone() *Context {
	n := NewContext()
	if c != nil {
		n.keys = maps.Clone(c.keys)
	}
	return n
}

// keyState is what a lookup found.
type keyState uint8

const (
	keyAbsent keyState = iota
	keySingle
	keyMulti
)

// lookup finds a lowercased key without allocating.
func (c *Context) lookup(lowerKey string) (one string, many []string, state keyState) {
	if c == nil {
		return "", nil, keyAbsent
	}
	e, ok := c.keys[lowerKey]
	switch {
	case !ok:
		return "", nil, keyAbsent
	case e.multi:
		return "", e.values, keyMulti
	default:
		return e.values[0], nil, keySingle
	}
}
