package cache

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Pending invalidations keep a failed invalidation from being undone once Redis
// is back. A write that commits while Redis is unreachable (or its breaker open)
// cannot delete the cached entry; without more, that entry would be served again
// as soon as Redis answers, until CACHE_TTL ends. So a failed delete is remembered
// here: reads of that key bypass the cache (the repository answers, nothing is
// filled), and a background loop retries the delete every retryInterval — and at
// once after any write's delete succeeds — until Redis takes it.
//
// The set is bounded (maxPending). A write that would overflow it switches this
// replica to "flush all": every read bypasses the cache until one sweep, SCAN
// MATCH <prefix>items:* and UNLINK, has gone through.
//
// What remains: the set is in this replica's memory. Another replica reads the
// shared entry as soon as Redis is back, and may serve the stale value until this
// replica's retry deletes it — at most about retryInterval after Redis returns. A
// replica that crashes (or is stopped) with pending invalidations leaves them to
// the TTL.

// retryInterval is how often pending invalidations are retried.
const retryInterval = 500 * time.Millisecond

// defaultMaxPending bounds the keys remembered before "flush all" takes over.
const defaultMaxPending = 100_000

// retryBatch is how many keys one retried DEL (or one sweep UNLINK) carries.
const retryBatch = 500

// Option adjusts a Client.
type Option func(*Client)

// WithMaxPending bounds the failed invalidations a client remembers key by key;
// past it the client flushes every cached item once Redis is back.
func WithMaxPending(n int) Option {
	return func(c *Client) { c.pending.max = max(n, 1) }
}

// pending is the set of keys whose invalidation failed.
type pending struct {
	any atomic.Bool // keys non-empty or all set: the read path's only cost when nothing is pending

	mu   sync.Mutex
	max  int
	seq  uint64            // bumped on every failed invalidation
	keys map[string]uint64 // key → seq of its latest failed invalidation
	all  bool              // the set overflowed: bypass and flush every item
}

// stale tells whether reads of key must bypass the cache.
func (p *pending) stale(key string) bool {
	if !p.any.Load() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.keys[key]
	return ok || p.all
}

// add remembers a failed invalidation of key.
func (p *pending) add(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	p.any.Store(true)
	if p.all {
		return
	}
	if _, ok := p.keys[key]; !ok && len(p.keys) >= p.max {
		p.all, p.keys = true, nil
		return
	}
	if p.keys == nil {
		p.keys = make(map[string]uint64)
	}
	p.keys[key] = p.seq
}

// snapshot returns up to n pending keys with their seqs, whether a flush is due,
// and the current seq.
func (p *pending) snapshot(n int) (keys []string, seqs []uint64, all bool, seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.keys {
		if len(keys) == n {
			break
		}
		keys, seqs = append(keys, k), append(seqs, s)
	}
	return keys, seqs, p.all, p.seq
}

// done drops keys whose delete succeeded, unless a later invalidation of the same
// key failed meanwhile.
func (p *pending) done(keys []string, seqs []uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, k := range keys {
		if p.keys[k] == seqs[i] {
			delete(p.keys, k)
		}
	}
	p.any.Store(p.all || len(p.keys) > 0)
}

// flushed ends "flush all" after a sweep that began at seq, unless an
// invalidation failed since (the sweep may have passed its key already).
func (p *pending) flushed(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seq == seq {
		p.all = false
		p.any.Store(len(p.keys) > 0)
	}
}

// deleteEntry deletes key after a write. On failure the key is remembered and
// retried; on success the retry loop is woken if anything is
// pending, as Redis is likely back.
func (c *Client) deleteEntry(ctx context.Context, key string) error {
	err := c.do(ctx, func(ctx context.Context) error { return c.rdb.Del(ctx, key).Err() })
	if err != nil {
		c.pending.add(key)
		return err
	}
	if c.pending.any.Load() {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// retryLoop retries pending invalidations until Close.
func (c *Client) retryLoop(ctx context.Context) {
	defer close(c.stopped)
	tick := time.NewTicker(retryInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-c.kick:
		}
		if c.pending.any.Load() {
			c.retry(ctx)
		}
	}
}

// retry deletes the pending keys in batches, then sweeps if a flush is due. It
// stops at the first failure: the next round tries again.
func (c *Client) retry(ctx context.Context) {
	for {
		keys, seqs, all, seq := c.pending.snapshot(retryBatch)
		if len(keys) > 0 {
			if err := c.do(ctx, func(ctx context.Context) error { return c.rdb.Del(ctx, keys...).Err() }); err != nil {
				c.logger.DebugContext(ctx, "retrying cache invalidations failed", "keys", len(keys), "error", err)
				return
			}
			c.pending.done(keys, seqs)
			c.logger.InfoContext(ctx, "cache invalidations retried", "keys", len(keys))
			continue
		}
		if all {
			if err := c.sweep(ctx); err != nil {
				c.logger.DebugContext(ctx, "flushing the item cache failed", "error", err)
				return
			}
			c.pending.flushed(seq)
			c.logger.InfoContext(ctx, "item cache flushed after too many failed invalidations")
		}
		return
	}
}

// sweep unlinks every cached item (and fill lease) of this service.
func (c *Client) sweep(ctx context.Context) error {
	match := globEscape(c.prefix+"items:") + "*"
	var cursor uint64
	for {
		var keys []string
		err := c.do(ctx, func(ctx context.Context) error {
			var err error
			keys, cursor, err = c.rdb.Scan(ctx, cursor, match, retryBatch).Result()
			return err
		})
		if err == nil && len(keys) > 0 {
			err = c.do(ctx, func(ctx context.Context) error { return c.rdb.Unlink(ctx, keys...).Err() })
		}
		if err != nil {
			return err
		}
		if cursor == 0 {
			return nil
		}
	}
}

// globEscape quotes the characters SCAN MATCH treats as a pattern.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}
