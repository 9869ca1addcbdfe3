package memory

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// entryCache is a bounded LRU of entries in front of Get. Safe for
// concurrent use; a nil *entryCache is a disabled cache.
//
// Staying correct when someone else writes the file. SQLite's
// PRAGMA data_version, read on one dedicated connection, changes whenever
// any other connection commits — another process, but also this store's
// own pooled connections. To tell the two apart, the triggers bump
// store_stats.changes on every write to entries or relationships, and each
// write transaction of this store notes the counter before and after its
// own changes (it holds the write lock, so no one else moves it meanwhile).
// When data_version moved, the cache reads the counter: if it is where this
// process's own commits left it, the cache already forgot what those
// commits touched and stays; otherwise another writer was at work and the
// whole cache goes.
//
// A read that misses loads the entry and stores it only if nothing was
// invalidated since its lookup (the epoch), so a slow reader cannot put back
// a copy older than a write that has already been accounted for.
type entryCache struct {
	mon Observer // nil: nobody is told

	// conn is the dedicated connection data_version is read on; checkMu
	// serialises its use and guards dataVersion.
	conn        *sql.Conn
	checkMu     sync.Mutex
	dataVersion int64
	versionSeen bool

	mu       sync.Mutex
	capacity int
	items    map[string]*cacheNode
	head     *cacheNode // most recently used
	tail     *cacheNode // least recently used
	epoch    uint64     // moves on every invalidation
	gen      int64      // store_stats.changes the contents are valid for
	genKnown bool

	hits, misses atomic.Uint64
}

type cacheNode struct {
	key        string
	val        cached
	prev, next *cacheNode
}

// cached is what the cache holds: an Entry, keyed by its id, or a graph
// entity, keyed by graphKey of its name. A value in the cache is never
// changed: put stores a copy and get hands out copies.
type cached interface {
	expiredAt(now time.Time) bool
	copyOf() cached
}

func (e Entry) copyOf() cached { return e.clone() }

func newEntryCache(capacity int, conn *sql.Conn, mon Observer) *entryCache {
	return &entryCache{
		mon:      mon,
		conn:     conn,
		capacity: capacity,
		items:    make(map[string]*cacheNode, min(capacity, 4096)),
	}
}

// sync checks data_version, drops the cache if another writer committed,
// and returns the epoch a later put must present.
func (s *SQLite) syncCache(ctx context.Context) (uint64, error) {
	c := s.cache
	c.checkMu.Lock()
	defer c.checkMu.Unlock()
	// Not cancellable: both statements take microseconds, and a statement
	// interrupted half-way could leave the one connection the cache
	// depends on unusable.
	ctx = context.WithoutCancel(ctx)
	var dv int64
	if err := s.queryRow(ctx, c.conn, `PRAGMA data_version`, nil, &dv); err != nil {
		return 0, err
	}
	if !c.versionSeen || dv != c.dataVersion {
		var gen int64
		if err := s.queryRow(ctx, c.conn, `SELECT changes FROM store_stats`, nil, &gen); err != nil {
			return 0, err
		}
		c.sawGen(gen)
		c.dataVersion, c.versionSeen = dv, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch, nil
}

// sawGen drops everything unless gen is the counter the contents are valid
// for.
func (c *entryCache) sawGen(gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.genKnown && c.gen == gen {
		return
	}
	c.clearLocked()
	c.gen, c.genKnown = gen, true
}

// sawGenEpoch is sawGen, returning the epoch a later put must present.
// The counter is read before the entries the caller then loads, so what
// it puts is never older than the counter says; two readers racing can
// only drop the cache once too often.
func (c *entryCache) sawGenEpoch(gen int64) uint64 {
	c.sawGen(gen)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// through returns a copy of key's value from c when it holds one, else
// load's, which it then keeps. sync checks that c can be trusted and
// returns the epoch a put must present; when it fails, c is passed by and
// load alone answers (the database reports the trouble if it is real).
// A nil c always loads.
func (c *entryCache) through(ctx context.Context, sync func(context.Context) (uint64, error), key string, now time.Time,
	load func() (cached, error)) (cached, error) {
	if c == nil {
		return load()
	}
	epoch, err := sync(ctx)
	if err != nil {
		return load()
	}
	if v, ok := c.get(key, now); ok {
		return v.copyOf(), nil
	}
	v, err := load()
	if err == nil {
		c.put(key, v, epoch)
	}
	return v, err
}

// get returns the cached value of key, if it is there and not expired at
// now, and reports the lookup to the Observer. The caller copies what it
// hands on (copyOf): the value is the cache's own.
func (c *entryCache) get(key string, now time.Time) (cached, bool) {
	c.mu.Lock()
	n, ok := c.items[key]
	if ok && n.val.expiredAt(now) {
		c.removeLocked(n)
		ok = false
	}
	var v cached
	if ok {
		c.moveToFront(n)
		v = n.val
	}
	c.mu.Unlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	if c.mon != nil {
		c.mon.RecordCacheLookup(ok)
	}
	return v, ok
}

// put stores a copy of v under key, unless the cache was invalidated since
// epoch.
func (c *entryCache) put(key string, v cached, epoch uint64) {
	v = v.copyOf()
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if n, ok := c.items[key]; ok {
		n.val = v
		c.moveToFront(n)
		return
	}
	if len(c.items) >= c.capacity {
		c.removeLocked(c.tail)
	}
	n := &cacheNode{key: key, val: v}
	c.items[key] = n
	c.pushFront(n)
}

// committed is called after a write transaction of this store committed,
// with the keys it touched and the change counter before and after it.
func (c *entryCache) committed(touched []string, genBefore, genAfter int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, key := range touched {
		if n, ok := c.items[key]; ok {
			c.removeLocked(n)
		}
	}
	if c.genKnown && c.gen == genBefore {
		c.gen = genAfter
	}
}

// CacheStats describe the entry cache.
type CacheStats struct {
	Hits     uint64 `json:"hits"`
	Misses   uint64 `json:"misses"`
	Size     int    `json:"size"`
	Capacity int    `json:"capacity"` // 0: the cache is disabled
}

func (c *entryCache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	size := len(c.items)
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Size: size, Capacity: c.capacity}
}

func (c *entryCache) clearLocked() {
	clear(c.items)
	c.head, c.tail = nil, nil
	c.epoch++
}

func (c *entryCache) removeLocked(n *cacheNode) {
	delete(c.items, n.key)
	c.unlink(n)
}

func (c *entryCache) pushFront(n *cacheNode) {
	n.prev, n.next = nil, c.head
	if c.head != nil {
		c.head.prev = n
	}
	c.head = n
	if c.tail == nil {
		c.tail = n
	}
}

func (c *entryCache) unlink(n *cacheNode) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		c.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		c.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (c *entryCache) moveToFront(n *cacheNode) {
	if c.head == n {
		return
	}
	c.unlink(n)
	c.pushFront(n)
}
