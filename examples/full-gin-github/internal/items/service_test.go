package items_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acme/orders-api/internal/items"
)

// unavailableRepo fails every call the way a repository behind an open breaker does.
type unavailableRepo struct{}

func (unavailableRepo) Create(context.Context, items.Item, items.Idempotency) (items.Item, bool, error) {
	return items.Item{}, false, items.ErrUnavailable
}
func (unavailableRepo) Get(context.Context, string) (items.Item, error) {
	return items.Item{}, items.ErrUnavailable
}
func (unavailableRepo) List(context.Context, string, int) ([]items.Item, error) {
	return nil, items.ErrUnavailable
}
func (unavailableRepo) Update(context.Context, items.Item, int64) (items.Item, error) {
	return items.Item{}, items.ErrUnavailable
}
func (unavailableRepo) Delete(context.Context, string, int64) error { return items.ErrUnavailable }

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestServiceCreate(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	svc := items.NewService(items.NewMemoryRepository(), items.WithClock(fixedClock(now)))

	item, _, err := svc.Create(ctx, items.Input{Name: "  Widget  ", Price: 1999}, items.Idempotency{})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(item.ID) != 26 {
		t.Errorf("ID %q: want 26 characters from crypto/rand.Text", item.ID)
	}
	wantTime := now.UTC().Truncate(time.Microsecond)
	if item.Name != "Widget" || item.Price != 1999 || item.Version != 1 || !item.CreatedAt.Equal(wantTime) || item.UpdatedAt != item.CreatedAt {
		t.Errorf("Create = %+v, want trimmed name, price 1999 and UTC microsecond timestamps %v at version 1", item, wantTime)
	}
	if item.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", item.CreatedAt.Location())
	}
	got, err := svc.Get(ctx, item.ID)
	if err != nil || got != item {
		t.Errorf("Get = %+v, %v; want %+v", got, err, item)
	}
	other, _, _ := svc.Create(ctx, items.Input{Name: "Other", Price: 1}, items.Idempotency{})
	if other.ID == item.ID {
		t.Error("two items got the same ID")
	}
}

func TestServiceCreateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	svc := items.NewService(items.NewMemoryRepository(), items.WithIdempotencyTTL(time.Hour))
	idem := items.Idempotency{Key: "retry-me", Fingerprint: [32]byte{7}}
	first, replayed, err := svc.Create(ctx, items.Input{Name: "Widget", Price: 1}, idem)
	if err != nil || replayed {
		t.Fatalf("first Create = %v, replayed %v", err, replayed)
	}
	again, replayed, err := svc.Create(ctx, items.Input{Name: "Widget", Price: 1}, idem)
	if err != nil || !replayed || again.ID != first.ID {
		t.Errorf("retry = %s, replayed %v, %v; want %s replayed", again.ID, replayed, err, first.ID)
	}
	idem.Fingerprint = [32]byte{8}
	if _, _, err := svc.Create(ctx, items.Input{Name: "Widget", Price: 2}, idem); !errors.Is(err, items.ErrIdempotencyKeyReused) {
		t.Errorf("reused key = %v, want ErrIdempotencyKeyReused", err)
	}
}

func TestServiceCreateValidates(t *testing.T) {
	repo := items.NewMemoryRepository()
	svc := items.NewService(repo)
	_, _, err := svc.Create(context.Background(), items.Input{Name: " ", Price: -1}, items.Idempotency{})
	var verr *items.ValidationError
	if !errors.As(err, &verr) || len(verr.Fields) != 2 {
		t.Fatalf("Create = %v, want a ValidationError for name and price", err)
	}
	if all, _ := repo.List(context.Background(), "", 10); len(all) != 0 {
		t.Error("an invalid item was stored")
	}
}

