package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/orders-api/internal/items"
)

// ItemRepository stores items in the items table. Every statement is
// parameterised: values travel apart from the SQL text, so no input can change
// what a statement does. Every write is one transaction holding the change, its
// version check, its idempotency key and its outbox event.
type ItemRepository struct {
	db *DB
	// notify is called after a change has committed (the relay's Nudge).
	notify func()
}

var _ items.Repository = (*ItemRepository)(nil)

// Items returns the items repository on db.
func (db *DB) Items() *ItemRepository { return &ItemRepository{db: db} }

// WithNotify returns a copy of r that calls notify after every committed change,
// so the outbox relay publishes its event without waiting for its next poll.
func (r *ItemRepository) WithNotify(notify func()) *ItemRepository {
	c := *r
	c.notify = notify
	return &c
}

func (r *ItemRepository) changed() {
	if r.notify != nil {
		r.notify()
	}
}

const itemColumns = `id, name, price, created_at, updated_at, version`

// Create implements items.Repository. Its statements (the item, its outbox
// event and the idempotency key, if any) go to the server as one batch, in one round
// trip: a batch sent outside a transaction runs as one implicit transaction, all of it
// committed or none, so a create without a key costs a single round trip instead of
// BEGIN, the statements and COMMIT one after the other. With an idempotency key, a
// transaction-scoped advisory lock on the key first tells a create that is still running
// (ErrIdempotencyKeyInFlight, at once, instead of waiting for it) from one that has
// committed (its stored answer); the batch then runs in that transaction.
func (r *ItemRepository) Create(ctx context.Context, item items.Item, idem items.Idempotency) (items.Item, bool, error) {
	item.Version = 1
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO items (`+itemColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		item.ID, item.Name, item.Price, item.CreatedAt, item.UpdatedAt, item.Version)
	if err := queueEvent(ctx, b, items.EventCreated, item, item.UpdatedAt); err != nil {
		return items.Item{}, false, err
	}
	stored, replayed := item, false
	var err error
	if idem.Key == "" {
		err = r.db.call(ctx, func(ctx context.Context) error { return r.db.pool.SendBatch(ctx, b).Close() })
	} else {
		if err := queueKey(b, idem, item); err != nil {
			return items.Item{}, false, err
		}
		err = r.db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			first, found, err := lookupKey(ctx, tx, idem)
			if err != nil || found {
				stored, replayed = first, found
				return err
			}
			return tx.SendBatch(ctx, b).Close()
		})
	}
	if err != nil {
		return items.Item{}, false, err
	}
	if !replayed {
		r.changed()
	}
	return stored, replayed, nil
}

// lookupKey takes the key's lock and returns the item stored under it, if any.
func lookupKey(ctx context.Context, tx pgx.Tx, idem items.Idempotency) (items.Item, bool, error) {
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`,
		"idempotency_keys:"+idem.Key).Scan(&locked); err != nil {
		return items.Item{}, false, err
	}
	if !locked {
		return items.Item{}, false, items.ErrIdempotencyKeyInFlight
	}
	var hash, response []byte
	err := tx.QueryRow(ctx, `SELECT request_hash, response FROM idempotency_keys WHERE key = $1 AND expires_at > now()`,
		idem.Key).Scan(&hash, &response)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return items.Item{}, false, nil
	case err != nil:
		return items.Item{}, false, err
	case !bytes.Equal(hash, idem.Fingerprint[:]):
		return items.Item{}, false, items.ErrIdempotencyKeyReused
	}
	var first items.Item
	if err := json.Unmarshal(response, &first); err != nil {
		return items.Item{}, false, err
	}
	return first, true, nil
}

