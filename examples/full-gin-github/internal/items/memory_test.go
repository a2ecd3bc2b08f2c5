package items_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acme/orders-api/internal/items"
)

func TestMemoryRepositoryCRUD(t *testing.T) {
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	item := items.Item{ID: "A1", Name: "Widget", Price: 100, CreatedAt: created, UpdatedAt: created, Version: 1}

	if stored, replayed, err := repo.Create(ctx, item, items.Idempotency{}); err != nil || replayed || stored != item {
		t.Fatalf("Create = %+v, %v, %v; want the item at version 1", stored, replayed, err)
	}
	if _, _, err := repo.Create(ctx, item, items.Idempotency{}); err == nil {
		t.Error("Create accepted a duplicate id")
	}
	got, err := repo.Get(ctx, "A1")
	if err != nil || got != item {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, item)
	}

	later := created.Add(time.Hour)
	updated, err := repo.Update(ctx, items.Item{ID: "A1", Name: "Gadget", Price: 250, UpdatedAt: later}, items.AnyVersion)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := items.Item{ID: "A1", Name: "Gadget", Price: 250, CreatedAt: created, UpdatedAt: later, Version: 2}
	if updated != want {
		t.Errorf("Update = %+v, want %+v (CreatedAt must be kept)", updated, want)
	}
	if got, _ := repo.Get(ctx, "A1"); got != want {
		t.Errorf("Get after Update = %+v, want %+v", got, want)
	}

	if err := repo.Delete(ctx, "A1", items.AnyVersion); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := repo.Get(ctx, "A1"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := repo.Delete(ctx, "A1", items.AnyVersion); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "A1", Name: "x"}, items.AnyVersion); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Update of missing item = %v, want ErrNotFound", err)
	}
}

func TestMemoryRepositoryListIsKeysetOrdered(t *testing.T) {
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	// Inserted out of order: List must return them sorted by ID.
	for _, id := range []string{"C", "A", "E", "B", "D"} {
		if _, _, err := repo.Create(ctx, items.Item{ID: id, Name: id}, items.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		after string
		limit int
		want  string
	}{
		{"", 2, "AB"},
		{"B", 2, "CD"},
		{"D", 2, "E"},
		{"E", 2, ""},
		{"BB", 10, "CDE"}, // a cursor that is not a stored ID still works
		{"", 0, ""},
	}
	for _, tt := range tests {
		got, err := repo.List(ctx, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("List(%q, %d): %v", tt.after, tt.limit, err)
		}
		var ids string
		for _, it := range got {
			ids += it.ID
		}
		if ids != tt.want {
			t.Errorf("List(%q, %d) = %q, want %q", tt.after, tt.limit, ids, tt.want)
		}
	}
}

func TestMemoryRepositoryHonoursContext(t *testing.T) {
	repo := items.NewMemoryRepository()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]error{
		"Delete": repo.Delete(ctx, "A", items.AnyVersion),
	}
	_, _, calls["Create"] = repo.Create(ctx, items.Item{ID: "A"}, items.Idempotency{})
	_, calls["Get"] = repo.Get(ctx, "A")
	_, calls["List"] = repo.List(ctx, "", 1)
	_, calls["Update"] = repo.Update(ctx, items.Item{ID: "A"}, items.AnyVersion)
	for name, err := range calls {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with cancelled context = %v, want context.Canceled", name, err)
		}
	}
}

func TestMemoryRepositoryConcurrentUse(t *testing.T) {
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	done := make(chan error)
	for w := range 4 {
		go func() {
			for i := range 50 {
				id := fmt.Sprintf("%d-%03d", w, i)
				if _, _, err := repo.Create(ctx, items.Item{ID: id, Name: id}, items.Idempotency{}); err != nil {
					done <- err
					return
				}
				if _, err := repo.List(ctx, "", 10); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	all, _ := repo.List(ctx, "", 1000)
	if len(all) != 200 {
		t.Errorf("stored %d items, want 200", len(all))
	}
}

func TestMemoryRepositoryVersionCheck(t *testing.T) {
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	if _, _, err := repo.Create(ctx, items.Item{ID: "A", Name: "a"}, items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	v2, err := repo.Update(ctx, items.Item{ID: "A", Name: "b"}, 1)
	if err != nil || v2.Version != 2 {
		t.Fatalf("Update at the current version = %+v, %v; want version 2", v2, err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "A", Name: "c"}, 1); !errors.Is(err, items.ErrVersionMismatch) {
		t.Errorf("Update at a stale version = %v, want ErrVersionMismatch", err)
	}
	if got, _ := repo.Get(ctx, "A"); got.Name != "b" || got.Version != 2 {
		t.Errorf("a stale Update changed the item: %+v", got)
	}
	if err := repo.Delete(ctx, "A", 1); !errors.Is(err, items.ErrVersionMismatch) {
		t.Errorf("Delete at a stale version = %v, want ErrVersionMismatch", err)
	}
	if err := repo.Delete(ctx, "A", 2); err != nil {
		t.Errorf("Delete at the current version: %v", err)
	}
}

func TestMemoryRepositoryIdempotency(t *testing.T) {
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	idem := items.Idempotency{Key: "k1", Fingerprint: [32]byte{1}, TTL: time.Hour}
	first, replayed, err := repo.Create(ctx, items.Item{ID: "A", Name: "a"}, idem)
	if err != nil || replayed {
		t.Fatalf("first Create = %v, replayed %v", err, replayed)
	}
	again, replayed, err := repo.Create(ctx, items.Item{ID: "B", Name: "a"}, idem)
	if err != nil || !replayed || again != first {
		t.Errorf("retry = %+v, %v, %v; want the first item replayed", again, replayed, err)
	}
	other := idem
	other.Fingerprint = [32]byte{2}
	if _, _, err := repo.Create(ctx, items.Item{ID: "C", Name: "a"}, other); !errors.Is(err, items.ErrIdempotencyKeyReused) {
		t.Errorf("same key, other body = %v, want ErrIdempotencyKeyReused", err)
	}
	if all, _ := repo.List(ctx, "", 10); len(all) != 1 {
		t.Errorf("%d items stored, want 1: retries must not create items", len(all))
	}

	expiring := items.Idempotency{Key: "k2", TTL: time.Nanosecond}
	if _, _, err := repo.Create(ctx, items.Item{ID: "D", Name: "d"}, expiring); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if _, replayed, err := repo.Create(ctx, items.Item{ID: "E", Name: "e"}, expiring); err != nil || replayed {
		t.Errorf("Create with an expired key = replayed %v, %v; want a new item", replayed, err)
	}
}

func TestMemoryRepositoryIdempotencyIsBounded(t *testing.T) {
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	for i := range items.MemoryIdempotencyLimit + 10 {
		idem := items.Idempotency{Key: fmt.Sprint("k", i), TTL: time.Hour}
		if _, _, err := repo.Create(ctx, items.Item{ID: fmt.Sprint(i), Name: "x"}, idem); err != nil {
			t.Fatal(err)
		}
	}
	// The oldest key was forgotten to make room: it creates a new item again.
	if _, replayed, _ := repo.Create(ctx, items.Item{ID: "new", Name: "x"}, items.Idempotency{Key: "k0", TTL: time.Hour}); replayed {
		t.Error("the oldest key was kept past the limit")
	}
	last := fmt.Sprint("k", items.MemoryIdempotencyLimit+9)
	if _, replayed, _ := repo.Create(ctx, items.Item{ID: "new2", Name: "x"}, items.Idempotency{Key: last, TTL: time.Hour}); !replayed {
		t.Error("the newest key was forgotten")
	}
}
