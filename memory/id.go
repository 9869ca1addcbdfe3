package memory

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// Prefixes of the ids the store hands out, so that an id says what it
// names.
const (
	entryPrefix        = "mem_"
	relationshipPrefix = "rel_"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so ids read
// aloud or retyped by an agent survive.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idSource makes ULID-shaped ids: 48 bits of Unix milliseconds then 80
// random bits, as 26 base32 characters. Ids sort by creation time as
// strings; within one millisecond, ids from one source keep increasing
// (the random part is incremented), so one process's ids sort in the order
// it made them. Safe for concurrent use.
type idSource struct {
	mu     sync.Mutex
	lastMS int64
	hi     uint16 // the random part: hi (16 bits) and lo (64 bits)
	lo     uint64
}

func (g *idSource) next(prefix string, t time.Time) string {
	ms := t.UnixMilli()
	g.mu.Lock()
	if ms <= g.lastMS {
		// Same millisecond, or the clock went back: keep increasing from
		// the last id.
		ms = g.lastMS
		g.lo++
		if g.lo == 0 {
			g.hi++
		}
	} else {
		var b [10]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
		g.lastMS = ms
		g.hi = binary.BigEndian.Uint16(b[:2])
		g.lo = binary.BigEndian.Uint64(b[2:])
	}
	hi, lo := g.hi, g.lo
	g.mu.Unlock()

	// 128 bits: ms (48) | hi (16) | lo (64), written 5 bits at a time from
	// the end; 26 characters hold 130 bits, the top two are zero.
	var out [26]byte
	top := uint64(ms)<<16 | uint64(hi) // the high 64 bits
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | top<<59
		top >>= 5
	}
	return prefix + string(out[:])
}
