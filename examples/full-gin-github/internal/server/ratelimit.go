package server

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipLimiter is a token bucket per client IP. Buckets of clients that have been idle
// long enough to be full again are dropped, so memory follows the number of active
// clients rather than every address ever seen.
type ipLimiter struct {
	limit      rate.Limit
	burst      int
	idle       time.Duration // a bucket untouched this long is full again and can go
	retryAfter string        // seconds until one token is back, for Retry-After
	now        func() time.Time

	mu        sync.Mutex
	clients   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// newIPLimiter returns nil (no limiting) when rps is 0.
func newIPLimiter(rps float64, burst int) *ipLimiter {
	if rps <= 0 || burst < 1 {
		return nil
	}
	refill := time.Duration(float64(burst) / rps * float64(time.Second))
	return &ipLimiter{
		limit:      rate.Limit(rps),
		burst:      burst,
		idle:       max(refill, time.Minute),
		retryAfter: strconv.Itoa(int(math.Ceil(1 / rps))),
		now:        time.Now,
		clients:    make(map[string]*bucket),
	}
}

// allow takes a token from ip's bucket and reports whether there was one.
func (l *ipLimiter) allow(ip string) bool {
	if l == nil {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle {
		l.sweep(now)
	}
	b, ok := l.clients[ip]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(l.limit, l.burst)}
		l.clients[ip] = b
	}
	b.seen = now
	return b.limiter.AllowN(now, 1)
}

// sweep drops idle buckets. It runs inline, at most once per idle period, so the
// limiter needs no background goroutine to start or stop.
func (l *ipLimiter) sweep(now time.Time) {
	for ip, b := range l.clients {
		if now.Sub(b.seen) >= l.idle {
			delete(l.clients, ip)
		}
	}
	l.lastSweep = now
}
