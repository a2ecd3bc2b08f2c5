package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gitlab.com/acme/billing/internal/items"
)

// migrated opens a test database with every migration applied.
func migrated(t *testing.T) *DB {
	t.Helper()
	db := openTestDB(t)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func newItem(id string) items.Item {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return items.Item{ID: id, Name: "Widget " + id, Price: 100, CreatedAt: now, UpdatedAt: now}
}

func TestUpgradeFromTheFirstMigration(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	if n, err := db.migrate(ctx, 1); err != nil || n != 1 {
		t.Fatalf("migrate to 0001 = %d, %v", n, err)
	}
	// A row as the first release wrote it, without a version.
	if _, err := db.pool.Exec(ctx, `INSERT INTO items (id, name, price, created_at, updated_at) VALUES ('old', 'Old', 1, now(), now())`); err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	if n, err := db.Migrate(ctx); err != nil || n != len(ms)-1 {
		t.Fatalf("Migrate from 0001 = %d, %v; want the %d later migrations", n, err, len(ms)-1)
	}
	got, err := db.Items().Get(ctx, "old")
	if err != nil || got.Version != 1 || got.Name != "Old" {
		t.Fatalf("old item after the upgrade = %+v, %v; want it at version 1", got, err)
	}
	updated, err := db.Items().Update(ctx, items.Item{ID: "old", Name: "New", UpdatedAt: time.Now()}, 1)
	if err != nil || updated.Version != 2 {
		t.Errorf("Update of the old item at version 1 = %+v, %v", updated, err)
	}
}

func TestConditionalWrites(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	repo := db.Items()
	if _, _, err := repo.Create(ctx, newItem("A"), items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	v2, err := repo.Update(ctx, items.Item{ID: "A", Name: "b", UpdatedAt: time.Now()}, 1)
	if err != nil || v2.Version != 2 {
		t.Fatalf("Update at the current version = %+v, %v", v2, err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "A", Name: "c", UpdatedAt: time.Now()}, 1); !errors.Is(err, items.ErrVersionMismatch) {
		t.Errorf("Update at a stale version = %v, want ErrVersionMismatch", err)
	}
	if got, _ := repo.Get(ctx, "A"); got.Name != "b" || got.Version != 2 {
		t.Errorf("a stale Update changed the item: %+v", got)
	}
	if err := repo.Delete(ctx, "A", 1); !errors.Is(err, items.ErrVersionMismatch) {
		t.Errorf("Delete at a stale version = %v, want ErrVersionMismatch", err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "missing", Name: "x", UpdatedAt: time.Now()}, 1); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("conditional Update of a missing item = %v, want ErrNotFound", err)
	}

	// Concurrent writers that all read version 2: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 8 {
		wg.Go(func() {
			_, err := repo.Update(ctx, items.Item{ID: "A", Name: fmt.Sprint("w", i), UpdatedAt: time.Now()}, 2)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, items.ErrVersionMismatch):
				conflicts++
			default:
				t.Errorf("concurrent Update: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Errorf("%d updates won and %d conflicted, want 1 and 7", wins, conflicts)
	}
	if err := repo.Delete(ctx, "A", 3); err != nil {
		t.Errorf("Delete at the current version: %v", err)
	}
	if s := db.breaker.State(); s != "closed" {
		t.Errorf("breaker %s after conflicts: they are answers, not failures", s)
	}
}

func TestIdempotentCreate(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	repo := db.Items()
	idem := items.Idempotency{Key: "key-1", Fingerprint: [32]byte{1}, TTL: time.Hour}
	first, replayed, err := repo.Create(ctx, newItem("A"), idem)
	if err != nil || replayed || first.Version != 1 {
		t.Fatalf("first Create = %+v, %v, %v", first, replayed, err)
	}
	// The retry carries a new ID (the service makes one per request): it must not be used.
	again, replayed, err := repo.Create(ctx, newItem("B"), idem)
	if err != nil || !replayed || again != first {
		t.Errorf("retry = %+v, replayed %v, %v; want %+v replayed", again, replayed, err, first)
	}
	other := idem
	other.Fingerprint = [32]byte{2}
	if _, _, err := repo.Create(ctx, newItem("C"), other); !errors.Is(err, items.ErrIdempotencyKeyReused) {
		t.Errorf("same key, other body = %v, want ErrIdempotencyKeyReused", err)
	}
	if all, _ := repo.List(ctx, "", 10); len(all) != 1 {
		t.Errorf("%d items, want 1", len(all))
	}

	// A create still running holds the key: simulate one with the lock it takes.
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "idempotency_keys:key-2"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = repo.Create(ctx, newItem("D"), items.Idempotency{Key: "key-2", TTL: time.Hour})
	if !errors.Is(err, items.ErrIdempotencyKeyInFlight) {
		t.Errorf("Create while the key is in flight = %v, want ErrIdempotencyKeyInFlight", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("in-flight answer took %s, want it at once", took)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, replayed, err := repo.Create(ctx, newItem("D"), items.Idempotency{Key: "key-2", TTL: time.Hour}); err != nil || replayed {
		t.Errorf("Create after the first gave up = replayed %v, %v; want a new item", replayed, err)
	}

	// Expired keys are ignored, replaced and pruned.
	short := items.Idempotency{Key: "key-3", TTL: time.Millisecond}
	if _, _, err := repo.Create(ctx, newItem("E"), short); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if got, replayed, err := repo.Create(ctx, newItem("F"), short); err != nil || replayed || got.ID != "F" {
		t.Errorf("Create with an expired key = %s, replayed %v, %v; want a new item F", got.ID, replayed, err)
	}
	time.Sleep(20 * time.Millisecond)
	if n, err := db.PruneIdempotencyKeys(ctx); err != nil || n != 1 {
		t.Errorf("PruneIdempotencyKeys = %d, %v; want the 1 expired key", n, err)
	}
}

func TestConcurrentIdempotentCreatesMakeOneItem(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	repo := db.Items()
	idem := items.Idempotency{Key: "race", Fingerprint: [32]byte{9}, TTL: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]bool{}
	for i := range 8 {
		wg.Go(func() {
			got, _, err := repo.Create(ctx, newItem(fmt.Sprint("R", i)), idem)
			if errors.Is(err, items.ErrIdempotencyKeyInFlight) {
				return // the client retries later
			}
			if err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			mu.Lock()
			ids[got.ID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Errorf("concurrent creates with one key answered with items %v, want exactly one", ids)
	}
	if all, _ := repo.List(ctx, "", 100); len(all) != 1 {
		t.Errorf("%d items stored, want 1", len(all))
	}
}
