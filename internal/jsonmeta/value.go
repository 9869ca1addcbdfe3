package jsonmeta

// Reading JSON values the edit passes over: strings, numbers, literals and
// whole values, checked as strictly as json.Valid checks them, without
// decoding them or recursing.

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
			if _, _, err := p.memberName(); err != nil {
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
					if _, _, err := p.memberName(); err != nil {
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

// memberName parses `"name" :` and the white space after it, and returns
// the name's bytes between the quotes and whether they are plain (str).
func (p *parser) memberName() (name []byte, plain bool, err error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false, p.fail("expected a member name")
	}
	start := p.i + 1
	end, plain, err := p.str()
	if err != nil {
		return nil, false, err
	}
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != ':' {
		return nil, false, p.fail("expected ':'")
	}
	p.i++
	p.ws()
	return p.b[start:end], plain, nil
}
