package tunnel

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonmeta"
)

// The scanner reads the fields a message's measurement needs straight from
// its bytes and validates the rest without building anything: decoding
// every relayed line with encoding/json took most of the tunnel's CPU time.
// It accepts exactly the JSON that encoding/json accepts (FuzzDecode checks
// this against it), so "malformed" means the same as it would there.

var errSyntax = errors.New("invalid JSON")

// maxDepth bounds nesting, as encoding/json does, so that a line of a
// million brackets cannot grow the stack without end.
const maxDepth = 10000

type scanner struct {
	data  []byte
	pos   int
	depth int
}

// space skips whitespace.
func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, 0 at the end.
func (s *scanner) peek() byte {
	s.space()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// value skips one value.
func (s *scanner) value() error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array(s.value)
	case c == '"':
		_, _, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, err := s.number()
		return err
	}
	return errSyntax
}

// span skips one value and returns its bytes.
func (s *scanner) span() ([]byte, error) {
	s.space()
	start := s.pos
	err := s.value()
	return s.data[start:s.pos], err
}

// object reads an object. For each member, field is called with the key,
// escapes resolved, and must read the value; nil skips every value. The key
// is valid until field returns.
func (s *scanner) object(field func(key []byte) error) error {
	if s.depth++; s.depth > maxDepth {
		return errSyntax
	}
	s.pos++ // '{'
	if s.peek() == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if s.peek() != '"' {
			return errSyntax
		}
		raw, esc, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return errSyntax
		}
		s.pos++
		switch {
		case field == nil:
			err = s.value()
		case esc:
			err = field([]byte(unquote(raw, true)))
		default:
			err = field(raw)
		}
		if err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			return errSyntax
		}
	}
}

// array reads an array, calling elem to read each element.
func (s *scanner) array(elem func() error) error {
	if s.depth++; s.depth > maxDepth {
		return errSyntax
	}
	s.pos++ // '['
	if s.peek() == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return errSyntax
		}
	}
}

// str reads a string and returns what is between its quotes, and whether
// that needs unquote's slow path: escapes, or bytes beyond ASCII, which
// must become valid UTF-8 as encoding/json makes them (a name with invalid
// UTF-8 would break the exposition formats it ends up in).
func (s *scanner) str() (raw []byte, esc bool, err error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false, errSyntax
	}
	start := s.pos + 1
	for i := start; i < len(s.data); {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			return s.data[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s.data) {
				return nil, false, errSyntax
			}
			switch s.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.data) {
					return nil, false, errSyntax
				}
				for _, h := range s.data[i+2 : i+6] {
					if !isHex(h) {
						return nil, false, errSyntax
					}
				}
				i += 6
			default:
				return nil, false, errSyntax
			}
		case c < 0x20:
			return nil, false, errSyntax
		case c >= 0x80:
			esc = true
			i++
		default:
			i++
		}
	}
	return nil, false, errSyntax
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() ([]byte, error) {
	d, start, i := s.data, s.pos, s.pos
	digits := func() bool {
		j := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return nil, errSyntax
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return nil, errSyntax
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return nil, errSyntax
		}
	}
	s.pos = i
	return d[start:i], nil
}

func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return errSyntax
	}
	s.pos += len(word)
	return nil
}

