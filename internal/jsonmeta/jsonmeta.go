package jsonmeta

import (
	"errors"
	"slices"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonstr"
)

// KV is a member of params._meta to set; Set encodes Value as a JSON string.
type KV struct{ Key, Value string }

var (
	// ErrNotObject means the message, its params or params._meta is valid
	// JSON but not an object (nor absent or null, where Set makes one): a
	// batch, by-position params, or a _meta the SDK would reject. The
	// caller should relay such a message as it is.
	ErrNotObject = errors.New("jsonmeta: message, params or params._meta is not a JSON object")

	// ErrSyntax matches every *SyntaxError under errors.Is.
	ErrSyntax = errors.New("jsonmeta: invalid JSON")
)

// scan checks msg and finds the members on the params._meta path. keys or
// kvs name the _meta keys to look for; hits holds room for them.
func scan(msg []byte, keys []string, kvs []KV, hits []hit) (shape, error) {
	p := parser{b: msg, keys: keys, kvs: kvs}
	// The parser records only the keys it finds: whatever hits held
	// before (a Doc read again) must not pass for this message's.
	clear(hits)
	p.s.hits = hits
	if err := p.parse(); err != nil {
		return shape{}, err
	}
	s := p.s
	if !s.topObject || s.params == other || s.params == object && s.metaBad {
		return s, ErrNotObject
	}
	return s, nil
}

// Get returns the string value of params._meta[key] for each key, "" where
// the key is absent or its value is not a string, reading msg the way the
// MCP Go SDK does (see the package documentation). It copies nothing of msg
// but the values it returns.
func Get(msg []byte, keys ...string) ([]string, error) {
	var room [4]hit
	hits := room[:min(len(keys), len(room))]
	if len(keys) > len(room) {
		hits = make([]hit, len(keys))
	}
	s, err := scan(msg, keys, nil, hits)
	if err != nil {
		return nil, err
	}
	vals := make([]string, len(keys))
	for j, h := range s.hits {
		if h.kind == str {
			vals[j] = unquote(msg[h.v.start:h.v.end], h.plain)
		}
	}
	return vals, nil
}

// Set returns a copy of msg in which params._meta[kv.Key] is the JSON
// string kv.Value for each kv, a later kv winning over an earlier one with
// the same key. All other bytes of msg, white space included, are kept:
//
//   - a key already in the last _meta member gets its last value replaced,
//     whatever JSON value it was; other keys go in as the first members of
//     that _meta, where a reader that stops early finds them;
//   - a null _meta or params becomes an object holding the keys;
//   - an absent _meta becomes the first member of params;
//   - absent params are added as the last member of the message.
//
// Set never modifies msg. It returns a *SyntaxError for invalid JSON and
// ErrNotObject for a message, params or _meta that is not an object; the
// caller can then relay msg as it is.
func Set(msg []byte, kv ...KV) ([]byte, error) {
	out, _, err := set(msg, kv)
	return out, err
}

// set is Set, also returning the span of msg that was replaced, for tests.
func set(msg []byte, kv []KV) ([]byte, span, error) {
	var room [4]hit
	hits := room[:min(len(kv), len(room))]
	if len(kv) > len(room) {
		hits = make([]hit, len(kv))
	}
	s, err := scan(msg, nil, kv, hits)
	if err != nil {
		return nil, span{}, err
	}
	out, sp := apply(msg, &s, kv)
	return out, sp, nil
}

