package items

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/acme/orders-api/internal/outbox"
)

// MemoryIdempotencyLimit is how many idempotency keys a MemoryRepository keeps at
// most; past it the oldest are forgotten before they expire, so that a flood of
// keys cannot exhaust memory.
const MemoryIdempotencyLimit = 10_000

// MemoryRepository keeps items in process memory. It is the storage when the service
// runs without a database: fine for development, demos and tests; the data does not
// survive a restart and is not shared between replicas.
type MemoryRepository struct {
	mu    sync.RWMutex
	items map[string]Item
	ids   []string // sorted, for keyset paging
	keys  map[string]storedKey
	// keyOrder lists the stored keys oldest first (with one TTL for all, also in
	// expiry order); an entry whose key was stored again later is stale.
	keyOrder []keyEntry
	now      func() time.Time
	// events receives each change's event under mu, so the queue's order is the
	// order of the changes; notify wakes the relay after the change.
	events *outbox.Memory
	notify func()
}

// storedKey is what a create stored under its idempotency key.
type storedKey struct {
	fingerprint [32]byte
	item        Item
	expires     time.Time
}

type keyEntry struct {
	key     string
	expires time.Time
}

var _ Repository = (*MemoryRepository)(nil)

// MemoryOption configures a MemoryRepository.
type MemoryOption func(*MemoryRepository)

// WithOutbox queues the event of every change on events, and calls notify (the
// relay's Nudge) after each; notify may be nil.
func WithOutbox(events *outbox.Memory, notify func()) MemoryOption {
	return func(r *MemoryRepository) { r.events, r.notify = events, notify }
}

// NewMemoryRepository returns an empty repository.
func NewMemoryRepository(opts ...MemoryOption) *MemoryRepository {
	r := &MemoryRepository{items: make(map[string]Item), keys: make(map[string]storedKey), now: time.Now}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Create implements Repository.
func (r *MemoryRepository) Create(ctx context.Context, item Item, idem Idempotency) (Item, bool, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if idem.Key != "" {
		r.forgetKeys(now, 0)
		if k, ok := r.keys[idem.Key]; ok && now.Before(k.expires) {
			if k.fingerprint != idem.Fingerprint {
				return Item{}, false, ErrIdempotencyKeyReused
			}
			return k.item, true, nil
		}
	}
	i, found := slices.BinarySearch(r.ids, item.ID)
	if found {
		return Item{}, false, fmt.Errorf("create item %q: id already exists", item.ID)
	}
	item.Version = 1
	if err := r.record(ctx, EventCreated, item, item.UpdatedAt); err != nil {
		return Item{}, false, err
	}
	r.ids = slices.Insert(r.ids, i, item.ID)
	r.items[item.ID] = item
	if idem.Key != "" {
		r.forgetKeys(now, 1)
		expires := now.Add(idem.TTL)
		r.keys[idem.Key] = storedKey{fingerprint: idem.Fingerprint, item: item, expires: expires}
		r.keyOrder = append(r.keyOrder, keyEntry{key: idem.Key, expires: expires})
	}
	return item, false, nil
}

// forgetKeys drops expired keys, and the oldest ones while fewer than room places
// are left under MemoryIdempotencyLimit. Callers hold mu.
func (r *MemoryRepository) forgetKeys(now time.Time, room int) {
	drop := 0
	for _, e := range r.keyOrder {
		k, ok := r.keys[e.key]
		current := ok && k.expires.Equal(e.expires)
		if current && now.Before(k.expires) && len(r.keys)+room <= MemoryIdempotencyLimit {
			break
		}
		if current {
			delete(r.keys, e.key)
		}
		drop++
	}
	r.keyOrder = r.keyOrder[drop:]
}

// Get implements Repository.
func (r *MemoryRepository) Get(ctx context.Context, id string) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	item, ok := r.items[id]
	if !ok {
		return Item{}, ErrNotFound
	}
	return item, nil
}

// List implements Repository.
func (r *MemoryRepository) List(ctx context.Context, after string, limit int) ([]Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	start, found := slices.BinarySearch(r.ids, after)
	if found {
		start++
	}
	end := min(start+max(limit, 0), len(r.ids))
	out := make([]Item, 0, end-start)
	for _, id := range r.ids[start:end] {
		out = append(out, r.items[id])
	}
	return out, nil
}

// Update implements Repository.
func (r *MemoryRepository) Update(ctx context.Context, item Item, ifVersion int64) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	stored, ok := r.items[item.ID]
	if !ok {
		return Item{}, ErrNotFound
	}
	if ifVersion != AnyVersion && stored.Version != ifVersion {
		return Item{}, ErrVersionMismatch
	}
	stored.Name, stored.Price, stored.UpdatedAt = item.Name, item.Price, item.UpdatedAt
	stored.Version++
	if err := r.record(ctx, EventUpdated, stored, stored.UpdatedAt); err != nil {
		return Item{}, err
	}
	r.items[item.ID] = stored
	return stored, nil
}

// Delete implements Repository.
func (r *MemoryRepository) Delete(ctx context.Context, id string, ifVersion int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i, found := slices.BinarySearch(r.ids, id)
	if !found {
		return ErrNotFound
	}
	stored := r.items[id]
	if ifVersion != AnyVersion && stored.Version != ifVersion {
		return ErrVersionMismatch
	}
	if err := r.record(ctx, EventDeleted, Item{ID: id, Version: stored.Version + 1}, r.now()); err != nil {
		return err
	}
	r.ids = slices.Delete(r.ids, i, i+1)
	delete(r.items, id)
	return nil
}

// record queues the event of a change the caller is about to make, under mu. A
// full queue fails the change with ErrUnavailable: the broker has been away too
// long to hold more events in memory, and a change without its event would break
// the promise that every acknowledged write is published.
func (r *MemoryRepository) record(ctx context.Context, typ string, item Item, at time.Time) error {
	if r.events == nil {
		return nil
	}
	ev, err := NewEvent(ctx, typ, item, at)
	if err != nil {
		return err
	}
	if err := r.events.Add(ev); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if r.notify != nil {
		r.notify() // never blocks; the relay reads the queue, not this lock
	}
	return nil
}
