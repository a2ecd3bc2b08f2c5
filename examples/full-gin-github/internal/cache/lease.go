package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"time"

	"github.com/redis/go-redis/v9"
)

// Leases make a read-fill safe against concurrent writes. This is the scheme of
// "Scaling Memcache at Facebook" (NSDI 2013, section 3.2.1), on Redis.
//
// Plain cache-aside has a race: a reader misses, reads the row, and before it stores
// the row a writer changes it and deletes the entry; the reader then stores the row
// the writer replaced, and every reader gets it until the TTL ends. With a lease, a
// reader that misses first puts a marker with a random token under the empty key,
// reads the row, and stores it only if the key still holds its own marker. Each step
// is one Lua script, which Redis runs atomically. Writers delete the key after their
// write, and the marker with it: a fill that raced a write finds its lease gone and
// stores nothing. Readers that find another's marker read the repository without
// filling. Tokens are never reused, so a late fill cannot land on a newer lease.
//
// leaseTTL only has to outlast a repository read (the PostgreSQL repository's are
// bounded by DB_QUERY_TIMEOUT, 3s by default): a fill that comes later is skipped,
// which costs a miss, never correctness. It is also how long a reader that crashed
// mid-fill keeps others from filling the key.
//
// Why leases and not a version compare-and-set: leases need nothing from the row —
// no version column, no clock — and cover deletes without tombstones, whose lifetime
// would have to outlast the slowest fill.
const leaseTTL = 10 * time.Second

// leasePrefix starts a lease marker. No cached value starts with it.
const leasePrefix = "lease:"

var (
	// acquireScript puts the lease ARGV[1] under KEYS[1] for ARGV[2] ms when the key
	// is free or still holds ARGV[3], an entry the caller could not read.
	acquireScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[3] then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
return 0`)

	// fillScript stores ARGV[2] under KEYS[1] for ARGV[3] ms if the key still holds
	// the lease ARGV[1].
	fillScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
	return 1
end
return 0`)

	// releaseScript deletes KEYS[1] if it still holds the lease ARGV[1].
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)
)

// isLease tells whether a value read from the cache is a lease marker: another
// reader is filling the key.
func isLease(raw []byte) bool { return bytes.HasPrefix(raw, []byte(leasePrefix)) }

// acquire takes the lease of key when the key is empty or, with unreadable
// non-nil, still holds that entry. It returns the lease, or "" when another reader
// holds the lease, the key has been filled meanwhile, or Redis failed: then the
// caller reads without filling.
func (c *Client) acquire(ctx context.Context, key string, unreadable []byte) string {
	lease := leasePrefix + rand.Text()
	args := []any{lease, leaseTTL.Milliseconds()}
	if unreadable != nil {
		args = append(args, unreadable)
	}
	var taken bool
	err := c.do(ctx, func(ctx context.Context) error {
		n, err := acquireScript.Run(ctx, c.rdb, []string{key}, args...).Int()
		taken = n == 1
		return err
	})
	if err != nil {
		c.logger.DebugContext(ctx, "cache lease failed; reading without filling", "key", key, "error", err)
		return ""
	}
	if !taken {
		return ""
	}
	return lease
}

// fill stores value under key for the cache TTL if key still holds lease, and
// reports whether it did. Not storing is no failure: a write deleted the lease,
// and the value may be older than the write.
func (c *Client) fill(ctx context.Context, key, lease string, value []byte) bool {
	var stored bool
	err := c.do(ctx, func(ctx context.Context) error {
		n, err := fillScript.Run(ctx, c.rdb, []string{key}, lease, value, c.ttl.Milliseconds()).Int()
		stored = n == 1
		return err
	})
	if err != nil {
		c.logger.DebugContext(ctx, "cache write failed", "key", key, "error", err)
		return false
	}
	if !stored {
		c.logger.DebugContext(ctx, "cache fill skipped: the entry changed while it was read", "key", key)
	}
	return stored
}

// release gives up lease without storing anything, so that the next reader can
// fill key at once instead of after leaseTTL. Best effort: the lease expires anyway.
func (c *Client) release(ctx context.Context, key, lease string) {
	err := c.do(ctx, func(ctx context.Context) error {
		return releaseScript.Run(ctx, c.rdb, []string{key}, lease).Err()
	})
	if err != nil {
		c.logger.DebugContext(ctx, "cache lease release failed; it expires by itself", "key", key, "error", err)
	}
}
