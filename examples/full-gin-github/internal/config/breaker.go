package config

import (
	"time"

	"github.com/acme/orders-api/internal/breaker"
)

// maxFailures bounds the breaker counts: wide, it catches typos, not tuning.
const maxFailures = 1_000_000

// breaker reads the circuit breaker settings PREFIX_BREAKER_FAILURES,
// PREFIX_BREAKER_OPEN_TIMEOUT and PREFIX_BREAKER_HALF_OPEN_REQUESTS. The defaults
// open after 5 consecutive failures and try again after 5s, so a dependency that
// comes back is in use again within seconds.
func (l *loader) breaker(prefix string) breaker.Settings {
	return breaker.Settings{
		Failures:         uint32(l.int(prefix+"_BREAKER_FAILURES", 5, 1, maxFailures)),
		OpenTimeout:      l.duration(prefix+"_BREAKER_OPEN_TIMEOUT", 5*time.Second, minTimeout, maxTimeout),
		HalfOpenRequests: uint32(l.int(prefix+"_BREAKER_HALF_OPEN_REQUESTS", 1, 1, maxFailures)),
	}
}
