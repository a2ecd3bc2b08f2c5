package items_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/outbox"
)

// drain returns the events queued in q, removing them.
func drain(t *testing.T, q *outbox.Memory) []outbox.Event {
	t.Helper()
	var got []outbox.Event
	_, err := q.Claim(context.Background(), 1000, func(_ context.Context, batch []outbox.Event) error {
		got = append(got, batch...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMemoryRepositoryQueuesAnEventPerChange(t *testing.T) {
	ctx := context.Background()
	q := outbox.NewMemory(100)
	nudges := 0
	repo := items.NewMemoryRepository(items.WithOutbox(q, func() { nudges++ }))
	created, _, err := repo.Create(ctx, items.Item{ID: "A", Name: "a"}, items.Idempotency{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "A", Name: "b"}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "A", Name: "c"}, 1); !errors.Is(err, items.ErrVersionMismatch) {
		t.Fatal("stale update succeeded")
	}
	if err := repo.Delete(ctx, "A", items.AnyVersion); err != nil {
		t.Fatal(err)
	}
	events := drain(t, q)
	var types []string
	for i, e := range events {
		types = append(types, e.Type)
		if e.Key != "A" || e.Version != int64(i+1) {
			t.Errorf("event %d = key %s version %d, want A and %d", i, e.Key, e.Version, i+1)
		}
	}
	if strings.Join(types, ",") != "item.created,item.updated,item.deleted" || nudges != 3 {
		t.Fatalf("events %v with %d nudges; want one per successful change (the stale update none)", types, nudges)
	}
	var data items.Item
	if err := json.Unmarshal(events[0].Data, &data); err != nil || data != created {
		t.Errorf("created event data = %s, want the item as the API returns it", events[0].Data)
	}
	if string(events[2].Data) != "null" {
		t.Errorf("deleted event data = %s, want null", events[2].Data)
	}
}

func TestMemoryRepositoryRefusesWritesWhenTheQueueIsFull(t *testing.T) {
	ctx := context.Background()
	q := outbox.NewMemory(1)
	repo := items.NewMemoryRepository(items.WithOutbox(q, nil))
	if _, _, err := repo.Create(ctx, items.Item{ID: "A", Name: "a"}, items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := repo.Create(ctx, items.Item{ID: "B", Name: "b"}, items.Idempotency{}); !errors.Is(err, items.ErrUnavailable) {
		t.Fatalf("Create with a full queue = %v, want ErrUnavailable", err)
	}
	if _, err := repo.Get(ctx, "B"); !errors.Is(err, items.ErrNotFound) {
		t.Error("a write whose event could not be queued was stored")
	}
}