// message reads an object as a JSON-RPC message into m. Like
// encoding/json, a key given twice counts with its last value.
func (s *scanner) message(m *message) error {
	err := s.object(func(key []byte) error {
		m.path.Members = true
		switch string(key) {
		case "id":
			id, err := s.span()
			m.ID = id
			return err
		case "method":
			m.Method = ""
			if s.peek() != '"' {
				return s.value()
			}
			raw, esc, err := s.str()
			m.Method = methodName(raw, esc)
			return err
		case "params":
			m.tool, m.toolEsc, m.cancelID = nil, false, nil
			return s.params(m)
		case "result":
			m.hasResult, m.isError, m.protocolVersion, m.serverInfo = false, false, nil, nil
			switch s.peek() {
			case '{':
				m.hasResult = true
				return s.object(func(key []byte) error {
					var err error
					switch string(key) {
					case "isError":
						m.isError = s.peek() == 't'
						return s.value()
					case "protocolVersion":
						m.protocolVersion, err = s.span()
					case "serverInfo":
						m.serverInfo, err = s.span()
					default:
						err = s.value()
					}
					return err
				})
			case 'n':
				return s.value()
			}
			m.hasResult = true
			return s.value()
		case "error":
			m.hasError, m.code = false, nil
			switch s.peek() {
			case '{':
				m.hasError = true
				return s.object(func(key []byte) error {
					if c := s.peek(); string(key) != "code" || !(c == '-' || '0' <= c && c <= '9') {
						return s.value()
					}
					var err error
					m.code, err = s.number()
					return err
				})
			case 'n':
				return s.value()
			}
			m.hasError = true
			return s.value()
		}
		return s.value()
	})
	if err == nil {
		m.path.Valid, m.path.Close = true, s.pos-1
	}
	return err
}

// params reads a message's params: for the message's measurement, a
// tool's name and a cancelled request's id; for tracing, where the value
// and its _meta members lie (message.path), as jsonmeta would find them.
func (s *scanner) params(m *message) error {
	p := &m.path
	p.Metas, p.MetaBad, p.Meta, p.ParamsMembers = 0, false, jsonmeta.KindAbsent, false
	var err error
	switch s.peek() {
	case '{':
		p.Params, p.ParamsStart = jsonmeta.KindObject, s.pos
		err = s.object(func(key []byte) error {
			p.ParamsMembers = true
			var err error
			switch {
			case string(key) == "name" && s.peek() == '"':
				m.tool, m.toolEsc, err = s.str()
			case string(key) == "requestId":
				m.cancelID, err = s.span()
			case string(key) == "_meta":
				err = s.meta(p)
			default:
				err = s.value()
			}
			return err
		})
	case 'n':
		p.Params, p.ParamsStart = jsonmeta.KindNull, s.pos
		err = s.value()
	default:
		p.Params, p.ParamsStart = jsonmeta.KindOther, s.pos
		err = s.value()
	}
	p.ParamsEnd = s.pos
	return err
}

// meta reads a _meta member of a message's params into p.
func (s *scanner) meta(p *jsonmeta.Path) error {
	p.Metas++
	c := s.peek()
	p.MetaStart, p.MetaMembers = s.pos, false
	switch c {
	case '{':
		p.Meta = jsonmeta.KindObject
	case 'n':
		p.Meta = jsonmeta.KindNull
	default:
		p.Meta, p.MetaBad = jsonmeta.KindOther, true
	}
	err := s.value()
	p.MetaEnd = s.pos
	if c == '{' && err == nil {
		// Members, unless only white space lies between the braces.
		inner := s.data[p.MetaStart+1 : p.MetaEnd-1]
		p.MetaMembers = len(bytes.Trim(inner, " \t\r\n")) > 0
	}
	return err
}

// knownMethods spares an allocation per message for the common methods.
var knownMethods = func() map[string]string {
	out := map[string]string{}
	for _, name := range []string{
		"initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/read",
		"resources/templates/list", "resources/subscribe", "resources/unsubscribe", "prompts/list",
		"prompts/get", "completion/complete", "logging/setLevel", "sampling/createMessage",
		"elicitation/create", "roots/list", "notifications/initialized", "notifications/cancelled",
		"notifications/progress", "notifications/message", "notifications/roots/list_changed",
		"notifications/tools/list_changed", "notifications/resources/list_changed",
		"notifications/resources/updated", "notifications/prompts/list_changed",
	} {
		out[name] = name
	}
	return out
}()

func methodName(raw []byte, esc bool) string {
	if !esc {
		if name, ok := knownMethods[string(raw)]; ok {
			return name
		}
	}
	return unquote(raw, esc)
}

// unquote returns the text of a string's raw contents.
func unquote(raw []byte, esc bool) string {
	if !esc {
		return string(raw)
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var out string
	_ = json.Unmarshal(quoted, &out) // validated by str
	return out
}
