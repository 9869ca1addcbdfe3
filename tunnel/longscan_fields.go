package tunnel

import (
	"bytes"
)

func (l *longScanner) keyByte(c byte) {
	if !l.keyOn {
		return
	}
	if l.keyLen == len(l.key) {
		l.keyBad = true
		return
	}
	l.key[l.keyLen] = c
	l.keyLen++
}

// keyEnd notes which member's value comes next.
func (l *longScanner) keyEnd() {
	if !l.keyOn {
		return
	}
	f := fOther
	if !l.keyBad {
		f = lookupField(string(l.key[:l.keyLen]), l.depth == l.msgDepth, l.field)
	}
	if l.depth == l.msgDepth {
		l.field = f
	} else {
		l.sub = f
	}
}

// lookupField names a message's member (top) or a member of its field
// parent.
func lookupField(key string, top bool, parent lfield) lfield {
	switch {
	case top:
		switch key {
		case "id":
			return fID
		case "method":
			return fMethod
		case "params":
			return fParams
		case "result":
			return fResult
		case "error":
			return fError
		}
	case parent == fParams:
		switch key {
		case "name":
			return fName
		case "requestId":
			return fRequestID
		}
	case parent == fResult:
		switch key {
		case "isError":
			return fIsError
		case "protocolVersion":
			return fVersion
		case "serverInfo":
			return fServerInfo
		}
	case parent == fError:
		if key == "code" {
			return fCode
		}
	}
	return fOther
}

// keep adds a byte to the value being captured.
func (l *longScanner) keep(c byte) {
	if l.cur != roleNone {
		l.caps[l.cur].add([]byte{c})
	}
}

func (l *longScanner) isObj(depth int) bool {
	return depth > 0 && l.objs[(depth-1)/64]&(1<<((depth-1)%64)) != 0
}

// begin starts a value at its first byte c: notes what it is for the
// message and enters its grammar.
func (l *longScanner) begin(c byte) {
	switch {
	case l.depth == 0 && c == '[':
		l.msgDepth = 2
	case l.depth == 0 && c == '{':
		l.msgDepth = 1
	case l.depth == 0:
		l.fail(errNotMessage)
		return
	}
	switch {
	case l.depth == l.msgDepth-1: // a message, or a batch's element
		l.elems++
		l.inMsg, l.m, l.field, l.sub = c == '{', message{}, fOther, fOther
	case !l.inMsg:
	case l.depth == l.msgDepth:
		l.beginField(c)
	case l.depth == l.msgDepth+1 && l.subObj:
		l.beginSub(c)
	}

	switch {
	case c == '{' || c == '[':
		if l.depth == maxDepth {
			l.fail(errSyntax)
			return
		}
		l.depth++
		w, bit := (l.depth-1)/64, uint64(1)<<((l.depth-1)%64)
		if c == '{' {
			l.objs[w] |= bit
			l.st = lsFirstKey
		} else {
			l.objs[w] &^= bit
			l.st = lsFirstValue
		}
	case c == '"':
		l.st, l.isKey, l.keyOn, l.esc = lsString, false, false, 0
	case c == '-':
		l.st, l.num = lsNumber, numMinus
	case c == '0':
		l.st, l.num = lsNumber, numZero
	case '1' <= c && c <= '9':
		l.st, l.num = lsNumber, numInt
	case c == 't':
		l.st, l.lit, l.pos = lsLiteral, "true", 1
	case c == 'f':
		l.st, l.lit, l.pos = lsLiteral, "false", 1
	case c == 'n':
		l.st, l.lit, l.pos = lsLiteral, "null", 1
	default:
		l.fail(errSyntax)
	}
}

// beginField starts the value of a message's member, as scanner.message
// reads it: a member given twice counts with its last value.
func (l *longScanner) beginField(c byte) {
	m := &l.m
	l.subObj = false
	switch l.field {
	case fID:
		l.start(roleID, c)
	case fMethod:
		m.Method = ""
		if c == '"' {
			l.start(roleMethod, c)
		}
	case fParams:
		m.tool, m.toolEsc, m.cancelID = nil, false, nil
		l.subObj = c == '{'
	case fResult:
		m.hasResult, m.isError, m.protocolVersion, m.serverInfo = c != 'n', false, nil, nil
		l.subObj = c == '{'
	case fError:
		m.hasError, m.code = c != 'n', nil
		l.subObj = c == '{'
	}
}

// beginSub starts the value of a member of params, result or error.
func (l *longScanner) beginSub(c byte) {
	switch l.sub {
	case fName:
		if c == '"' {
			l.start(roleTool, c)
		}
	case fRequestID:
		l.start(roleCancel, c)
	case fIsError:
		l.m.isError = c == 't'
	case fVersion:
		l.start(roleVersion, c)
	case fServerInfo:
		l.start(roleServerInfo, c)
	case fCode:
		if c == '-' || '0' <= c && c <= '9' {
			l.start(roleCode, c)
		}
	}
}

// start captures the value that begins with c.
func (l *longScanner) start(r role, c byte) {
	l.cur, l.capDepth = r, l.depth
	l.caps[r].buf, l.caps[r].cut = append(l.caps[r].buf[:0], c), false
}

// close ends the container at the current depth.
func (l *longScanner) close() {
	l.depth--
	l.st = lsNext
	l.valueEnd()
	if l.depth == 0 {
		l.st = lsDone
	}
}

// valueEnd notes the end of a value in the container at l.depth.
func (l *longScanner) valueEnd() {
	if l.cur != roleNone && l.depth == l.capDepth {
		l.captured()
	}
	if l.depth == l.msgDepth-1 {
		l.held = true
	}
}

// captured sets the field of the value just captured.
func (l *longScanner) captured() {
	r := l.cur
	l.cur = roleNone
	c := &l.caps[r]
	m := &l.m
	switch r {
	case roleID:
		m.ID, m.idCut = c.buf, c.cut
		if c.cut {
			m.ID = nil
		}
	case roleMethod:
		raw, esc := stringContents(c)
		m.Method = methodName(raw, esc)
	case roleTool:
		m.tool, m.toolEsc = stringContents(c)
	default:
		v := c.buf
		if c.cut {
			v = nil
		}
		switch r {
		case roleCancel:
			m.cancelID = v
		case roleCode:
			m.code = v
		case roleVersion:
			m.protocolVersion = v
		case roleServerInfo:
			m.serverInfo = v
		}
	}
}

// stringContents returns what is between a captured string's quotes, as
// scanner.str does, cut before an escape that the cut split.
func stringContents(c *fieldBytes) (raw []byte, esc bool) {
	if !c.cut {
		raw = c.buf[1 : len(c.buf)-1]
	} else {
		raw = c.buf[1:]
		i := 0
		for i < len(raw) {
			n := 1
			if raw[i] == '\\' {
				n = 2
				if i+1 < len(raw) && raw[i+1] == 'u' {
					n = 6
				}
			}
			if i+n > len(raw) {
				break
			}
			i += n
		}
		raw = raw[:i]
	}
	esc = bytes.ContainsFunc(raw, func(r rune) bool { return r == '\\' || r >= 0x80 })
	return raw, esc
}
