package items_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/hello/internal/items"
)

// recordingPublisher keeps the events it was given and fails when err is set.
type recordingPublisher struct {
	mu     sync.Mutex
	events []items.Event
	err    error
}

func (p *recordingPublisher) Publish(_ context.Context, e items.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	return p.err
}

func (p *recordingPublisher) types() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.events {
		out = append(out, string(e.Type))
	}
	return out
}

// unavailableRepo fails every call the way a repository behind an open breaker does.
type unavailableRepo struct{}

func (unavailableRepo) Create(context.Context, items.Item) error { return items.ErrUnavailable }
func (unavailableRepo) Get(context.Context, string) (items.Item, error) {
	return items.Item{}, items.ErrUnavailable
}
func (unavailableRepo) List(context.Context, string, int) ([]items.Item, error) {
	return nil, items.ErrUnavailable
}
func (unavailableRepo) Update(context.Context, items.Item) (items.Item, error) {
	return items.Item{}, items.ErrUnavailable
}
func (unavailableRepo) Delete(context.Context, string) error { return items.ErrUnavailable }

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestServiceCreate(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	pub := &recordingPublisher{}
	svc := items.NewService(items.NewMemoryRepository(), items.WithClock(fixedClock(now)), items.WithPublisher(pub))

	item, err := svc.Create(ctx, items.Input{Name: "  Widget  ", Price: 1999})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(item.ID) != 26 {
		t.Errorf("ID %q: want 26 characters from crypto/rand.Text", item.ID)
	}
	wantTime := now.UTC().Truncate(time.Microsecond)
	if item.Name != "Widget" || item.Price != 1999 || !item.CreatedAt.Equal(wantTime) || item.UpdatedAt != item.CreatedAt {
		t.Errorf("Create = %+v, want trimmed name, price 1999 and UTC microsecond timestamps %v", item, wantTime)
	}
	if item.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", item.CreatedAt.Location())
	}
	got, err := svc.Get(ctx, item.ID)
	if err != nil || got != item {
		t.Errorf("Get = %+v, %v; want %+v", got, err, item)
	}
	other, _ := svc.Create(ctx, items.Input{Name: "Other", Price: 1})
	if other.ID == item.ID {
		t.Error("two items got the same ID")
	}
	if len(pub.events) != 2 || pub.events[0].Type != items.EventCreated || pub.events[0].Item != item {
		t.Errorf("events = %+v, want item.created for each item", pub.events)
	}
}

func TestServiceCreateValidates(t *testing.T) {
	pub := &recordingPublisher{}
	repo := items.NewMemoryRepository()
	svc := items.NewService(repo, items.WithPublisher(pub))
	_, err := svc.Create(context.Background(), items.Input{Name: " ", Price: -1})
	var verr *items.ValidationError
	if !errors.As(err, &verr) || len(verr.Fields) != 2 {
		t.Fatalf("Create = %v, want a ValidationError for name and price", err)
	}
	if all, _ := repo.List(context.Background(), "", 10); len(all) != 0 || len(pub.events) != 0 {
		t.Error("an invalid item was stored or announced")
	}
}

func TestServiceUpdateAndDelete(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pub := &recordingPublisher{}
	svc := items.NewService(items.NewMemoryRepository(),
		items.WithClock(func() time.Time { return clock }), items.WithPublisher(pub))

	item, err := svc.Create(ctx, items.Input{Name: "Widget", Price: 100})
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	updated, err := svc.Update(ctx, item.ID, items.Input{Name: "Gadget", Price: 200})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Name != "Gadget" || updated.Price != 200 || !updated.CreatedAt.Equal(item.CreatedAt) || !updated.UpdatedAt.Equal(clock) {
		t.Errorf("Update = %+v", updated)
	}
	var verr *items.ValidationError
	if _, err := svc.Update(ctx, item.ID, items.Input{Name: "", Price: 1}); !errors.As(err, &verr) {
		t.Errorf("Update with empty name = %v, want ValidationError", err)
	}
	if err := svc.Delete(ctx, item.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := svc.Get(ctx, item.ID); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if _, err := svc.Update(ctx, item.ID, items.Input{Name: "x", Price: 1}); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Update of deleted item = %v, want ErrNotFound", err)
	}
	if err := svc.Delete(ctx, item.ID); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Delete of deleted item = %v, want ErrNotFound", err)
	}
	if got := strings.Join(pub.types(), ","); got != "item.created,item.updated,item.deleted" {
		t.Errorf("events = %s", got)
	}
	if last := pub.events[2]; last.Item.ID != item.ID {
		t.Errorf("delete event item = %+v, want ID %s", last.Item, item.ID)
	}
}

func TestServiceList(t *testing.T) {
	ctx := context.Background()
	svc := items.NewService(items.NewMemoryRepository())
	for range 5 {
		if _, err := svc.Create(ctx, items.Input{Name: "x", Price: 1}); err != nil {
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
	_, errCreate := svc.Create(ctx, items.Input{Name: "x", Price: 1})
	_, errGet := svc.Get(ctx, "id")
	_, errList := svc.List(ctx, "", 1)
	_, errUpdate := svc.Update(ctx, "id", items.Input{Name: "x", Price: 1})
	errDelete := svc.Delete(ctx, "id")
	for i, err := range []error{errCreate, errGet, errList, errUpdate, errDelete} {
		if !errors.Is(err, items.ErrUnavailable) {
			t.Errorf("call %d: %v, want ErrUnavailable", i, err)
		}
	}
}

func TestServicePublishFailureIsLoggedNotReturned(t *testing.T) {
	var logs bytes.Buffer
	pub := &recordingPublisher{err: errors.New("broker down")}
	svc := items.NewService(items.NewMemoryRepository(), items.WithPublisher(pub),
		items.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	item, err := svc.Create(context.Background(), items.Input{Name: "Widget", Price: 1})
	if err != nil {
		t.Fatalf("Create failed because publishing failed: %v", err)
	}
	if _, err := svc.Get(context.Background(), item.ID); err != nil {
		t.Errorf("item not stored: %v", err)
	}
	if !strings.Contains(logs.String(), "broker down") || !strings.Contains(logs.String(), item.ID) {
		t.Errorf("log %q does not record the failed event", logs.String())
	}
}
