package cache

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/items"
)

// redisURL returns REDIS_URL, or skips the test without it. Under CI=true a
// skipped integration test would hide a broken pipeline, so it fails instead.
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REDIS_URL is not set; with CI=true the Redis integration tests must run")
		}
		t.Skip("REDIS_URL is not set: skipping the Redis integration test")
	}
	return u
}

func open(t *testing.T, rawURL string, set breaker.Settings) *Client {
	t.Helper()
	cfg := config.Redis{
		URL: rawURL, Timeout: time.Second, TTL: time.Minute,
		// A key prefix of its own keeps concurrent test runs (of this service or
		// another) from seeing each other's keys.
		KeyPrefix: "test:" + rand.Text() + ":",
		Breaker:   set,
	}
	c, err := Open(cfg, breaker.New("redis", set), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// openRedis opens a client on REDIS_URL and deletes the test's keys at the end.
func openRedis(t *testing.T) *Client {
	t.Helper()
	c := open(t, redisURL(t), breaker.Settings{Failures: 5, OpenTimeout: time.Second})
	t.Cleanup(func() { // runs before the Close registered by open
		ctx := context.Background()
		keys, err := c.rdb.Keys(ctx, c.prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = c.rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("deleting the test's keys: %v", err)
		}
	})
	return c
}

// countingRepo counts the Get calls that reach the repository.
type countingRepo struct {
	items.Repository
	gets atomic.Int32
}

func (r *countingRepo) Get(ctx context.Context, id string) (items.Item, error) {
	r.gets.Add(1)
	return r.Repository.Get(ctx, id)
}

func newItem(id, name string) items.Item {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return items.Item{ID: id, Name: name, Price: 100, CreatedAt: now, UpdatedAt: now}
}

func TestCacheAside(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	repo := &countingRepo{Repository: items.NewMemoryRepository()}
	cached := c.Items(repo)

	item := newItem("A1", "Widget")
	if err := cached.Create(ctx, item); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := cached.Get(ctx, "A1")
		if err != nil || got.Name != "Widget" || !got.CreatedAt.Equal(item.CreatedAt) {
			t.Fatalf("Get %d = %+v, %v", i+1, got, err)
		}
	}
	if n := repo.gets.Load(); n != 1 {
		t.Errorf("repository read %d times for 3 Gets, want 1 (then cache hits)", n)
	}
	ttl, err := c.rdb.TTL(ctx, c.key("items:A1")).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("cached entry TTL = %s, %v; want up to 1m", ttl, err)
	}

	// A write invalidates: the next read sees the new state.
	if _, err := cached.Update(ctx, items.Item{ID: "A1", Name: "Gadget", Price: 5, UpdatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if got, err := cached.Get(ctx, "A1"); err != nil || got.Name != "Gadget" {
		t.Fatalf("Get after Update = %+v, %v; want the new name", got, err)
	}
	if n := repo.gets.Load(); n != 2 {
		t.Errorf("repository reads = %d, want 2 (the update invalidated the entry)", n)
	}
	if err := cached.Delete(ctx, "A1"); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Get(ctx, "A1"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if _, err := cached.Get(ctx, "missing"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get of a missing id = %v, want ErrNotFound", err)
	}
	if err := c.Check(ctx); err != nil {
		t.Errorf("Check with Redis up: %v", err)
	}
	if s := c.breaker.State(); s != "closed" {
		t.Errorf("breaker %s after cache misses, want closed: a missing key is not a failure", s)
	}
}

func TestUnreadableEntryIsReplaced(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	if err := repo.Create(ctx, newItem("B1", "Widget")); err != nil {
		t.Fatal(err)
	}
	if err := c.rdb.Set(ctx, c.key("items:B1"), "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Items(repo).Get(ctx, "B1"); err != nil || got.Name != "Widget" {
		t.Fatalf("Get over an unreadable entry = %+v, %v", got, err)
	}
	if raw, _ := c.rdb.Get(ctx, c.key("items:B1")).Result(); !strings.Contains(raw, "Widget") {
		t.Errorf("entry not replaced: %q", raw)
	}
}

// TestRedisDownServesFromRepository injects a failing dependency — a Redis address
// where nothing listens — and checks that every operation still succeeds from the
// repository, and that once the breaker opens the cache is skipped without waiting.
func TestRedisDownServesFromRepository(t *testing.T) {
	c := open(t, "redis://127.0.0.1:1", breaker.Settings{Failures: 2, OpenTimeout: time.Hour})
	ctx := context.Background()
	repo := &countingRepo{Repository: items.NewMemoryRepository()}
	cached := c.Items(repo)
	if err := cached.Create(ctx, newItem("C1", "Widget")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got, err := cached.Get(ctx, "C1"); err != nil || got.Name != "Widget" {
			t.Fatalf("Get %d with Redis down = %+v, %v", i+1, got, err)
		}
	}
	if s := c.breaker.State(); s != "open" {
		t.Fatalf("breaker %s, want open", s)
	}
	start := time.Now()
	if _, err := cached.Update(ctx, items.Item{ID: "C1", Name: "Gadget", UpdatedAt: time.Now()}); err != nil {
		t.Fatalf("Update with Redis down: %v", err)
	}
	if got, err := cached.Get(ctx, "C1"); err != nil || got.Name != "Gadget" {
		t.Fatalf("Get after Update = %+v, %v", got, err)
	}
	if err := cached.Delete(ctx, "C1"); err != nil {
		t.Fatalf("Delete with Redis down: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond {
		t.Errorf("calls with the breaker open took %s, want no waiting on Redis", elapsed)
	}
	if n := repo.gets.Load(); n != 4 {
		t.Errorf("repository reads = %d, want every Get served by it (4)", n)
	}
	if err := c.Check(ctx); err == nil || err.Error() != "circuit breaker open" {
		t.Errorf("Check = %v, want \"circuit breaker open\"", err)
	}
}

func TestOpenRejectsBadURLWithoutEchoingIt(t *testing.T) {
	_, err := Open(config.Redis{URL: "redis://:s3cret@host:port/x"}, breaker.New("redis", breaker.Settings{}), slog.New(slog.DiscardHandler))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open = %v, want an error that does not show the password", err)
	}
}
