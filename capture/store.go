package capture

import (
	"encoding/json"
	"sync"
	"unicode/utf8"
)

// Defaults used when an Options field is zero.
const (
	DefaultMaxBytes = 16 << 10
	DefaultBudget   = 64 << 20
)

// Options configure a Store. The zero value is a good default for every
// field.
type Options struct {
	// MaxBytes bounds each of a call's arguments and result as kept,
	// after redaction; the rest is cut. Default 16 KiB.
	MaxBytes int
	// RedactKeys are the key names whose values are redacted (see
	// DefaultRedactKeys, the default).
	RedactKeys []string
	// Budget bounds the bytes the store keeps in all; past it the oldest
	// payloads go first. Default 64 MiB.
	Budget int64
}

// Part is a call's arguments or result as kept.
type Part struct {
	// JSON is the redacted value, when it was kept whole.
	JSON json.RawMessage
	// Text is the start of the redacted value when it was cut (Truncated),
	// up to MaxBytes, as text.
	Text string
	// Bytes is the size of the redacted value before any cut.
	Bytes     int
	Truncated bool
	// Omitted says why nothing was kept ("not JSON", for one): never the
	// value unredacted.
	Omitted string
}

// String is the part as text: its JSON, or the start of it marked as
// cut, or why nothing was kept; "" when there was nothing.
func (p Part) String() string {
	switch {
	case p.JSON != nil:
		return string(p.JSON)
	case p.Truncated:
		return p.Text + "…"
	}
	return p.Omitted
}

// Payload is what was kept of one call.
type Payload struct {
	Arguments, Result Part
}

func (p *Payload) size() int64 {
	return int64(len(p.Arguments.JSON) + len(p.Arguments.Text) + len(p.Result.JSON) + len(p.Result.Text) + 64)
}

// Store keeps the payloads of recent calls by call id, within a byte
// budget. Safe for concurrent use; a nil *Store keeps nothing.
type Store struct {
	opts   Options
	redact redactor

	mu    sync.Mutex
	byID  map[uint64]*Payload
	order []uint64 // ids oldest first; order[head:] are live
	head  int
	bytes int64
}

// New returns a store.
func New(opts Options) *Store {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.RedactKeys == nil {
		opts.RedactKeys = DefaultRedactKeys
	}
	return &Store{opts: opts, redact: newRedactor(opts.RedactKeys), byID: map[uint64]*Payload{}}
}

// Keep redacts, cuts and keeps the arguments and result (raw JSON; nil
// when there is none) of the call recorded as callID.
func (s *Store) Keep(callID uint64, args, result []byte) {
	if s == nil || callID == 0 {
		return
	}
	p := &Payload{Arguments: s.part(args), Result: s.part(result)}
	n := p.size()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.byID[callID]; old != nil {
		s.bytes -= old.size()
	} else {
		s.order = append(s.order, callID)
	}
	s.byID[callID] = p
	s.bytes += n
	for s.bytes > s.opts.Budget && s.head < len(s.order)-1 {
		id := s.order[s.head]
		s.head++
		if old := s.byID[id]; old != nil {
			s.bytes -= old.size()
			delete(s.byID, id)
		}
	}
	if s.head > len(s.order)/2 && s.head > 1024 {
		s.order = append([]uint64(nil), s.order[s.head:]...)
		s.head = 0
	}
}

func (s *Store) part(raw []byte) Part {
	if len(raw) == 0 {
		return Part{}
	}
	red, err := s.redact.redact(raw)
	if err != nil {
		return Part{Omitted: "not JSON: " + err.Error()}
	}
	p := Part{Bytes: len(red)}
	if len(red) <= s.opts.MaxBytes {
		p.JSON = append(json.RawMessage(nil), red...)
		return p
	}
	cut := s.opts.MaxBytes
	for cut > 0 && !utf8.RuneStart(red[cut]) {
		cut--
	}
	p.Text, p.Truncated = string(red[:cut]), true
	return p
}

// Get returns the payload of the call recorded as callID, if kept.
func (s *Store) Get(callID uint64) (Payload, bool) {
	if s == nil {
		return Payload{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[callID]
	if !ok {
		return Payload{}, false
	}
	return *p, true
}

// Enabled reports whether s keeps payloads.
func (s *Store) Enabled() bool { return s != nil }

// Options returns the effective options.
func (s *Store) Options() Options { return s.opts }
