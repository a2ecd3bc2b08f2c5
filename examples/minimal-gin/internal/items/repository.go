package items

import "context"

// Repository stores items. Implementations: the in-memory one in this package, a
// database-backed one, or a decorator around another Repository (a read-through
// cache, a circuit breaker) — the Service does not know which.
//
// Implementations return ErrNotFound for a missing ID and ErrUnavailable (wrapped
// or not) when their backing dependency cannot be reached, and honour ctx.
type Repository interface {
	// Create stores a new item; the caller has set every field.
	Create(ctx context.Context, item Item) error
	// Get returns the item with the given ID.
	Get(ctx context.Context, id string) (Item, error)
	// List returns up to limit items with IDs greater than after, ordered by ID.
	// Keyset paging keeps pages stable while items are added and stays fast on
	// large tables, unlike OFFSET.
	List(ctx context.Context, after string, limit int) ([]Item, error)
	// Update replaces Name, Price and UpdatedAt of the stored item with item.ID and
	// returns the stored result (CreatedAt unchanged).
	Update(ctx context.Context, item Item) (Item, error)
	// Delete removes the item with the given ID.
	Delete(ctx context.Context, id string) error
}
