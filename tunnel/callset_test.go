package tunnel

import (
	"slices"
	"testing"
)

func TestCallSet(t *testing.T) {
	var s callSet[struct{}]
	s.add([]byte("1"), call[struct{}]{method: "a"})
	s.add([]byte(`"1"`), call[struct{}]{method: "b"})
	s.add([]byte("2"), call[struct{}]{method: "c"})
	if s.add([]byte("1"), call[struct{}]{method: "d"}) || s.add([]byte("2"), call[struct{}]{method: "d"}) {
		t.Error("an id used twice in one POST was taken twice") // the first keeps it
	}
	if s.len() != 3 {
		t.Fatalf("len = %d, want 3", s.len())
	}
	if c, ok := s.take([]byte("1")); !ok || c.method != "a" {
		t.Errorf("take(1) = %+v, %v", c, ok)
	}
	if _, ok := s.take([]byte("1")); ok {
		t.Errorf("took 1 twice")
	}
	s.add([]byte("3"), call[struct{}]{method: "e"}) // after a take, still found
	var left []string
	s.each(func(id string, c *call[struct{}]) { left = append(left, id+" "+c.method) })
	slices.Sort(left)
	if !slices.Equal(left, []string{`"1" b`, "2 c", "3 e"}) || s.len() != 3 {
		t.Errorf("left %v, len %d", left, s.len())
	}
	for _, id := range []string{`"1"`, "2", "3"} {
		if _, ok := s.take([]byte(id)); !ok {
			t.Errorf("take(%s) missed", id)
		}
	}
	if s.len() != 0 {
		t.Errorf("len = %d after taking all", s.len())
	}
}
