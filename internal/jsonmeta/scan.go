package jsonmeta

import (
	"strconv"
)

// kind is what a member's value turned out to be, as far as the edit cares.
type kind uint8

const (
	absent kind = iota
	null
	object
	other // any other JSON value; for a _meta key, anything but a string
	str
)

// span is a range [start, end) of the message.
type span struct{ start, end int }

// hit is where a wanted key's value is: the last occurrence that the SDK's
// merge of the _meta members would keep.
type hit struct {
	kind  kind
	v     span // the value; for a string, its content without the quotes
	plain bool // a string with no escapes and only ASCII bytes
	meta  int  // which _meta member of the params it was found in (1-based)

	replaced bool // Set replaces this value in place
}

// shape is what the parser learned of the message, the positions an edit
// needs in particular.
type shape struct {
	layout
	hits []hit // one per wanted key
}

// layout is a shape without its hits: what a Doc keeps of it (a Doc
// holding a slice of its own array would be moved to the heap).
type layout struct {
	topObject  bool
	topClose   int // index of the message's closing '}'
	topMembers bool

	params        kind // of the last "params" member
	paramsV       span
	paramsMembers bool

	meta        kind // of the last "_meta" member of that params
	metaV       span
	metaMembers bool
	metaN       int  // "_meta" members seen in that params
	metaBad     bool // one of them is neither an object nor null
}

// Object nesting the parser treats specially; anything deeper, or off the
// params._meta path, goes through skipValue.
const (
	levelTop = iota
	levelParams
	levelMeta
)

// parser is a single-pass JSON validator that records the shape of the
// members on the path message → params → _meta. It never recurses deeper
// than those three objects, so a deeply nested value costs no stack.
type parser struct {
	b    []byte
	i    int
	keys []string // wanted keys of _meta; see keyAt
	kvs  []KV     // or these keys, to spare Set a []string
	s    shape

	depth int // objects open on the params._meta path
}

// maxDepth is the deepest nesting encoding/json accepts; the parser agrees
// with it so that what it calls valid, every Go decoder does. (The SDK
// itself stops at 1000.)
const maxDepth = 10000

func (p *parser) nkeys() int {
	if p.kvs != nil {
		return len(p.kvs)
	}
	return len(p.keys)
}

func (p *parser) keyAt(j int) string {
	if p.kvs != nil {
		return p.kvs[j].Key
	}
	return p.keys[j]
}

// SyntaxError reports invalid JSON and where the parser noticed it.
type SyntaxError struct {
	Offset int // byte offset in the message
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "jsonmeta: invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Is makes errors.Is(err, ErrSyntax) true for every *SyntaxError.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

func (p *parser) fail(msg string) error {
	if p.i >= len(p.b) {
		return &SyntaxError{Offset: len(p.b), Msg: "unexpected end of input, " + msg}
	}
	return &SyntaxError{Offset: p.i, Msg: msg + ", found " + strconv.QuoteRune(rune(p.b[p.i]))}
}

// parse checks the whole message and fills p.s.
func (p *parser) parse() error {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '{' {
		p.s.topObject = true
		if err := p.object(levelTop); err != nil {
			return err
		}
	} else if err := p.skipValue(); err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.b) {
		return p.fail("expected end of input")
	}
	return nil
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object parses the object whose '{' is at p.i, dispatching the values of
// the members that matter at this level.
func (p *parser) object(level int) error {
	p.depth++
	defer func() { p.depth-- }()
	p.i++ // '{'
	p.ws()
	members := false
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.closed(level, members)
		p.i++
		return nil
	}
	for {
		name, plain, err := p.memberName()
		if err != nil {
			return err
		}
		if p.i >= len(p.b) {
			return p.fail("expected a value")
		}
		members = true
		switch {
		case level == levelTop && keyEqual(name, plain, "params"):
			err = p.params()
		case level == levelParams && keyEqual(name, plain, "_meta"):
			err = p.meta()
		case level == levelMeta:
			err = p.metaMember(name, plain)
		default:
			err = p.skipValue()
		}
		if err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.fail("expected ',' or '}'")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.closed(level, members)
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}'")
		}
	}
}

// closed records the end of an object on the path; p.i is at its '}'.
func (p *parser) closed(level int, members bool) {
	switch level {
	case levelTop:
		p.s.topClose = p.i
		p.s.topMembers = members
	case levelParams:
		p.s.paramsMembers = members
	case levelMeta:
		p.s.metaMembers = members
	}
}

// params parses the value of a top-level "params" member. A later one
// replaces everything learned from an earlier one, as in the SDK.
func (p *parser) params() error {
	s := &p.s
	s.meta, s.metaN, s.metaBad, s.paramsMembers = absent, 0, false, false
	for j := range s.hits {
		s.hits[j] = hit{}
	}
	start := p.i
	var err error
	switch p.b[p.i] {
	case '{':
		s.params = object
		err = p.object(levelParams)
	case 'n':
		s.params = null
		err = p.literal("null")
	default:
		s.params = other
		err = p.skipValue()
	}
	s.paramsV = span{start, p.i}
	return err
}

// meta parses the value of a "_meta" member of the params.
func (p *parser) meta() error {
	s := &p.s
	s.metaN++
	s.metaMembers = false
	start := p.i
	var err error
	switch p.b[p.i] {
	case '{':
		s.meta = object
		err = p.object(levelMeta)
	case 'n':
		// The SDK's map becomes nil: keys of earlier _meta members are gone.
		s.meta = null
		for j := range s.hits {
			s.hits[j] = hit{}
		}
		err = p.literal("null")
	default:
		s.meta = other
		s.metaBad = true
		err = p.skipValue()
	}
	s.metaV = span{start, p.i}
	return err
}

// metaMember parses the value of a member of a _meta object and records it
// for each wanted key the name matches.
func (p *parser) metaMember(name []byte, plain bool) error {
	var h hit
	if p.b[p.i] == '"' {
		start := p.i + 1
		end, vplain, err := p.str()
		if err != nil {
			return err
		}
		h = hit{kind: str, v: span{start, end}, plain: vplain}
	} else {
		start := p.i
		if err := p.skipValue(); err != nil {
			return err
		}
		h = hit{kind: other, v: span{start, p.i}}
	}
	h.meta = p.s.metaN
	for j, n := 0, p.nkeys(); j < n; j++ {
		if keyEqual(name, plain, p.keyAt(j)) {
			p.s.hits[j] = h
		}
	}
	return nil
}
