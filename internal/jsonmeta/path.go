package jsonmeta

import "errors"

// A Path is where the members on the message → params → _meta path lie in
// a message, as a caller's own parser found them while it read the
// message for its own ends: with it, Doc.ReadPath reads the values of
// _meta's keys without a second pass over the whole message. The caller's
// parser must accept only valid JSON, match member names as this package
// does (exactly, after unescaping), and keep the last "params" member's
// facts, as the SDK does.
type Path struct {
	// Valid is set once the message was read whole, as an object.
	Valid bool
	// Close is the index of the message's closing '}'; Members says
	// whether it has any.
	Close   int
	Members bool

	// Params is the value of the message's last "params" member: its kind
	// (KindAbsent when there is none), its first byte and the index after
	// its last, and, for an object, whether it has members.
	Params                 Kind
	ParamsStart, ParamsEnd int
	ParamsMembers          bool

	// Metas counts the "_meta" members of those params, and MetaBad says
	// whether one of them is neither an object nor null; Meta and the
	// rest are the last one's, as for Params.
	Metas              int
	MetaBad            bool
	Meta               Kind
	MetaStart, MetaEnd int
	MetaMembers        bool
}

// Kind is what a member's value is, as far as a Path needs it.
type Kind uint8

// The kinds of a Path's values.
const (
	KindAbsent Kind = iota
	KindNull
	KindObject
	KindOther
)

func (k Kind) kind() kind {
	switch k {
	case KindNull:
		return null
	case KindObject:
		return object
	case KindOther:
		return other
	}
	return absent
}

// errBadPath is ReadPath's error for a Path that does not fit its message.
var errBadPath = errors.New("jsonmeta: a Path outside its message")

// ReadPath is Read for a message whose Path the caller's parser noted:
// only the last _meta object is parsed, the rest of the message being
// known valid. A Path not Valid, or with more than one _meta member (whose
// keys the SDK merges), is read whole, as Read does.
func (d *Doc) ReadPath(msg []byte, path *Path, keys ...string) error {
	if !path.Valid || path.Metas > 1 {
		return d.Read(msg, keys...)
	}
	if len(keys) > len(d.hits) {
		return d.Read(msg, keys...) // Read's error, and its reset
	}
	if !path.fits(msg) {
		*d = Doc{err: errBadPath}
		return d.err
	}
	d.msg, d.keys = msg, keys
	clear(d.hits[:])
	l := layout{
		topObject: true, topClose: path.Close, topMembers: path.Members,
		params: path.Params.kind(), paramsV: span{path.ParamsStart, path.ParamsEnd}, paramsMembers: path.ParamsMembers,
		meta: path.Meta.kind(), metaV: span{path.MetaStart, path.MetaEnd}, metaMembers: path.MetaMembers,
		metaN: path.Metas, metaBad: path.MetaBad,
	}
	d.l, d.err = l, nil
	if l.params == other || l.params == object && l.metaBad {
		d.err = ErrNotObject
		return d.err
	}
	if l.params == object && l.meta == object {
		// The one _meta object's members, for the keys' values.
		p := parser{b: msg[:path.MetaEnd], i: path.MetaStart, keys: keys}
		p.s.hits = d.hits[:len(keys)]
		p.s.metaN = 1
		p.depth = levelMeta // the message and its params are open
		if err := p.object(levelMeta); err != nil {
			*d = Doc{err: err}
			return err
		}
	}
	return nil
}

// fits reports whether p can be msg's: params within the message's
// braces, _meta within an object's params, each value beginning (and an
// object ending) as its kind does. The edits a Doc makes are at these
// places, so a Path out of them would make a message of nonsense.
func (p *Path) fits(msg []byte) bool {
	if p.Close <= 0 || p.Close >= len(msg) || msg[p.Close] != '}' {
		return false
	}
	if p.Params == KindAbsent {
		return p.Meta == KindAbsent
	}
	if !p.Params.at(msg, p.ParamsStart, p.ParamsEnd, 0, p.Close) {
		return false
	}
	if p.Meta == KindAbsent {
		return true
	}
	return p.Params == KindObject && p.Meta.at(msg, p.MetaStart, p.MetaEnd, p.ParamsStart, p.ParamsEnd-1)
}

// at reports whether a value of kind k can lie at [start, end) of msg,
// strictly after lo and at most to hi.
func (k Kind) at(msg []byte, start, end, lo, hi int) bool {
	if start <= lo || end <= start || end > hi {
		return false
	}
	switch k {
	case KindObject:
		return msg[start] == '{' && msg[end-1] == '}'
	case KindNull:
		return msg[start] == 'n'
	case KindOther:
		return true
	}
	return false
}
