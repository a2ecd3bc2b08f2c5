package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/acme/billing/internal/items"
	"gitlab.com/acme/billing/internal/outbox"
)

// outboxRows returns the pending events as "type:item:version", in seq order.
func outboxRows(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.pool.Query(context.Background(), `SELECT event_type || ':' || item_id || ':' || item_version FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWritesStoreTheirEventInTheSameTransaction(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	nudges := 0
	repo := db.Items().WithNotify(func() { nudges++ })
	if _, _, err := repo.Create(ctx, newItem("A"), items.Idempotency{Key: "k", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, replayed, err := repo.Create(ctx, newItem("B"), items.Idempotency{Key: "k", TTL: time.Hour}); err != nil || !replayed {
		t.Fatalf("replay = %v, %v", replayed, err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "A", Name: "b", UpdatedAt: time.Now()}, 1); err != nil {
		t.Fatal(err)
	}
	// Failed writes: a stale update, a duplicate id, a name the table refuses.
	if _, err := repo.Update(ctx, items.Item{ID: "A", Name: "c", UpdatedAt: time.Now()}, 1); !errors.Is(err, items.ErrVersionMismatch) {
		t.Fatal(err)
	}
	if _, _, err := repo.Create(ctx, newItem("A"), items.Idempotency{}); err == nil {
		t.Fatal("duplicate create succeeded")
	}
	tooLong := newItem("Z")
	tooLong.Name = strings.Repeat("x", 300)
	if _, _, err := repo.Create(ctx, tooLong, items.Idempotency{}); err == nil {
		t.Fatal("the CHECK constraint did not refuse a 300-character name")
	}
	if err := repo.Delete(ctx, "A", 2); err != nil {
		t.Fatal(err)
	}
	want := "item.created:A:1,item.updated:A:2,item.deleted:A:3"
	if got := strings.Join(outboxRows(t, db), ","); got != want {
		t.Errorf("outbox = %s, want %s (one event per committed change, none for failed writes)", got, want)
	}
	if nudges != 3 {
		t.Errorf("%d nudges, want one per committed change", nudges)
	}

	// A transaction that rolls back after writing both leaves neither.
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		item := newItem("R")
		item.Version = 1
		if _, err := tx.Exec(ctx, `INSERT INTO items (`+itemColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			item.ID, item.Name, item.Price, item.CreatedAt, item.UpdatedAt, item.Version); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, items.EventCreated, item, item.UpdatedAt); err != nil {
			return err
		}
		return errors.New("the write fails after both")
	})
	if err == nil {
		t.Fatal("inTx returned nil for a failing function")
	}
	if _, err := repo.Get(ctx, "R"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("item of a rolled-back transaction: %v, want ErrNotFound", err)
	}
	if got := len(outboxRows(t, db)); got != 3 {
		t.Errorf("%d outbox rows after a rollback, want still 3", got)
	}

	// A create is one batch: when the outbox refuses its event, after the item's
	// INSERT succeeded, neither is stored, with or without an idempotency key.
	if _, err := db.pool.Exec(ctx, `ALTER TABLE outbox ADD CONSTRAINT refuse_s CHECK (item_id <> 'S')`); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "s"} {
		idem := items.Idempotency{Key: key, TTL: time.Hour}
		if _, _, err := repo.Create(ctx, newItem("S"), idem); err == nil {
			t.Fatalf("a create (key %q) whose event the outbox refuses succeeded", idem.Key)
		}
		if _, err := repo.Get(ctx, "S"); !errors.Is(err, items.ErrNotFound) {
			t.Errorf("item of a create (key %q) whose event failed: %v, want ErrNotFound", idem.Key, err)
		}
	}
	var keys int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE key = 's'`).Scan(&keys); err != nil || keys != 0 {
		t.Errorf("%d rows of the failed create's idempotency key (%v), want none", keys, err)
	}
	if got := len(outboxRows(t, db)); got != 3 || nudges != 3 {
		t.Errorf("%d outbox rows and %d nudges after the failed creates, want still 3 and 3", got, nudges)
	}
}

// orderedSender records the events it is sent, in the order Send calls finish
// recording them, after a short random delay so that relays overlap.
type orderedSender struct {
	mu   sync.Mutex
	got  []outbox.Event
	sent map[string]int // per relay name
}

type relaySender struct {
	*orderedSender
	name string
}

func (s relaySender) Send(_ context.Context, batch []outbox.Event) error {
	time.Sleep(time.Duration(rand.N(3000)) * time.Microsecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, batch...)
	s.sent[s.name] += len(batch)
	return nil
}

func TestTwoRelaysKeepEachItemsOrder(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	repo := db.Items()
	const itemsN, updates = 10, 5
	for i := range itemsN {
		id := fmt.Sprint("I", i)
		if _, _, err := repo.Create(ctx, newItem(id), items.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		for v := range updates {
			if _, err := repo.Update(ctx, items.Item{ID: id, Name: "x", UpdatedAt: time.Now()}, int64(v+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := itemsN * (updates + 1)
	rec := &orderedSender{sent: map[string]int{}}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, name := range []string{"one", "two"} {
		r := outbox.NewRelay(db.Outbox(), relaySender{rec, name},
			outbox.Settings{PollInterval: 10 * time.Millisecond, BatchSize: 4, PublishTimeout: 5 * time.Second},
			slog.New(slog.DiscardHandler))
		wg.Go(func() { r.Run(runCtx) })
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.got)
		rec.mu.Unlock()
		if n >= total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events published within 30s", n, total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	next := map[string]int64{}
	seen := map[string]bool{}
	for _, e := range rec.got {
		if seen[e.ID] {
			t.Errorf("event %s published twice", e.ID)
		}
		seen[e.ID] = true
		if e.Version != next[e.Key]+1 {
			t.Errorf("item %s: version %d published after %d", e.Key, e.Version, next[e.Key])
		}
		next[e.Key] = e.Version
	}
	if len(rec.got) != total {
		t.Errorf("published %d events, want %d", len(rec.got), total)
	}
	if left := outboxRows(t, db); len(left) != 0 {
		t.Errorf("%d events left in the outbox", len(left))
	}
	t.Logf("events per relay: %v", rec.sent)
}

func TestOneBusyItemGoesOutInFullBatches(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	repo := db.Items()
	if _, _, err := repo.Create(ctx, newItem("hot"), items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	for v := range 9 {
		if _, err := repo.Update(ctx, items.Item{ID: "hot", Name: "x", UpdatedAt: time.Now()}, int64(v+1)); err != nil {
			t.Fatal(err)
		}
	}
	store := db.Outbox()
	// While one relay holds the first batch, another finds nothing it may send.
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	var first []outbox.Event
	go func() {
		_, err := store.Claim(ctx, 5, func(_ context.Context, b []outbox.Event) error {
			first = b
			close(held)
			<-release
			return nil
		})
		done <- err
	}()
	<-held
	n, err := store.Claim(ctx, 5, func(_ context.Context, b []outbox.Event) error {
		t.Errorf("second relay was handed %d events of an item whose earlier events are in flight", len(b))
		return nil
	})
	if err != nil || n != 0 {
		t.Errorf("second Claim = %d, %v; want nothing", n, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var second []outbox.Event
	if _, err := store.Claim(ctx, 5, func(_ context.Context, b []outbox.Event) error { second = b; return nil }); err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, e := range append(first, second...) {
		versions = append(versions, e.Version)
	}
	if fmt.Sprint(versions) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Errorf("published versions %v in batches of %d and %d, want 1..10 in two full batches", versions, len(first), len(second))
	}
}

func TestFailedSendKeepsTheEventsPending(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	if _, _, err := db.Items().Create(ctx, newItem("A"), items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	store := db.Outbox()
	// A send that hangs until its deadline, as against a broker that never answers.
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := store.Claim(sctx, 10, func(ctx context.Context, _ []outbox.Event) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if err == nil {
		t.Fatal("Claim with a failing send returned nil")
	}
	n, oldest, err := store.Pending(ctx)
	if err != nil || n != 1 || time.Since(oldest) > time.Minute {
		t.Fatalf("Pending = %d, %v, %v; want the event kept", n, oldest, err)
	}
	var got []outbox.Event
	if n, err := store.Claim(ctx, 10, func(_ context.Context, b []outbox.Event) error { got = b; return nil }); err != nil || n != 1 {
		t.Fatalf("second Claim = %d, %v", n, err)
	}
	if got[0].Type != items.EventCreated || got[0].Key != "A" || got[0].Version != 1 || !strings.Contains(string(got[0].Data), `"version":1`) {
		t.Errorf("event = %+v / %s", got[0], got[0].Data)
	}
	if n, _, _ := store.Pending(ctx); n != 0 {
		t.Errorf("%d pending after a successful send", n)
	}
}
