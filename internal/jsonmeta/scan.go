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

	hits []hit // one per wanted key
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
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return p.fail("expected a member name")
		}
		ks := p.i + 1
		ke, plain, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return p.fail("expected ':'")
		}
		p.i++
		p.ws()
		if p.i >= len(p.b) {
			return p.fail("expected a value")
		}
		members = true
		name := p.b[ks:ke]
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

// strSafe marks the bytes a string can hold that need no further look:
// printable ASCII other than the quote and the backslash.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str parses the string whose opening quote is at p.i and leaves p.i after
// its closing quote. It returns the index of the closing quote and whether
// the content is plain (ASCII without escapes, so it is its own value).
// Bytes that are not UTF-8 are accepted, as encoding/json accepts them.
func (p *parser) str() (end int, plain bool, err error) {
	b := p.b
	i := p.i + 1
	plain = true
	for {
		for i < len(b) && strSafe[b[i]] {
			i++
		}
		if i >= len(b) {
			p.i = i
			return 0, false, p.fail("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			p.i = i + 1
			return i, plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				p.i = len(b)
				return 0, false, p.fail("unterminated escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					p.i = i
					return 0, false, p.fail("invalid \\u escape")
				}
				i += 6
			default:
				p.i = i + 1
				return 0, false, p.fail("invalid escape")
			}
		case c < 0x20:
			p.i = i
			return 0, false, p.fail("control character in string")
		default: // c >= 0x80
			plain = false
			i++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *parser) literal(lit string) error {
	if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
		p.i += len(lit)
		return nil
	}
	return p.fail("invalid literal")
}

// number parses -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at p.i.
func (p *parser) number() error {
	b, i := p.b, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		p.i = i
		return p.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			p.i = i
			return p.fail("expected a digit after the decimal point")
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			p.i = i
			return p.fail("expected a digit in the exponent")
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	p.i = i
	return nil
}

// scalar parses a string, number or literal at p.i.
func (p *parser) scalar() error {
	if p.i >= len(p.b) {
		return p.fail("expected a value")
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, _, err := p.str()
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || isDigit(c):
		return p.number()
	}
	return p.fail("expected a value")
}

// bitStack remembers, for each open container, whether it is an object.
// The first 256 levels need no allocation.
type bitStack struct {
	n     int
	small [4]uint64
	big   []uint64
}

func (s *bitStack) word(n int) *uint64 {
	w := n >> 6
	if w < len(s.small) {
		return &s.small[w]
	}
	w -= len(s.small)
	for len(s.big) <= w {
		s.big = append(s.big, 0)
	}
	return &s.big[w]
}

func (s *bitStack) push(obj bool) {
	w, bit := s.word(s.n), uint64(1)<<(s.n&63)
	if obj {
		*w |= bit
	} else {
		*w &^= bit
	}
	s.n++
}

func (s *bitStack) topIsObject() bool {
	return *s.word(s.n - 1)&(uint64(1)<<((s.n-1)&63)) != 0
}

// skipValue parses any JSON value at p.i, without recursion.
func (p *parser) skipValue() error {
	var st bitStack
	for {
		// A value starts at p.i.
		if p.i >= len(p.b) {
			return p.fail("expected a value")
		}
		switch p.b[p.i] {
		case '{', '[':
			if p.depth+st.n >= maxDepth {
				return p.fail("nesting too deep")
			}
		}
		switch p.b[p.i] {
		case '{':
			p.i++
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == '}' {
				p.i++
				break
			}
			st.push(true)
			if err := p.memberName(); err != nil {
				return err
			}
			continue
		case '[':
			p.i++
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ']' {
				p.i++
				break
			}
			st.push(false)
			continue
		default:
			if err := p.scalar(); err != nil {
				return err
			}
		}
		// A value ended: close containers until one has a next element.
	next:
		for {
			if st.n == 0 {
				return nil
			}
			p.ws()
			if p.i >= len(p.b) {
				return p.fail("expected ',' or the end of a container")
			}
			obj := st.topIsObject()
			switch c := p.b[p.i]; {
			case c == ',':
				p.i++
				p.ws()
				if obj {
					if err := p.memberName(); err != nil {
						return err
					}
				}
				break next
			case obj && c == '}', !obj && c == ']':
				p.i++
				st.n--
			default:
				return p.fail("expected ',' or the end of a container")
			}
		}
	}
}

// memberName parses `"name" :` and the white space after it.
func (p *parser) memberName() error {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return p.fail("expected a member name")
	}
	if _, _, err := p.str(); err != nil {
		return err
	}
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != ':' {
		return p.fail("expected ':'")
	}
	p.i++
	p.ws()
	return nil
}
