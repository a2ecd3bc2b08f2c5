package config

import (
	"strings"
	"time"

	"github.com/acme/catalog/internal/breaker"
)

// Redis configures the Redis client, the item cache and its circuit breaker.
type Redis struct {
	// URL is the connection URL (REDIS_URL), e.g. redis://:pass@host:6379/0, or
	// rediss://:pass@host:6380/0 for TLS, verifying that the server's certificate
	// names host. It may hold a password: never log it.
	URL string
	// TLSCAFile is a PEM file of the CAs that sign the server's certificate
	// (REDIS_TLS_CA_FILE), for a private CA; empty trusts the system's CAs.
	TLSCAFile string
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

// redis reads the Redis and cache settings. A CA file needs a rediss:// URL: on a
// plain connection it would be ignored, and the operator believes in TLS that is not there.
func (l *loader) redis() Redis {
	r := Redis{
		URL:       l.url("REDIS_URL", "redis", "rediss"),
		TLSCAFile: l.caFile("REDIS_TLS_CA_FILE"),
		Timeout:   l.duration("REDIS_TIMEOUT", 250*time.Millisecond, minTimeout, time.Minute),
		TTL:       l.duration("CACHE_TTL", 5*time.Minute, time.Second, 7*24*time.Hour),
		KeyPrefix: l.str("REDIS_KEY_PREFIX", "catalog:"),
		Breaker:   l.breaker("REDIS"),
	}
	if r.TLSCAFile != "" && r.URL != "" && !strings.HasPrefix(strings.ToLower(r.URL), "rediss://") {
		l.fail("REDIS_TLS_CA_FILE", "needs a rediss:// REDIS_URL (TLS); REDIS_URL is redis://")
	}
	return r
}
