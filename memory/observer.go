package memory

import "time"

// An Observer is told of the store's work as it happens, for query timing
// and the cache hit rate: *monitor.Monitor is one, and this is all of it
// the store uses. Its methods are called on the path of every statement
// and cache lookup, from many goroutines at once, so they must be safe for
// concurrent use and return at once.
type Observer interface {
	// ObserveQuery is called after every statement with its duration and
	// outcome. A read that finds nothing is an answer, and comes with a
	// nil err. The reads of Ping, EntryCount and RelationshipCount are not
	// shown: probes and samples must not make an idle store look busy.
	ObserveQuery(d time.Duration, err error)
	// RecordCacheLookup is called after every lookup in the read cache;
	// a store without a cache never calls it.
	RecordCacheLookup(hit bool)
}
