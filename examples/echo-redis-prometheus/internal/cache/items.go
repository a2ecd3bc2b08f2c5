package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/items"
)

// itemSchema starts every cached item and names the shape of the JSON after it.
// Bump it (item.v2, item.v3, …) in the same change that alters items.Item's JSON —
// a field added, removed, renamed or retyped — so that no build decodes an entry
// written by a build with another shape (and, say, reads a missing field as zero):
// an entry of another schema counts as a miss and is replaced.
//
// The schema is in the value, not in the key, on purpose: the builds running side
// by side during a rolling deploy then share one key per item, so a write through
// either build deletes the entry both read. With the schema in the key, a write
// handled by the old build would leave the new build's entry stale for CACHE_TTL.
const itemSchema = "item.v1:"

// ItemCache is an items.Repository that serves Get from Redis when it can and
// otherwise from the repository it wraps, storing what it read for the cache TTL.
// Every write goes to the repository first and then deletes the cached entry, so
// the next read fetches the new state.
//
// A read never caches a row that a write has since replaced or deleted: fills take
// a lease on the key first, and a write's delete revokes it (see leaseTTL). This
// needs nothing from items.Item, which is stored as opaque JSON.
//
// Concurrent misses of one item are collapsed into one repository read per
// replica; a write through this replica makes later reads start a read of their
// own rather than join one begun before the write. A read that joins a load under
// way can still get the state from just before a write that finished on another
// replica meanwhile — as if it had arrived a moment earlier — but that state is
// never cached.
//
// An invalidation that fails (Redis unreachable, breaker open) is remembered and
// retried until Redis takes it; meanwhile reads of that item on this replica
// bypass the cache, so the entry the write replaced is never served here once
// Redis is back. Another replica can serve it for about one retry interval
// after Redis returns, and a replica that stops with invalidations pending
// leaves them to the TTL (see pending.go). Lists are not cached: a page depends
// on every item in it, which makes invalidation costly.
type ItemCache struct {
	c       *Client
	next    items.Repository
	flights flights[items.Item]
	decoder decoder[items.Item]
}

var _ items.Repository = (*ItemCache)(nil)

// Items returns a cache-aside repository in front of next.
func (c *Client) Items(next items.Repository) *ItemCache {
	return &ItemCache{c: c, next: next, decoder: newDecoder(func(it items.Item) string { return it.ID })}
}

func (r *ItemCache) itemKey(id string) string { return r.c.key("items:" + id) }

// Get implements items.Repository. A hit is one Redis GET. An item whose
// invalidation is still pending is read from the repository and not cached.
func (r *ItemCache) Get(ctx context.Context, id string) (items.Item, error) {
	key := r.itemKey(id)
	if r.c.pending.stale(key) {
		r.c.metrics.Bypass()
		return r.flights.do(ctx, id, func(ctx context.Context) (items.Item, error) { return r.next.Get(ctx, id) })
	}
	var raw []byte
	err := r.c.do(ctx, func(ctx context.Context) error {
		var err error
		raw, err = r.c.rdb.Get(ctx, key).Bytes()
		return err
	})
	fill, unreadable := true, []byte(nil)
	switch {
	case err == nil && bytes.HasPrefix(raw, []byte(itemSchema)):
		if item, ok := r.decoder.decode(id, raw[len(itemSchema):]); ok {
			r.c.metrics.Hit()
			return item, nil
		}
		r.c.metrics.Miss()
		r.c.logger.WarnContext(ctx, "replacing an unreadable cache entry", "key", key)
		unreadable = raw
	case err == nil && isLease(raw):
		r.c.metrics.Miss()
		fill = false // another reader is filling the key: read, leave the store to it
	case err == nil:
		r.c.metrics.Miss()
		// Written by a build with another item schema (or corrupt): replace it.
		r.c.logger.DebugContext(ctx, "replacing a cache entry of another schema", "key", key)
		unreadable = append([]byte{}, raw...) // non-nil even when empty
	case errors.Is(err, redis.Nil):
		r.c.metrics.Miss()
	case errors.Is(err, breaker.ErrOpen):
		r.c.metrics.Bypass()
		fill = false // the breaker refuses the store as well
	default:
		r.c.metrics.Error()
		// After a failed read a store would most likely fail too: spare the wait.
		r.c.logger.DebugContext(ctx, "cache read failed; reading from the repository", "key", key, "error", err)
		fill = false
	}
	return r.flights.do(ctx, id, func(ctx context.Context) (items.Item, error) {
		if !fill {
			return r.next.Get(ctx, id)
		}
		return r.load(ctx, key, id, unreadable)
	})
}

// load reads id from the repository and, if it can take the key's lease, stores
// what it read.
func (r *ItemCache) load(ctx context.Context, key, id string, unreadable []byte) (items.Item, error) {
	lease := r.c.acquire(ctx, key, unreadable)
	if lease == "" {
		return r.next.Get(ctx, id)
	}
	item, err := r.next.Get(ctx, id)
	if err != nil {
		r.c.release(ctx, key, lease)
		return items.Item{}, err
	}
	if raw, jerr := json.Marshal(item); jerr == nil {
		r.c.fill(ctx, key, lease, append([]byte(itemSchema), raw...))
	} else { // not with items.Item's fields today; should it happen, free the key
		r.c.release(ctx, key, lease)
	}
	return item, nil
}

// invalidate deletes the cached entry of id, and with it any fill's lease, after a
// write. It runs whatever the write returned: one that failed on a timeout may
// still have committed. A delete that fails is remembered and retried in the
// background, and reads of id bypass the cache until it succeeds.
func (r *ItemCache) invalidate(ctx context.Context, id string) {
	r.flights.forget(id)
	key := r.itemKey(id)
	// The write has happened even when the request is being cancelled: try anyway.
	if err := r.c.deleteEntry(context.WithoutCancel(ctx), key); err != nil {
		r.c.logger.WarnContext(ctx, "cache invalidation failed; retrying it, and reading the item from the repository meanwhile",
			slog.String("key", key), slog.Any("error", err))
	}
}

// Create implements items.Repository. It leaves the cache alone: nothing can be
// cached under a new item's ID. The ID is random (items.Service.Create), so no
// earlier item had it, and a read of an ID that does not exist yet caches nothing
// (misses are not cached); a fill that reads the new row after the commit caches
// the row as created, which is its current state. That spares every create a
// cache round trip.
func (r *ItemCache) Create(ctx context.Context, item items.Item, idem items.Idempotency) (items.Item, bool, error) {
	return r.next.Create(ctx, item, idem)
}

// List implements items.Repository; lists are not cached.
func (r *ItemCache) List(ctx context.Context, after string, limit int) ([]items.Item, error) {
	return r.next.List(ctx, after, limit)
}

// Update implements items.Repository.
func (r *ItemCache) Update(ctx context.Context, item items.Item, ifVersion int64) (items.Item, error) {
	defer r.invalidate(ctx, item.ID)
	return r.next.Update(ctx, item, ifVersion)
}

// Delete implements items.Repository.
func (r *ItemCache) Delete(ctx context.Context, id string, ifVersion int64) error {
	defer r.invalidate(ctx, id)
	return r.next.Delete(ctx, id, ifVersion)
}
