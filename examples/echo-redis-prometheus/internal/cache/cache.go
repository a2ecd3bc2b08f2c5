// Package cache keeps recently read items in Redis (cache-aside) in front of the
// items repository. Fills are leased, so that a read racing a write never caches
// the row the write replaced, and concurrent misses of one item share one read.
//
// The cache is optional at run time: every Redis call is bounded by a short
// timeout and goes through a circuit breaker, and any cache failure falls back to
// the repository. With Redis down, reads are slower but never fail because of it;
// once its breaker is open they do not even wait for Redis.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/config"
)

// Client is the service's Redis client with its breaker and cache settings.
type Client struct {
	rdb     *redis.Client
	breaker *breaker.Breaker
	logger  *slog.Logger
	ttl     time.Duration
	prefix  string
	metrics Metrics

	pending pending       // keys whose invalidation failed (see pending.go)
	kick    chan struct{} // wakes the retry loop
	stop    func()        // ends the retry loop and waits for it
	stopped chan struct{}
}

// Open configures a client from cfg without connecting: go-redis dials on first
// use. It fails only on a URL go-redis cannot parse. It starts the loop that
// retries failed invalidations; Close stops it.
func Open(cfg config.Redis, b *breaker.Breaker, logger *slog.Logger, opts ...Option) (*Client, error) {
	ropts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		// The parse error can quote the URL, password included; say only what is wrong.
		return nil, errors.New("REDIS_URL is not a valid Redis URL")
	}
	if cfg.TLSCAFile != "" && ropts.TLSConfig != nil { // rediss://: ParseURL set ServerName to the URL's host
		roots, err := config.RootCAs(cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("REDIS_TLS_CA_FILE: %w", err)
		}
		ropts.TLSConfig.RootCAs = roots
	}
	ropts.DialTimeout = cfg.Timeout
	ropts.ReadTimeout = cfg.Timeout
	ropts.WriteTimeout = cfg.Timeout
	ropts.PoolTimeout = cfg.Timeout
	// A failed cache call is not worth retrying: the repository answers instead.
	ropts.MaxRetries = -1
	ropts.DialerRetries = 1 // the fewest go-redis allows; its default retries a refused dial 5 times
	rdb := redis.NewClient(ropts)
	c := &Client{
		rdb:     rdb,
		breaker: b,
		logger:  logger,
		ttl:     cfg.TTL,
		prefix:  cfg.KeyPrefix,
		metrics: noMetrics{},
		pending: pending{max: defaultMaxPending},
		kick:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	for _, opt := range opts {
		opt(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = sync.OnceFunc(func() { cancel(); <-c.stopped })
	go c.retryLoop(ctx)
	return c, nil
}

// Metrics counts the outcomes of item reads; the metrics package implements it
// when the service exports Prometheus metrics.
type Metrics interface {
	// Hit counts a read served from Redis.
	Hit()
	// Miss counts a read Redis had no usable entry for: the repository answered.
	Miss()
	// Error counts a read Redis failed or timed out on: the repository answered.
	Error()
	// Bypass counts a read that did not ask Redis (its breaker is open, or the
	// item's invalidation is pending): the repository answered.
	Bypass()
}

type noMetrics struct{}

func (noMetrics) Hit()    {}
func (noMetrics) Miss()   {}
func (noMetrics) Error()  {}
func (noMetrics) Bypass() {}

// WithMetrics reports the outcome of every item read to m.
func WithMetrics(m Metrics) Option {
	return func(c *Client) { c.metrics = m }
}

// Close stops retrying failed invalidations and closes the client's connections.
func (c *Client) Close() error {
	c.stop()
	return c.rdb.Close()
}

// Check is the readiness check: Redis answers PING, through the breaker so that a
// ping after the open timeout is the trial that closes it again. Messages are
// short on purpose: /readyz is often reachable from outside.
func (c *Client) Check(ctx context.Context) error {
	err := c.do(ctx, func(ctx context.Context) error { return c.rdb.Ping(ctx).Err() })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, breaker.ErrOpen):
		return errors.New("circuit breaker open")
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("ping timed out")
	default:
		c.logger.DebugContext(ctx, "redis readiness ping failed", "error", err)
		return errors.New("ping failed")
	}
}

// do runs one Redis call under the breaker. redis.Nil (a missing key) is an answer,
// not a failure.
//
// The cache timeout bounds the call through go-redis's own deadlines, set in Open:
// the wait for a pooled connection, the dial, the write and the read each end after
// REDIS_TIMEOUT (no retries), so a hung Redis costs a call one timeout — its write
// lands in the socket buffer and its read times out. A context deadline here would
// bound nothing more: go-redis does not use one for socket I/O (its
// ContextTimeoutEnabled is off), and it would cost a timer per call.
func (c *Client) do(ctx context.Context, fn func(ctx context.Context) error) error {
	err := c.breaker.Do(func() error {
		err := fn(ctx)
		if errors.Is(err, redis.Nil) {
			return breaker.Harmless(err)
		}
		return err
	})
	if err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, breaker.ErrOpen) {
		return fmt.Errorf("redis: %w", err) // ErrOpen already names the dependency
	}
	return err
}

// key is the full Redis key of name.
func (c *Client) key(name string) string { return c.prefix + name }
