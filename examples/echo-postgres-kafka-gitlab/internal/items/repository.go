package items

import "context"

// Repository stores items. Implementations: the in-memory one in this package, a
// database-backed one, or a decorator around another Repository (a read-through
// cache, a circuit breaker) — the Service does not know which.
//
// Implementations return ErrNotFound for a missing ID and ErrUnavailable (wrapped
// or not) when their backing dependency cannot be reached, and honour ctx. Every
// write is atomic: the version check, the change, the stored idempotency key and
// (when the service publishes events) the change's outbox event happen together or
// not at all.
type Repository interface {
	// Create stores a new item at version 1; the caller has set every other field.
	// With idem.Key set it is idempotent: when the key is stored (and not expired)
	// with the same fingerprint it returns the item first created with it and
	// replayed = true, without creating one; with another fingerprint it returns
	// ErrIdempotencyKeyReused, and while another create holds the key
	// ErrIdempotencyKeyInFlight.
	Create(ctx context.Context, item Item, idem Idempotency) (stored Item, replayed bool, err error)
	// Get returns the item with the given ID.
	Get(ctx context.Context, id string) (Item, error)
	// List returns up to limit items with IDs greater than after, ordered by ID.
	// Keyset paging keeps pages stable while items are added and stays fast on
	// large tables, unlike OFFSET.
	List(ctx context.Context, after string, limit int) ([]Item, error)
	// Update replaces Name, Price and UpdatedAt of the stored item with item.ID,
	// bumps its version and returns the stored result (CreatedAt unchanged). Unless
	// ifVersion is AnyVersion, it changes nothing and returns ErrVersionMismatch when
	// the stored version differs from ifVersion.
	Update(ctx context.Context, item Item, ifVersion int64) (Item, error)
	// Delete removes the item with the given ID, under the same version check as Update.
	Delete(ctx context.Context, id string, ifVersion int64) error
}
