package cache

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/acme/orders-api/internal/items"
)

// ItemCache is an items.Repository that serves Get from Redis when it can and
// otherwise from the repository it wraps, storing what it read for the cache TTL.
// Writes go to the repository first and then delete the cached entry, so the next
// read fetches the new state.
//
// Two limits of cache-aside, bounded by the TTL: an invalidation that fails
// (Redis unreachable, breaker open) leaves the old entry until it expires, and a
// read racing a write may put back the value the write replaced. Lists are not
// cached: a page depends on every item in it, which makes invalidation costly.
type ItemCache struct {
	c    *Client
	next items.Repository
}

var _ items.Repository = (*ItemCache)(nil)

// Items returns a cache-aside repository in front of next.
func (c *Client) Items(next items.Repository) *ItemCache {
	return &ItemCache{c: c, next: next}
}

func (r *ItemCache) itemKey(id string) string { return r.c.key("items:" + id) }

// Get implements items.Repository.
func (r *ItemCache) Get(ctx context.Context, id string) (items.Item, error) {
	key := r.itemKey(id)
	var raw []byte
	err := r.c.do(ctx, func(ctx context.Context) error {
		var err error
		raw, err = r.c.rdb.Get(ctx, key).Bytes()
		return err
	})
	if err == nil {
		var item items.Item
		if jerr := json.Unmarshal(raw, &item); jerr == nil && item.ID == id {
			return item, nil
		}
		// An entry this code cannot read (another version wrote it): ignore it; the
		// fresh value below overwrites it.
		r.c.logger.WarnContext(ctx, "ignoring unreadable cache entry", "key", key)
	}
	cacheUsable := err == nil || errors.Is(err, redis.Nil)
	if !cacheUsable {
		r.c.logger.DebugContext(ctx, "cache read failed; reading from the repository", "key", key, "error", err)
	}

	item, err := r.next.Get(ctx, id)
	if err != nil {
		return items.Item{}, err
	}
	if cacheUsable { // after a failed read, a write would most likely fail too: spare the wait
		r.store(ctx, key, item)
	}
	return item, nil
}

// store caches item, best effort: a failure only costs a later cache miss.
func (r *ItemCache) store(ctx context.Context, key string, item items.Item) {
	raw, err := json.Marshal(item)
	if err != nil {
		return
	}
	err = r.c.do(ctx, func(ctx context.Context) error {
		return r.c.rdb.Set(ctx, key, raw, r.c.ttl).Err()
	})
	if err != nil {
		r.c.logger.DebugContext(ctx, "cache write failed", "key", key, "error", err)
	}
}

// invalidate deletes the cached entry of id after a write.
func (r *ItemCache) invalidate(ctx context.Context, id string) {
	key := r.itemKey(id)
	// The write has happened even when the request is being cancelled: try anyway.
	err := r.c.do(context.WithoutCancel(ctx), func(ctx context.Context) error {
		return r.c.rdb.Del(ctx, key).Err()
	})
	if err != nil {
		r.c.logger.WarnContext(ctx, "cache invalidation failed; the entry expires with its TTL",
			slog.String("key", key), slog.String("ttl", r.c.ttl.String()), slog.Any("error", err))
	}
}

// Create implements items.Repository.
func (r *ItemCache) Create(ctx context.Context, item items.Item) error {
	return r.next.Create(ctx, item)
}

// List implements items.Repository; lists are not cached.
func (r *ItemCache) List(ctx context.Context, after string, limit int) ([]items.Item, error) {
	return r.next.List(ctx, after, limit)
}

// Update implements items.Repository.
func (r *ItemCache) Update(ctx context.Context, item items.Item) (items.Item, error) {
	stored, err := r.next.Update(ctx, item)
	if err != nil {
		return items.Item{}, err
	}
	r.invalidate(ctx, item.ID)
	return stored, nil
}

// Delete implements items.Repository.
func (r *ItemCache) Delete(ctx context.Context, id string) error {
	if err := r.next.Delete(ctx, id); err != nil {
		return err
	}
	r.invalidate(ctx, id)
	return nil
}
