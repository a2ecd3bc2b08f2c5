package cache

import (
	"context"
	"testing"
	"time"

	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/items"
)

// reads counts what a Client reports to its Metrics.
type reads struct{ hit, miss, err, bypass int }

func (r *reads) Hit()    { r.hit++ }
func (r *reads) Miss()   { r.miss++ }
func (r *reads) Error()  { r.err++ }
func (r *reads) Bypass() { r.bypass++ }

// TestReadOutcomesAreCounted checks what every item read reports: a miss then
// hits against Redis; with Redis gone, errors until the breaker opens, then
// bypasses that do not ask it.
func TestReadOutcomesAreCounted(t *testing.T) {
	ctx := context.Background()

	c := openRedis(t)
	got := &reads{}
	c.metrics = got
	cached := c.Items(items.NewMemoryRepository())
	seed(t, cached, "M1", "Widget")
	for range 3 {
		if _, err := cached.Get(ctx, "M1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cached.Get(ctx, "missing"); err == nil {
		t.Fatal("Get of a missing item succeeded")
	}
	if want := (reads{hit: 2, miss: 2}); *got != want {
		t.Errorf("reads with Redis up = %+v, want %+v", *got, want)
	}

	down := open(t, "redis://127.0.0.1:1", breaker.Settings{Failures: 2, OpenTimeout: time.Hour})
	got = &reads{}
	down.metrics = got
	repo := items.NewMemoryRepository()
	seed(t, repo, "M2", "Widget") // straight into the repository: no cache call yet
	cached = down.Items(repo)
	for range 4 {
		if _, err := cached.Get(ctx, "M2"); err != nil {
			t.Fatal(err)
		}
	}
	if want := (reads{err: 2, bypass: 2}); *got != want {
		t.Errorf("reads with Redis down = %+v, want %+v", *got, want)
	}
}
