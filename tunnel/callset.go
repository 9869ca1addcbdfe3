package tunnel

// callSet holds the requests of one POST awaiting their response, by raw
// id. A POST nearly always carries one request: it is kept without a map,
// which would cost two allocations per request; a batch's others go in
// the map. Not safe for concurrent use: an exchange is read and written
// by its handler's goroutine only.
type callSet struct {
	first   call
	firstID string
	hasOne  bool
	more    map[string]call
}

// add records c under id, replacing a request of the same id as a map
// would.
func (s *callSet) add(id []byte, c call) {
	switch {
	case s.hasOne && s.firstID == string(id):
		s.first = c
	case !s.hasOne && len(s.more) == 0:
		s.first, s.firstID, s.hasOne = c, string(id), true
	default:
		if s.more == nil {
			s.more = map[string]call{}
		}
		s.more[string(id)] = c
	}
}

// take removes and returns the request with the given id.
func (s *callSet) take(id []byte) (call, bool) {
	if s.hasOne && s.firstID == string(id) {
		c := s.first
		s.first, s.firstID, s.hasOne = call{}, "", false
		return c, true
	}
	c, ok := s.more[string(id)]
	if ok {
		delete(s.more, string(id))
	}
	return c, ok
}

func (s *callSet) len() int {
	n := len(s.more)
	if s.hasOne {
		n++
	}
	return n
}

// each calls fn for every request left, with its raw id.
func (s *callSet) each(fn func(id string, c *call)) {
	if s.hasOne {
		fn(s.firstID, &s.first)
	}
	for id, c := range s.more {
		fn(id, &c)
	}
}