// apply makes the edit of Set on msg, whose shape s is, s.hits holding
// one hit per kv.
func apply(msg []byte, s *shape, kv []KV) ([]byte, span) {
	if len(kv) == 0 {
		return append(make([]byte, 0, len(msg)), msg...), span{}
	}

	// An edit replaces a span of msg: one block that inserts the keys not
	// already in the last _meta (as new members, or in a new _meta or
	// params), and one value replacement per key that is.
	var editRoom [5]edit
	edits := editRoom[:0]
	var block edit
	block.j = -1
	needBlock := false
	for j := range kv {
		if superseded(kv, j) {
			continue
		}
		if v, ok := s.valueOf(j); ok {
			edits = append(edits, edit{v: v, j: j})
			s.hits[j].replaced = true
			continue
		}
		needBlock = true
	}
	if needBlock {
		switch {
		case s.params == absent:
			block.v = span{s.topClose, s.topClose}
			if s.topMembers {
				block.prefix = `,"params":{"_meta":{`
			} else {
				block.prefix = `"params":{"_meta":{`
			}
			block.suffix = `}}`
		case s.params == null:
			block.v = s.paramsV
			block.prefix, block.suffix = `{"_meta":{`, `}}`
		case s.meta == absent:
			at := s.paramsV.start + 1
			block.v = span{at, at}
			block.prefix, block.suffix = `"_meta":{`, `}`
			if s.paramsMembers {
				block.suffix = `},`
			}
		case s.meta == null:
			block.v = s.metaV
			block.prefix, block.suffix = `{`, `}`
		default: // an object
			at := s.metaV.start + 1
			block.v = span{at, at}
			if s.metaMembers {
				block.suffix = `,`
			}
		}
		edits = append(edits, block)
	}
	// Edits do not overlap; write them in the order of the message.
	slices.SortFunc(edits, func(a, b edit) int { return a.v.start - b.v.start })

	size := len(msg)
	for _, e := range edits {
		size += e.len(kv, s.hits) - (e.v.end - e.v.start)
	}
	out := make([]byte, 0, size)
	at := 0
	for _, e := range edits {
		out = append(out, msg[at:e.v.start]...)
		out = e.append(out, kv, s.hits)
		at = e.v.end
	}
	out = append(out, msg[at:]...)
	return out, span{edits[0].v.start, edits[len(edits)-1].v.end}
}

// A Doc is a message read once for the values of some _meta keys and for
// an edit of the same keys: Get and Set in one parse, for a caller that
// reads the trace context a request carries and writes its own in its
// place, in a copy (Set) or in the message itself (Overwrite). Read it
// with Read. A Doc is not safe for concurrent use.
type Doc struct {
	msg  []byte
	keys []string
	l    layout
	hits [4]hit // one per key
	err  error
}

// Read parses msg, as Get does, finding params._meta[key] for each of
// keys, at most four. Its error is Get's.
func (d *Doc) Read(msg []byte, keys ...string) error {
	if len(keys) > len(d.hits) {
		// Nothing of an earlier Read stays to be read or edited.
		*d = Doc{err: errors.New("jsonmeta: Doc reads at most 4 keys")}
		return d.err
	}
	d.msg, d.keys = msg, keys
	var s shape
	s, d.err = scan(msg, keys, nil, d.hits[:len(keys)])
	d.l = s.layout
	return d.err
}

// Value is Get's value of keys[j]: params._meta[keys[j]] when it is a
// string, else "".
func (d *Doc) Value(j int) string {
	if d.err != nil || j >= len(d.keys) {
		return ""
	}
	if h := d.hits[j]; h.kind == str {
		return unquote(d.msg[h.v.start:h.v.end], h.plain)
	}
	return ""
}

// Plain is the value of keys[j] as the message holds it, not copied, and
// true, when that is Value's: a string of ASCII with no escapes, or no
// string (nil). Else (escapes, or bytes beyond ASCII, which Value reads
// as UTF-8) it is false, and Value is the way. What it returns changes
// with the message (Overwrite).
func (d *Doc) Plain(j int) ([]byte, bool) {
	if d.err != nil || j >= len(d.keys) {
		return nil, true
	}
	h := d.hits[j]
	if h.kind != str {
		return nil, true
	}
	return d.msg[h.v.start:h.v.end:h.v.end], h.plain
}

// errUnread is Doc.Set's error before any Read.
var errUnread = errors.New("jsonmeta: Doc.Set before Read")

// Set is Set on the message read, values[j] being the value of keys[j];
// an empty value leaves its key as it is. Its error is Read's.
func (d *Doc) Set(values ...string) ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.msg == nil {
		return nil, errUnread
	}
	var kvRoom [4]KV
	var hitRoom [4]hit
	kv, hits := kvRoom[:0], hitRoom[:0]
	for j, v := range values[:min(len(values), len(d.keys))] {
		if v != "" {
			kv = append(kv, KV{d.keys[j], v})
			hits = append(hits, d.hits[j])
		}
	}
	s := shape{layout: d.l, hits: hits}
	out, _ := apply(d.msg, &s, kv)
	return out, nil
}

