package tunnel

import (
	"errors"
)

// A line longer than the relay's limit is never held whole: it passes in
// pieces (see lineReader). The longScanner reads it as it passes, piece by
// piece, so that its messages are matched like those of any other line: a
// response's id may come after a result of any size, so looking for it in
// a bounded prefix would not do. It keeps O(1) state whatever the line's
// length: where it is in the grammar, one bit per open container (up to
// maxDepth), and the fields decode reads, each kept up to maxLongField
// bytes.
//
// It accepts exactly the JSON that decode accepts, and reads the same
// fields (FuzzLongScanner checks both against decode, the line cut into
// pieces anywhere), but for fields longer than maxLongField: an id is then
// marked cut and matched to nothing, a method or tool name is cut at a
// character boundary (the monitor keeps 128 bytes of it anyway), and other
// fields are dropped.
//
// A message is handed on once the scanner has read past its end and found
// the line valid so far: a message alone on its line when the line ends,
// an element of a batch at the comma after it or when the line ends. The
// elements of a batch before an error in a later one have been handed on
// by then; holding them back instead would take memory without bound.

// maxLongField bounds each field the scanner keeps.
const maxLongField = 4 << 10

// errBlank is finish's answer for a line of whitespace only, which is not
// counted as malformed.
var errBlank = errors.New("blank line")

// Where the scanner is in the grammar.
type lstate uint8

const (
	lsValue      lstate = iota // a value is expected
	lsFirstValue               // after '[': a value or ']'
	lsFirstKey                 // after '{': a key or '}'
	lsKey                      // after ',' in an object: a key
	lsColon                    // after a key
	lsNext                     // after a value: ',', the container's end, or the line's
	lsString                   // in a string, key or value
	lsNumber                   // in a number, at num
	lsLiteral                  // in true, false or null
	lsDone                     // after the top-level value: whitespace only
	lsError
)

// Where the scanner is in a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
type nstate uint8

const (
	numMinus nstate = iota // after '-'
	numZero                // after a leading 0
	numInt                 // in the integer digits
	numDot                 // after '.'
	numFrac                // in the fraction's digits
	numE                   // after 'e'
	numESign               // after the exponent's sign
	numExp                 // in the exponent's digits
)

// A member of a message, and of its params, result or error, that the
// tunnel reads.
type lfield uint8

const (
	fOther lfield = iota
	fID
	fMethod
	fParams
	fResult
	fError
	// members of params, result and error
	fName
	fRequestID
	fIsError
	fVersion
	fServerInfo
	fCode
)

// role says which message field a captured value becomes.
type role uint8

const (
	roleNone role = iota
	roleID
	roleMethod
	roleTool
	roleCancel
	roleCode
	roleVersion
	roleServerInfo
	nRoles
)

// fieldBytes keeps up to maxLongField bytes of a value.
type fieldBytes struct {
	buf []byte
	cut bool
}

func (c *fieldBytes) add(b []byte) {
	if room := maxLongField - len(c.buf); len(b) > room {
		b, c.cut = b[:room], true
	}
	c.buf = append(c.buf, b...)
}

// longScanner reads one line at a time: reset, feed its pieces in order,
// then finish. Not safe for concurrent use.
type longScanner struct {
	st  lstate
	err error
	num nstate
	lit string // the literal being read
	pos int    // the next byte of lit

	depth int
	objs  [maxDepth/64 + 1]uint64 // bit d-1: the container at depth d is an object

	// In a string: isKey, and esc is 0, 1 after a backslash, 2 to 5 in
	// the hex digits of \u. A key is decoded into key when keyOn: only
	// the keys of a message and of its params, result and error matter,
	// and only those of up to len(key) bytes of ASCII.
	isKey, keyOn, keyBad bool
	esc                  int
	uval                 rune
	key                  [len("protocolVersion")]byte
	keyLen               int

	// msgDepth is the depth of a message's members: 1 for a message
	// alone, 2 for the elements of a batch; 0 until the line's first
	// value. inMsg says the current element is an object.
	msgDepth, elems int
	inMsg           bool
	field, sub      lfield
	subObj          bool // the current field's value is an object
	m               message
	held            bool // m is complete and not yet handed on

	cur      role // the value being captured, roleNone when none
	capDepth int  // the depth at its start
	caps     [nRoles]fieldBytes
}

// reset readies the scanner for a new line, keeping its buffers.
func (l *longScanner) reset() {
	caps := l.caps
	*l = longScanner{}
	for i := range caps {
		caps[i].buf, caps[i].cut = caps[i].buf[:0], false
	}
	l.caps = caps
}

// feed reads the next piece of the line, handing on each message it
// completes to emit, which may keep it only until it returns.
func (l *longScanner) feed(p []byte, emit func(*message)) {
	for i := 0; i < len(p); {
		if l.st == lsString && l.esc == 0 && !l.keyOn {
			// The bulk of a long line is in strings: pass over a run
			// of plain bytes at once.
			j := i
			for j < len(p) && p[j] != '"' && p[j] != '\\' && p[j] >= 0x20 {
				j++
			}
			if l.cur != roleNone {
				l.caps[l.cur].add(p[i:j])
			}
			if i = j; i == len(p) {
				return
			}
		}
		if l.step(p[i], emit) {
			i++
		}
		if l.st == lsError {
			return
		}
	}
}

