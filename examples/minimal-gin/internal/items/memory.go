package items

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemoryRepository keeps items in process memory. It is the storage when the service
// runs without a database: fine for development, demos and tests; the data does not
// survive a restart and is not shared between replicas.
type MemoryRepository struct {
	mu    sync.RWMutex
	items map[string]Item
	ids   []string // sorted, for keyset paging
}

var _ Repository = (*MemoryRepository)(nil)

// NewMemoryRepository returns an empty repository.
func NewMemoryRepository() *MemoryRepository {
	return &MemoryRepository{items: make(map[string]Item)}
}

// Create implements Repository.
func (r *MemoryRepository) Create(ctx context.Context, item Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i, found := slices.BinarySearch(r.ids, item.ID)
	if found {
		return fmt.Errorf("create item %q: id already exists", item.ID)
	}
	r.ids = slices.Insert(r.ids, i, item.ID)
	r.items[item.ID] = item
	return nil
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
func (r *MemoryRepository) Update(ctx context.Context, item Item) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	stored, ok := r.items[item.ID]
	if !ok {
		return Item{}, ErrNotFound
	}
	stored.Name, stored.Price, stored.UpdatedAt = item.Name, item.Price, item.UpdatedAt
	r.items[item.ID] = stored
	return stored, nil
}

// Delete implements Repository.
func (r *MemoryRepository) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i, found := slices.BinarySearch(r.ids, id)
	if !found {
		return ErrNotFound
	}
	r.ids = slices.Delete(r.ids, i, i+1)
	delete(r.items, id)
	return nil
}
