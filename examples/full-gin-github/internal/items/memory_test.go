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
	item := items.Item{ID: "A1", Name: "Widget", Price: 100, CreatedAt: created, UpdatedAt: created}

	if err := repo.Create(ctx, item); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := repo.Create(ctx, item); err == nil {
		t.Error("Create accepted a duplicate id")
	}
	got, err := repo.Get(ctx, "A1")
	if err != nil || got != item {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, item)
	}

	later := created.Add(time.Hour)
	updated, err := repo.Update(ctx, items.Item{ID: "A1", Name: "Gadget", Price: 250, UpdatedAt: later})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := items.Item{ID: "A1", Name: "Gadget", Price: 250, CreatedAt: created, UpdatedAt: later}
	if updated != want {
		t.Errorf("Update = %+v, want %+v (CreatedAt must be kept)", updated, want)
	}
	if got, _ := repo.Get(ctx, "A1"); got != want {
		t.Errorf("Get after Update = %+v, want %+v", got, want)
	}

	if err := repo.Delete(ctx, "A1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := repo.Get(ctx, "A1"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := repo.Delete(ctx, "A1"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "A1", Name: "x"}); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Update of missing item = %v, want ErrNotFound", err)
	}
}

func TestMemoryRepositoryListIsKeysetOrdered(t *testing.T) {
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	// Inserted out of order: List must return them sorted by ID.
	for _, id := range []string{"C", "A", "E", "B", "D"} {
		if err := repo.Create(ctx, items.Item{ID: id, Name: id}); err != nil {
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
		"Create": repo.Create(ctx, items.Item{ID: "A"}),
		"Delete": repo.Delete(ctx, "A"),
	}
	_, calls["Get"] = repo.Get(ctx, "A")
	_, calls["List"] = repo.List(ctx, "", 1)
	_, calls["Update"] = repo.Update(ctx, items.Item{ID: "A"})
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
				if err := repo.Create(ctx, items.Item{ID: id, Name: id}); err != nil {
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
