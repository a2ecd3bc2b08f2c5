package config

import (
	"time"

	"github.com/acme/orders-api/internal/breaker"
)

// Redis configures the Redis client, the item cache and its circuit breaker.
type Redis struct {
	// URL is the connection URL (REDIS_URL), e.g. redis://:pass@host:6379/0 or rediss://
	// for TLS. It may hold a password: never log it.
	URL string
	// Timeout bounds every Redis call (dial, read, write). A cache slower than this is
	// skipped: it would cost more than it saves.
	Timeout time.Duration
	// TTL is how long a cached item lives; it bounds how stale a cached read can be
	// when an invalidation was lost while Redis was unreachable.
	TTL time.Duration
	// KeyPrefix starts every key, so that services (and test runs) can share a Redis.
	KeyPrefix string
	// Breaker guards every call to Redis; while it is open the cache is bypassed.
	Breaker breaker.Settings
}

// redis reads the Redis and cache settings.
func (l *loader) redis() Redis {
	return Redis{
		URL:       l.url("REDIS_URL", "redis", "rediss"),
		Timeout:   l.duration("REDIS_TIMEOUT", 250*time.Millisecond, minTimeout, time.Minute),
		TTL:       l.duration("CACHE_TTL", 5*time.Minute, time.Second, 7*24*time.Hour),
		KeyPrefix: l.str("REDIS_KEY_PREFIX", "orders-api:"),
		Breaker:   l.breaker("REDIS"),
	}
}
