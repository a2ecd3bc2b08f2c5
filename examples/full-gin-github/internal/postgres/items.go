package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/orders-api/internal/items"
)

// ItemRepository stores items in the items table. Every statement is
// parameterised: values travel apart from the SQL text, so no input can change
// what a statement does.
type ItemRepository struct {
	db *DB
}

var _ items.Repository = (*ItemRepository)(nil)

// Items returns the items repository on db.
func (db *DB) Items() *ItemRepository { return &ItemRepository{db: db} }

const itemColumns = `id, name, price, created_at, updated_at`

// Create implements items.Repository.
func (r *ItemRepository) Create(ctx context.Context, item items.Item) error {
	return r.db.call(ctx, func(ctx context.Context) error {
		_, err := r.db.pool.Exec(ctx,
			`INSERT INTO items (`+itemColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			item.ID, item.Name, item.Price, item.CreatedAt, item.UpdatedAt)
		return err
	})
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

// Update implements items.Repository.
func (r *ItemRepository) Update(ctx context.Context, item items.Item) (items.Item, error) {
	var stored items.Item
	err := r.db.call(ctx, func(ctx context.Context) error {
		rows, err := r.db.pool.Query(ctx,
			`UPDATE items SET name = $2, price = $3, updated_at = $4 WHERE id = $1 RETURNING `+itemColumns,
			item.ID, item.Name, item.Price, item.UpdatedAt)
		if err != nil {
			return err
		}
		stored, err = pgx.CollectExactlyOneRow(rows, scanItem)
		return err
	})
	return stored, err
}

// Delete implements items.Repository.
func (r *ItemRepository) Delete(ctx context.Context, id string) error {
	return r.db.call(ctx, func(ctx context.Context) error {
		tag, err := r.db.pool.Exec(ctx, `DELETE FROM items WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return items.ErrNotFound
		}
		return nil
	})
}

// scanItem reads one row of itemColumns. Timestamps come back in UTC, as the
// service wrote them.
func scanItem(row pgx.CollectableRow) (items.Item, error) {
	var it items.Item
	var created, updated time.Time
	if err := row.Scan(&it.ID, &it.Name, &it.Price, &created, &updated); err != nil {
		return items.Item{}, err
	}
	it.CreatedAt, it.UpdatedAt = created.UTC(), updated.UTC()
	return it, nil
}