// queueKey queues the row that records the key with the item it created; an
// expired row of the same key is replaced.
func queueKey(b *pgx.Batch, idem items.Idempotency, item items.Item) error {
	response, err := json.Marshal(item)
	if err != nil {
		return err
	}
	b.Queue(`INSERT INTO idempotency_keys (key, request_hash, item_id, response, expires_at)
		VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
		ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash, item_id = EXCLUDED.item_id,
			response = EXCLUDED.response, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
		idem.Key, idem.Fingerprint[:], item.ID, json.RawMessage(response), idem.TTL.Seconds())
	return nil
}

// PruneIdempotencyKeys deletes the expired idempotency keys and returns how many.
func (db *DB) PruneIdempotencyKeys(ctx context.Context) (int64, error) {
	var n int64
	err := db.call(ctx, func(ctx context.Context) error {
		tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= now()`)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// pruneEvery is how often PruneInBackground deletes expired idempotency keys.
const pruneEvery = 10 * time.Minute

// PruneInBackground runs PruneIdempotencyKeys every pruneEvery until ctx ends. The
// returned channel is closed when the goroutine has finished.
func (db *DB) PruneInBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(pruneEvery)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if !db.Migrated() {
				continue
			}
			if n, err := db.PruneIdempotencyKeys(ctx); err != nil {
				db.logger.DebugContext(ctx, "pruning idempotency keys failed", "error", err)
			} else if n > 0 {
				db.logger.DebugContext(ctx, "pruned expired idempotency keys", "deleted", n)
			}
		}
	}()
	return done
}

// Get implements items.Repository.
func (r *ItemRepository) Get(ctx context.Context, id string) (items.Item, error) {
	var item items.Item
	err := r.db.call(ctx, func(ctx context.Context) error {
		rows, err := r.db.pool.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE id = $1`, id)
		if err != nil {
			return err
		}
		item, err = pgx.CollectExactlyOneRow(rows, scanItem)
		return err
	})
	return item, err
}

// List implements items.Repository with keyset paging on the primary key.
func (r *ItemRepository) List(ctx context.Context, after string, limit int) ([]items.Item, error) {
	var out []items.Item
	err := r.db.call(ctx, func(ctx context.Context) error {
		rows, err := r.db.pool.Query(ctx,
			`SELECT `+itemColumns+` FROM items WHERE id > $1 ORDER BY id LIMIT $2`, after, max(limit, 0))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanItem)
		return err
	})
	return out, err
}

// Update implements items.Repository. The version check is part of the UPDATE's
// WHERE clause, so no other change can slip in between check and write.
func (r *ItemRepository) Update(ctx context.Context, item items.Item, ifVersion int64) (items.Item, error) {
	var stored items.Item
	err := r.db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx,
			`UPDATE items SET name = $2, price = $3, updated_at = $4, version = version + 1
			WHERE id = $1 AND ($5::bigint = 0 OR version = $5) RETURNING `+itemColumns,
			item.ID, item.Name, item.Price, item.UpdatedAt, ifVersion)
		if err != nil {
			return err
		}
		stored, err = pgx.CollectExactlyOneRow(rows, scanItem)
		if errors.Is(err, pgx.ErrNoRows) {
			return missingOrStale(ctx, tx, item.ID)
		}
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, items.EventUpdated, stored, stored.UpdatedAt)
	})
	if err != nil {
		return items.Item{}, err
	}
	r.changed()
	return stored, nil
}

// Delete implements items.Repository, with the version check of Update.
func (r *ItemRepository) Delete(ctx context.Context, id string, ifVersion int64) error {
	err := r.db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var version int64
		err := tx.QueryRow(ctx, `DELETE FROM items WHERE id = $1 AND ($2::bigint = 0 OR version = $2) RETURNING version`,
			id, ifVersion).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return missingOrStale(ctx, tx, id)
		}
		if err != nil {
			return err
		}
		deleted := items.Item{ID: id, Version: version + 1}
		return insertEvent(ctx, tx, items.EventDeleted, deleted, time.Now().UTC().Truncate(time.Microsecond))
	})
	if err == nil {
		r.changed()
	}
	return err
}

// missingOrStale explains a conditional write that matched no row.
func missingOrStale(ctx context.Context, tx pgx.Tx, id string) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM items WHERE id = $1)`, id).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return items.ErrVersionMismatch
	}
	return items.ErrNotFound
}

// scanItem reads one row of itemColumns. Timestamps come back in UTC, as the
// service wrote them.
func scanItem(row pgx.CollectableRow) (items.Item, error) {
	var it items.Item
	var created, updated time.Time
	if err := row.Scan(&it.ID, &it.Name, &it.Price, &created, &updated, &it.Version); err != nil {
		return items.Item{}, err
	}
	it.CreatedAt, it.UpdatedAt = created.UTC(), updated.UTC()
	return it, nil
}