func TestServiceUpdateAndDelete(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := items.NewService(items.NewMemoryRepository(), items.WithClock(func() time.Time { return clock }))

	item, _, err := svc.Create(ctx, items.Input{Name: "Widget", Price: 100}, items.Idempotency{})
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	updated, err := svc.Update(ctx, item.ID, items.Input{Name: "Gadget", Price: 200}, item.Version)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Name != "Gadget" || updated.Price != 200 || !updated.CreatedAt.Equal(item.CreatedAt) || !updated.UpdatedAt.Equal(clock) || updated.Version != 2 {
		t.Errorf("Update = %+v", updated)
	}
	var verr *items.ValidationError
	if _, err := svc.Update(ctx, item.ID, items.Input{Name: "", Price: 1}, items.AnyVersion); !errors.As(err, &verr) {
		t.Errorf("Update with empty name = %v, want ValidationError", err)
	}
	if _, err := svc.Update(ctx, item.ID, items.Input{Name: "Stale", Price: 1}, item.Version); !errors.Is(err, items.ErrVersionMismatch) {
		t.Errorf("Update at a stale version = %v, want ErrVersionMismatch", err)
	}
	if err := svc.Delete(ctx, item.ID, item.Version); !errors.Is(err, items.ErrVersionMismatch) {
		t.Errorf("Delete at a stale version = %v, want ErrVersionMismatch", err)
	}
	if err := svc.Delete(ctx, item.ID, updated.Version); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := svc.Get(ctx, item.ID); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if _, err := svc.Update(ctx, item.ID, items.Input{Name: "x", Price: 1}, items.AnyVersion); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Update of deleted item = %v, want ErrNotFound", err)
	}
	if err := svc.Delete(ctx, item.ID, items.AnyVersion); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Delete of deleted item = %v, want ErrNotFound", err)
	}
}

func TestServiceList(t *testing.T) {
	ctx := context.Background()
	svc := items.NewService(items.NewMemoryRepository())
	for range 5 {
		if _, _, err := svc.Create(ctx, items.Input{Name: "x", Price: 1}, items.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging did not end")
		}
		page, err := svc.List(ctx, after, 2)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, it := range page.Items {
			seen = append(seen, it.ID)
		}
		if page.Next == "" {
			if len(page.Items) != 1 {
				t.Errorf("last page has %d items, want 1", len(page.Items))
			}
			break
		}
		if len(page.Items) != 2 || page.Next != page.Items[1].ID {
			t.Errorf("page = %+v, want 2 items and Next = last ID", page)
		}
		after = page.Next
	}
	if len(seen) != 5 {
		t.Errorf("paging saw %d items, want 5", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i-1] >= seen[i] {
			t.Errorf("items not in ID order: %v", seen)
		}
	}
	// Exactly a full page: no Next, because nothing follows.
	page, err := svc.List(ctx, "", 5)
	if err != nil || len(page.Items) != 5 || page.Next != "" {
		t.Errorf("List(limit=5) = %d items, next %q, %v; want 5 items and no next", len(page.Items), page.Next, err)
	}
	for _, limit := range []int{0, -1, items.MaxPageSize + 1} {
		var verr *items.ValidationError
		if _, err := svc.List(ctx, "", limit); !errors.As(err, &verr) || verr.Fields[0].Field != "limit" {
			t.Errorf("List(limit=%d) = %v, want a ValidationError on limit", limit, err)
		}
	}
}

func TestServicePassesUnavailableThrough(t *testing.T) {
	ctx := context.Background()
	svc := items.NewService(unavailableRepo{})
	_, _, errCreate := svc.Create(ctx, items.Input{Name: "x", Price: 1}, items.Idempotency{})
	_, errGet := svc.Get(ctx, "id")
	_, errList := svc.List(ctx, "", 1)
	_, errUpdate := svc.Update(ctx, "id", items.Input{Name: "x", Price: 1}, items.AnyVersion)
	errDelete := svc.Delete(ctx, "id", items.AnyVersion)
	for i, err := range []error{errCreate, errGet, errList, errUpdate, errDelete} {
		if !errors.Is(err, items.ErrUnavailable) {
			t.Errorf("call %d: %v, want ErrUnavailable", i, err)
		}
	}
}