// finish ends the line: it hands on the last message, and returns nil,
// or the reason the line is no JSON-RPC message.
func (l *longScanner) finish(emit func(*message)) error {
	switch {
	case l.st == lsError:
		return l.err
	case l.st == lsValue && l.depth == 0 && l.msgDepth == 0:
		return errBlank
	case l.st != lsDone:
		return errSyntax
	case l.elems == 0:
		return errNotMessage // an empty batch
	}
	if l.held {
		l.held = false
		emit(&l.m)
	}
	return nil
}

func (l *longScanner) fail(err error) bool {
	l.st, l.err = lsError, err
	return true
}

// step reads one byte, and reports whether it did: the byte after a
// number ends it and is read again.
func (l *longScanner) step(c byte, emit func(*message)) bool {
	if l.st == lsNumber {
		next, ok := numNext(l.num, c)
		if !ok {
			switch l.num {
			case numZero, numInt, numFrac, numExp:
				l.st = lsNext
				l.valueEnd()
				return false
			}
			return l.fail(errSyntax)
		}
		l.num = next
		l.keep(c)
		return true
	}
	l.keep(c) // a value's first byte is kept by begin, once it has started
	switch l.st {
	case lsValue, lsFirstValue:
		switch {
		case isSpace(c):
		case c == ']' && l.st == lsFirstValue:
			l.close()
		default:
			l.begin(c)
		}
	case lsFirstKey, lsKey:
		switch {
		case isSpace(c):
		case c == '}' && l.st == lsFirstKey:
			l.close()
		case c == '"':
			l.st, l.isKey, l.esc = lsString, true, 0
			l.keyOn = l.inMsg && (l.depth == l.msgDepth || l.depth == l.msgDepth+1 && l.subObj)
			l.keyLen, l.keyBad = 0, false
		default:
			return l.fail(errSyntax)
		}
	case lsColon:
		switch {
		case isSpace(c):
		case c == ':':
			l.st = lsValue
		default:
			return l.fail(errSyntax)
		}
	case lsNext:
		inObj := l.isObj(l.depth)
		switch {
		case isSpace(c):
		case c == ',':
			l.st = lsValue
			if inObj {
				l.st = lsKey
			}
			if l.held && l.depth == l.msgDepth-1 {
				l.held = false // an element of a batch, followed by another
				emit(&l.m)
			}
		case c == '}' && inObj, c == ']' && !inObj:
			l.close()
		default:
			return l.fail(errSyntax)
		}
	case lsString:
		return l.stringByte(c)
	case lsLiteral:
		if c != l.lit[l.pos] {
			return l.fail(errSyntax)
		}
		if l.pos++; l.pos == len(l.lit) {
			l.st = lsNext
			l.valueEnd()
		}
	case lsDone:
		if !isSpace(c) {
			return l.fail(errSyntax)
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// numNext is the number state after c, and false when c is no part of the
// number.
func numNext(n nstate, c byte) (nstate, bool) {
	digit := '0' <= c && c <= '9'
	switch n {
	case numMinus:
		if c == '0' {
			return numZero, true
		}
		return numInt, digit
	case numZero, numInt, numFrac:
		switch {
		case digit && n != numZero:
			return n, true
		case c == '.' && n != numFrac:
			return numDot, true
		case c == 'e' || c == 'E':
			return numE, true
		}
	case numDot:
		return numFrac, digit
	case numE:
		if c == '+' || c == '-' {
			return numESign, true
		}
		return numExp, digit
	case numESign, numExp:
		return numExp, digit
	}
	return n, false
}

// stringByte reads a byte of a string that the fast path in feed did not.
func (l *longScanner) stringByte(c byte) bool {
	switch {
	case l.esc == 1:
		l.esc = 0
		switch c {
		case '"', '\\', '/':
			l.keyByte(c)
		case 'b':
			l.keyByte('\b')
		case 'f':
			l.keyByte('\f')
		case 'n':
			l.keyByte('\n')
		case 'r':
			l.keyByte('\r')
		case 't':
			l.keyByte('\t')
		case 'u':
			l.esc, l.uval = 2, 0
		default:
			return l.fail(errSyntax)
		}
	case l.esc > 1:
		if !isHex(c) {
			return l.fail(errSyntax)
		}
		l.uval = l.uval<<4 | rune(hexValue(c))
		if l.esc++; l.esc == 6 {
			l.esc = 0
			if l.uval < 0x80 {
				l.keyByte(byte(l.uval))
			} else {
				l.keyBad = true // no key the tunnel reads has one
			}
		}
	case c == '"':
		if l.isKey {
			l.keyEnd()
			l.st = lsColon
		} else {
			l.st = lsNext
			l.valueEnd()
		}
	case c == '\\':
		l.esc = 1
	case c < 0x20:
		return l.fail(errSyntax)
	case c >= 0x80:
		l.keyBad = true
	default:
		l.keyByte(c)
	}
	return true
}

func hexValue(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
