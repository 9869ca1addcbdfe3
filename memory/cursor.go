package memory

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"slices"
)

// A cursor marks where the previous page ended: the sort key of its last
// row and that row's seq, which breaks ties. The next page asks for rows
// strictly after it in the listing's order, through the index, so paging
// costs the same on page 1 and page 1000, and rows written meanwhile never
// shift a page (as OFFSET would make them do).
//
// The cursor also carries a fingerprint of the query it belongs to, so
// that a cursor passed with different filters is refused instead of
// silently paging through something else. It is opaque to callers:
// base64url of version, kind, fingerprint, key, seq.
type cursor struct {
	kind        byte // cursorRetrieve, cursorSearch or cursorRecent
	fingerprint uint64
	key         uint64 // created_at (Retrieve) or the score's bits (Search)
	seq         int64
}

const (
	cursorVersion  = 1
	cursorRetrieve = 'r'
	cursorSearch   = 's' // a search in relevance order
	cursorRecent   = 'n' // a search in recency order
	cursorBytes    = 2 + 8 + 8 + 8
)

func (c cursor) String() string {
	b := make([]byte, 0, cursorBytes)
	b = append(b, cursorVersion, c.kind)
	b = binary.BigEndian.AppendUint64(b, c.fingerprint)
	b = binary.BigEndian.AppendUint64(b, c.key)
	b = binary.BigEndian.AppendUint64(b, uint64(c.seq))
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseCursor decodes s, which must have been issued for a query of one of
// the given kinds and of the given fingerprint.
func parseCursor(s string, fingerprint uint64, kinds ...byte) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorBytes || b[0] != cursorVersion {
		return cursor{}, invalidf("invalid cursor %.40q: not a cursor this store issued", s)
	}
	c := cursor{
		kind:        b[1],
		fingerprint: binary.BigEndian.Uint64(b[2:]),
		key:         binary.BigEndian.Uint64(b[10:]),
		seq:         int64(binary.BigEndian.Uint64(b[18:])),
	}
	if !slices.Contains(kinds, c.kind) {
		return cursor{}, invalidf("invalid cursor: it was issued by %s, not %s", kindName(c.kind), kindName(kinds[0]))
	}
	if c.fingerprint != fingerprint {
		return cursor{}, invalidf("invalid cursor: it was issued for a query with other filters; repeat the query's filters unchanged when paging")
	}
	return c, nil
}

func kindName(k byte) string {
	switch k {
	case cursorRetrieve:
		return "retrieve"
	case cursorSearch, cursorRecent:
		return "search"
	case cursorGraph:
		return "read_graph"
	case cursorNodes:
		return "search_nodes"
	}
	return "an unknown operation"
}

// fingerprinter hashes the parts of a query that define its result set.
type fingerprinter struct {
	h interface{ Write([]byte) (int, error) }
}

func newFingerprint() (*fingerprinter, func() uint64) {
	h := fnv.New64a()
	return &fingerprinter{h: h}, h.Sum64
}

func (f *fingerprinter) str(s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	f.h.Write(n[:])
	f.h.Write([]byte(s))
}

func (f *fingerprinter) u64(v uint64) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], v)
	f.h.Write(n[:])
}
