package metrics

import "github.com/prometheus/client_golang/prometheus"

// Cache counts the cache's item reads by result (it implements cache.Metrics):
// the hit ratio is rate of hit over rate of all.
type Cache struct {
	hit, miss, err, bypass prometheus.Counter
}

// RegisterCache registers cache_requests_total. Call it once per registry.
func (m *Metrics) RegisterCache() *Cache {
	reads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cache_requests_total",
		Help: "Item reads through the cache, by result: hit; miss (no usable entry, read from the repository); " +
			"error (the cache failed or timed out, read from the repository); " +
			"bypass (the cache was not asked: its breaker is open or the item's invalidation is pending).",
	}, []string{"result"})
	m.registry.MustRegister(reads)
	// Every result's series exists from the start, so ratios are defined before the first error.
	return &Cache{
		hit:    reads.WithLabelValues("hit"),
		miss:   reads.WithLabelValues("miss"),
		err:    reads.WithLabelValues("error"),
		bypass: reads.WithLabelValues("bypass"),
	}
}

// Hit counts a read served from the cache.
func (c *Cache) Hit() { c.hit.Inc() }

// Miss counts a read the cache had no usable entry for.
func (c *Cache) Miss() { c.miss.Inc() }

// Error counts a read the cache failed on.
func (c *Cache) Error() { c.err.Inc() }

// Bypass counts a read that did not ask the cache.
func (c *Cache) Bypass() { c.bypass.Inc() }