// Overwrite is Set made in the message read, in place, when it can be:
// when every key with a value is in the last _meta object already, with a
// value as long in JSON as its new one (a traceparent for another, as a
// proxy hands on its own span's context). Then the message read is what
// Set would have returned, and Overwrite reports true; else it changes
// nothing and reports false, and Set is the way. It spares a proxy a copy
// of each request it traces; the caller must own the message's bytes,
// and what else holds them sees the change. After it the Doc reads as if
// read anew from the message (Value, Plain, Set, Overwrite).
func (d *Doc) Overwrite(values ...string) bool {
	if d.err != nil || d.msg == nil {
		return false
	}
	values = values[:min(len(values), len(d.keys))] // as Set: extras set nothing
	var at [4]span
	s := shape{layout: d.l, hits: d.hits[:len(d.keys)]}
	for j, v := range values {
		if v == "" {
			continue
		}
		sp, ok := s.valueOf(j)
		if !ok || sp.end-sp.start != jsonstr.Len(v, jsonstr.Minimal) {
			return false
		}
		at[j] = sp
	}
	for j, v := range values {
		if v != "" {
			jsonstr.Append(d.msg[at[j].start:at[j].start], v, jsonstr.Minimal)
		}
	}
	// The Doc reads on as if read anew: each value written, and every key
	// found at the same place (a key named twice), is the string now
	// there, with escapes or not, whatever was there before.
	for j := range d.keys {
		sp, ok := s.valueOf(j)
		if !ok || !written(at[:len(values)], sp) {
			continue
		}
		content := span{sp.start + 1, sp.end - 1}
		d.hits[j] = hit{kind: str, v: content, plain: isPlain(d.msg[content.start:content.end]), meta: d.hits[j].meta}
	}
	return true
}

// written reports whether sp is one of the spans Overwrite wrote at.
func written(at []span, sp span) bool {
	for _, w := range at {
		if w == sp && w.end > w.start {
			return true
		}
	}
	return false
}

// isPlain reports whether a string's content is its own value, as the
// parser's str judges it: ASCII, with no escapes.
func isPlain(b []byte) bool {
	for _, c := range b {
		if !strSafe[c] {
			return false
		}
	}
	return true
}

// valueOf is the span of the value of hits[j] that an edit replaces, when
// the key is in the last _meta object: for a string, its quotes too.
func (s *shape) valueOf(j int) (span, bool) {
	h := s.hits[j]
	if s.params != object || s.meta != object || h.kind == absent || h.meta != s.metaN {
		return span{}, false
	}
	if h.kind == str { // the span of a string is its content
		return span{h.v.start - 1, h.v.end + 1}, true
	}
	return h.v, true
}

// superseded reports whether a later kv sets the same key as kv[j].
func superseded(kv []KV, j int) bool {
	for _, later := range kv[j+1:] {
		if sameKey(later.Key, kv[j].Key) {
			return true
		}
	}
	return false
}

// edit replaces the span v of the message. With j >= 0 the replacement is
// the JSON string kv[j].Value; with j < 0 it is prefix, the members for the
// keys to insert, and suffix.
type edit struct {
	v              span
	j              int
	prefix, suffix string
}

// inserted reports whether the block writes kv[j] as a new member.
func inserted(kv []KV, hits []hit, j int) bool {
	return !superseded(kv, j) && !hits[j].replaced
}

func (e edit) len(kv []KV, hits []hit) int {
	if e.j >= 0 {
		return jsonstr.Len(kv[e.j].Value, jsonstr.Minimal)
	}
	n := len(e.prefix) + len(e.suffix)
	first := true
	for j := range kv {
		if inserted(kv, hits, j) {
			if !first {
				n++
			}
			first = false
			n += jsonstr.Len(kv[j].Key, jsonstr.Minimal) + 1 + jsonstr.Len(kv[j].Value, jsonstr.Minimal)
		}
	}
	return n
}

func (e edit) append(dst []byte, kv []KV, hits []hit) []byte {
	if e.j >= 0 {
		return jsonstr.Append(dst, kv[e.j].Value, jsonstr.Minimal)
	}
	dst = append(dst, e.prefix...)
	first := true
	for j := range kv {
		if inserted(kv, hits, j) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = jsonstr.Append(dst, kv[j].Key, jsonstr.Minimal)
			dst = append(dst, ':')
			dst = jsonstr.Append(dst, kv[j].Value, jsonstr.Minimal)
		}
	}
	return append(dst, e.suffix...)
}
