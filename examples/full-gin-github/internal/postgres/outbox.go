package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/outbox"
)

// OutboxStore is the outbox table as an outbox.Store: the events the item writes
// stored in their transactions, waiting for the relay.
type OutboxStore struct {
	db *DB
}

var _ outbox.Store = (*OutboxStore)(nil)

// Outbox returns the outbox store on db.
func (db *DB) Outbox() *OutboxStore { return &OutboxStore{db: db} }

// insertEventSQL stores an event in the outbox.
const insertEventSQL = `INSERT INTO outbox (event_id, event_type, item_id, item_version, occurred_at, traceparent, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`

// queueEvent queues the outbox row of a change on the batch that makes it.
func queueEvent(ctx context.Context, b *pgx.Batch, typ string, item items.Item, at time.Time) error {
	ev, err := items.NewEvent(ctx, typ, item, at)
	if err != nil {
		return err
	}
	b.Queue(insertEventSQL, ev.ID, ev.Type, ev.Key, ev.Version, ev.Time, ev.Traceparent, ev.Data)
	return nil
}

// insertEvent stores the event of a change in the change's transaction.
func insertEvent(ctx context.Context, tx pgx.Tx, typ string, item items.Item, at time.Time) error {
	ev, err := items.NewEvent(ctx, typ, item, at)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, insertEventSQL, ev.ID, ev.Type, ev.Key, ev.Version, ev.Time, ev.Traceparent, ev.Data)
	return err
}

// claimQuery locks the oldest pending events that no other relay holds (SKIP
// LOCKED lets replicas share the work instead of queueing on each other's rows)
// and keeps those that no earlier pending event of the same item precedes outside
// the locked set: such an event is being sent by another relay, so this item's
// later events must wait for it. An item's events thus go out in order whichever
// replica sends them, and a backlog of one busy item still goes out in full
// batches. (The locked set is every unlocked row up to the batch's last seq, so an
// earlier row missing from it is one another relay holds.) The dropped rows stay
// locked until the transaction ends, and are not deleted.
const claimQuery = `WITH locked AS (
		SELECT seq FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
	)
	SELECT o.seq, o.event_id::text, o.event_type, o.item_id, o.item_version, o.occurred_at, o.traceparent, o.data
	FROM outbox o JOIN locked USING (seq)
	WHERE NOT EXISTS (
		SELECT 1 FROM outbox e
		WHERE e.item_id = o.item_id AND e.seq < o.seq AND e.seq NOT IN (SELECT seq FROM locked)
	)
	ORDER BY o.seq`

// Claim implements outbox.Store. The claimed rows stay locked in a transaction
// while send runs and are deleted in it when send succeeds; if send fails, or the
// process dies, the transaction rolls back and the rows are pending again.
//
// The relay's database calls bypass the breaker: a broker failure inside send must
// not count against the database, and the relay backs off on its own. Until the
// migrations are applied there is no table and nothing to publish.
func (s *OutboxStore) Claim(ctx context.Context, limit int, send func(context.Context, []outbox.Event) error) (int, error) {
	if !s.db.Migrated() {
		return 0, nil
	}
	tx, err := s.beginClaim(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op after Commit

	events, seqs, err := s.pending(ctx, tx, limit)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	if err := send(ctx, events); err != nil {
		return 0, err
	}
	// The broker has the events: record that even if the relay is being stopped,
	// or they would be sent again.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.db.queryTimeout)
	defer cancel()
	if _, err := tx.Exec(qctx, `DELETE FROM outbox WHERE seq = ANY($1)`, seqs); err != nil {
		return 0, fmt.Errorf("outbox: delete sent events: %w", err)
	}
	if err := tx.Commit(qctx); err != nil {
		return 0, fmt.Errorf("outbox: commit sent events: %w", err)
	}
	return len(events), nil
}

func (s *OutboxStore) beginClaim(ctx context.Context) (pgx.Tx, error) {
	ctx, cancel := context.WithTimeout(ctx, s.db.queryTimeout)
	defer cancel()
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: begin: %w", err)
	}
	return tx, nil
}

func (s *OutboxStore) pending(ctx context.Context, tx pgx.Tx, limit int) ([]outbox.Event, []int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.db.queryTimeout)
	defer cancel()
	rows, err := tx.Query(ctx, claimQuery, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("outbox: claim: %w", err)
	}
	defer rows.Close()
	var (
		events []outbox.Event
		seqs   []int64
	)
	for rows.Next() {
		var (
			e   outbox.Event
			seq int64
		)
		if err := rows.Scan(&seq, &e.ID, &e.Type, &e.Key, &e.Version, &e.Time, &e.Traceparent, &e.Data); err != nil {
			return nil, nil, fmt.Errorf("outbox: read event: %w", err)
		}
		e.Time = e.Time.UTC()
		events = append(events, e)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("outbox: claim: %w", err)
	}
	return events, seqs, nil
}

// Pending implements outbox.Store.
func (s *OutboxStore) Pending(ctx context.Context) (int, time.Time, error) {
	if !s.db.Migrated() {
		return 0, time.Time{}, errors.New("outbox: schema migrations not applied yet")
	}
	ctx, cancel := context.WithTimeout(ctx, s.db.queryTimeout)
	defer cancel()
	var (
		n      int
		oldest *time.Time
	)
	if err := s.db.pool.QueryRow(ctx, `SELECT count(*), min(occurred_at) FROM outbox`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox: count pending: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, *oldest, nil
}
