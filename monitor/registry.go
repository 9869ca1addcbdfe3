package monitor

import (
	"sort"
	"sync"
	"sync/atomic"
)

// registry maps names to metric state. Lookups, the hot path, are one atomic
// pointer load and one map index: no lock and no allocation. Adding a name
// copies the map under a mutex, which is fine because names are few and
// added once.
type registry[T any] struct {
	m     atomic.Pointer[map[string]*T]
	mu    sync.Mutex
	limit int // 0 = unbounded
}

// get returns the entry for name, or nil.
func (r *registry[T]) get(name string) *T {
	if p := r.m.Load(); p != nil {
		return (*p)[name]
	}
	return nil
}

// getOrAdd returns the entry for name, creating it with mk. When the
// registry is full it returns nil.
func (r *registry[T]) getOrAdd(name string, mk func() *T) *T {
	if v := r.get(name); v != nil {
		return v
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.m.Load()
	var cur map[string]*T
	if old != nil {
		cur = *old
	}
	if v := cur[name]; v != nil {
		return v
	}
	if r.limit > 0 && len(cur) >= r.limit {
		return nil
	}
	next := make(map[string]*T, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	v := mk()
	next[name] = v
	r.m.Store(&next)
	return v
}

// each calls fn for every entry in name order.
func (r *registry[T]) each(fn func(name string, v *T)) {
	p := r.m.Load()
	if p == nil {
		return
	}
	names := make([]string, 0, len(*p))
	for k := range *p {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fn(k, (*p)[k])
	}
}

func (r *registry[T]) len() int {
	if p := r.m.Load(); p != nil {
		return len(*p)
	}
	return 0
}
