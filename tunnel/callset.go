package tunnel

// callSet holds the requests of one HTTP POST awaiting their response, by
// raw id. A POST nearly always carries one request: it is kept without a
// map, which would cost two allocations per request; a batch's others go
// in the map. Not safe for concurrent use: an exchange is read and written
// by its handler's goroutine only.
type callSet[T any] struct {
	first   call[T]
	firstID string
	hasOne  bool
	more    map[string]call[T]
}

// add records c under id, and reports false for an id the POST used
// already: the first request keeps it, the other goes untimed. There is
// always room: a POST's requests are bounded by its body.
func (s *callSet[T]) add(id []byte, c call[T]) bool {
	switch {
	case s.hasOne && s.firstID == string(id):
		return false // a batch that uses an id twice: the first keeps it
	case !s.hasOne && len(s.more) == 0:
		s.first, s.firstID, s.hasOne = c, string(id), true
	default:
		if s.more == nil {
			s.more = map[string]call[T]{}
		}
		if _, ok := s.more[string(id)]; ok {
			return false
		}
		s.more[string(id)] = c
	}
	return true
}

// take removes and returns the request with the given id.
func (s *callSet[T]) take(id []byte) (call[T], bool) {
	if s.hasOne && s.firstID == string(id) {
		c := s.first
		s.first, s.firstID, s.hasOne = call[T]{}, "", false
		return c, true
	}
	c, ok := s.more[string(id)]
	if ok {
		delete(s.more, string(id))
	}
	return c, ok
}

func (s *callSet[T]) len() int {
	n := len(s.more)
	if s.hasOne {
		n++
	}
	return n
}

// each calls fn for every request left, with its raw id.
func (s *callSet[T]) each(fn func(id string, c *call[T])) {
	if s.hasOne {
		fn(s.firstID, &s.first)
	}
	for id, c := range s.more {
		fn(id, &c)
	}
}
