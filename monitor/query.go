package monitor

import "time"

// ObserveQuery records one store query that took d; a non-nil err counts it
// as failed. Safe for concurrent use, lock-free and allocation-free.
func (m *Monitor) ObserveQuery(d time.Duration, err error) {
	m.queries.record(d, err == nil)
}

// RecordCacheLookup counts one cache lookup. The cache itself calls it, so
// the hit rate is what the cache saw, not an estimate.
func (m *Monitor) RecordCacheLookup(hit bool) {
	if hit {
		m.cacheHits.Add(1)
	} else {
		m.cacheMisses.Add(1)
	}
}
