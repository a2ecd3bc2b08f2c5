package cache

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/logging"
	"github.com/acme/orders-api/internal/requestid"
)

// redisURL returns REDIS_URL, or skips the test without it. Under CI=true a
// skipped integration test would hide a broken pipeline, so it fails instead.
func redisURL(t testing.TB) string {
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

// open opens a client on rawURL with a key prefix of its own; opts adjust the
// configuration.
func open(t testing.TB, rawURL string, set breaker.Settings, opts ...func(*config.Redis)) *Client {
	t.Helper()
	cfg := config.Redis{
		URL: rawURL, Timeout: time.Second, TTL: time.Minute,
		// A key prefix of its own keeps concurrent test runs (of this service or
		// another) from seeing each other's keys.
		KeyPrefix: testPrefix(),
		Breaker:   set,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	c, err := Open(cfg, breaker.New("redis", set), discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix is a key prefix of its own for one test.
func testPrefix() string { return "test:" + rand.Text() + ":" }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openRedis opens a client on REDIS_URL and deletes the test's keys at the end.
func openRedis(t testing.TB) *Client {
	t.Helper()
	c := open(t, redisURL(t), breaker.Settings{Failures: 5, OpenTimeout: time.Second})
	deleteKeysAtCleanup(t, c)
	return c
}

// deleteKeysAtCleanup deletes c's keys at the end of the test, before c closes.
func deleteKeysAtCleanup(t testing.TB, c *Client) {
	t.Helper()
	t.Cleanup(func() { // runs before the Close registered earlier
		ctx := context.Background()
		keys, err := c.rdb.Keys(ctx, c.prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = c.rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("deleting the test's keys: %v", err)
		}
	})
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

// create, update and remove are the writes of the tests added with leased fills,
// in one place: they follow items.Repository's write signatures.
func create(ctx context.Context, r items.Repository, item items.Item) error {
	_, _, err := r.Create(ctx, item, items.Idempotency{})
	return err
}

func update(ctx context.Context, r items.Repository, item items.Item) error {
	_, err := r.Update(ctx, item, items.AnyVersion)
	return err
}

func remove(ctx context.Context, r items.Repository, id string) error {
	return r.Delete(ctx, id, items.AnyVersion)
}

// seed stores an item called name under id in r.
func seed(t testing.TB, r items.Repository, id, name string) {
	t.Helper()
	if err := create(context.Background(), r, newItem(id, name)); err != nil {
		t.Fatal(err)
	}
}

func TestCacheAside(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	repo := &countingRepo{Repository: items.NewMemoryRepository()}
	cached := c.Items(repo)

	item := newItem("A1", "Widget")
	if _, _, err := cached.Create(ctx, item, items.Idempotency{}); err != nil {
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
	if _, err := cached.Update(ctx, items.Item{ID: "A1", Name: "Gadget", Price: 5, UpdatedAt: time.Now().UTC()}, items.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if got, err := cached.Get(ctx, "A1"); err != nil || got.Name != "Gadget" {
		t.Fatalf("Get after Update = %+v, %v; want the new name", got, err)
	}
	if n := repo.gets.Load(); n != 2 {
		t.Errorf("repository reads = %d, want 2 (the update invalidated the entry)", n)
	}
	if err := cached.Delete(ctx, "A1", items.AnyVersion); err != nil {
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

// TestEntriesOfAnotherSchemaAreReplaced stores entries this build must not decode —
// garbage, an item in the untagged JSON of earlier builds, an item of another
// schema version, an item under the right tag that does not parse — and checks
// that Get answers from the repository and replaces the entry with its own.
func TestEntriesOfAnotherSchemaAreReplaced(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	seed(t, repo, "B1", "Widget")
	cached := c.Items(repo)
	key := cached.itemKey("B1")
	stale := `{"id":"B1","name":"Stale","price":1}`
	for _, entry := range []string{"{not json", stale, "item.v0:" + stale, itemSchema + "{not json", itemSchema + `{"id":"B2","name":"Stale"}`, ""} {
		if err := c.rdb.Set(ctx, key, entry, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := cached.Get(ctx, "B1"); err != nil || got.Name != "Widget" {
			t.Errorf("Get over the entry %q = %+v, %v; want the repository's item", entry, got, err)
		}
		if raw, _ := c.rdb.Get(ctx, key).Result(); !strings.HasPrefix(raw, itemSchema) || !strings.Contains(raw, "Widget") {
			t.Errorf("entry %q replaced by %q, want the item under %q", entry, raw, itemSchema)
		}
	}
}

// commandLog records the name of every command a Redis client sends.
type commandLog struct {
	mu    sync.Mutex
	names []string
}

func (l *commandLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := l.names
	l.names = nil
	return names
}

func (l *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.mu.Lock()
		l.names = append(l.names, cmd.Name())
		l.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		l.mu.Lock()
		for _, cmd := range cmds {
			l.names = append(l.names, cmd.Name())
		}
		l.mu.Unlock()
		return next(ctx, cmds)
	}
}

func TestHitIsOneGet(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	seed(t, repo, "H1", "Widget")
	cached := c.Items(repo)
	if _, err := cached.Get(ctx, "H1"); err != nil { // the miss that fills
		t.Fatal(err)
	}
	var log commandLog
	c.rdb.AddHook(&log)
	if got, err := cached.Get(ctx, "H1"); err != nil || got.Name != "Widget" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if names := log.take(); !slices.Equal(names, []string{"get"}) {
		t.Errorf("a cache hit sent %q to Redis, want one GET", names)
	}
}

func TestReaderFindingALeaseReadsWithoutFilling(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	repo := &countingRepo{Repository: items.NewMemoryRepository()}
	seed(t, repo, "L1", "Widget")
	cached := c.Items(repo)
	key := cached.itemKey("L1")
	other := leasePrefix + "another-reader"
	if err := c.rdb.Set(ctx, key, other, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := cached.Get(ctx, "L1"); err != nil || got.Name != "Widget" {
			t.Fatalf("Get while another reader fills = %+v, %v", got, err)
		}
	}
	if raw, _ := c.rdb.Get(ctx, key).Result(); raw != other {
		t.Errorf("entry = %q, want the other reader's lease left alone", raw)
	}
	if n := repo.gets.Load(); n != 2 {
		t.Errorf("repository reads = %d, want 2: the lease holder fills, not these readers", n)
	}
}

func TestFillStoresNothingOnceItsLeaseIsTaken(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	repo := &pausingRepo{Repository: items.NewMemoryRepository()}
	seed(t, repo.Repository, "T1", "Widget")
	cached := c.Items(repo)
	key := cached.itemKey("T1")
	read, release := repo.holdNextGet()
	defer release()
	done := make(chan error, 1)
	go func() { _, err := cached.Get(ctx, "T1"); done <- err }()
	<-read
	// Our lease expired and another reader took the key: a token, not just "a lease",
	// decides who fills.
	other := leasePrefix + "another-reader"
	if err := c.rdb.Set(ctx, key, other, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if raw, _ := c.rdb.Get(ctx, key).Result(); raw != other {
		t.Errorf("entry = %q, want the other reader's lease: a stale lease must not fill", raw)
	}
}

func TestMissOfAMissingItemLeavesNoLease(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	cached := c.Items(items.NewMemoryRepository())
	if _, err := cached.Get(ctx, "N1"); !errors.Is(err, items.ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	if n, err := c.rdb.Exists(ctx, cached.itemKey("N1")).Result(); err != nil || n != 0 {
		t.Errorf("key exists (%d, %v) after a miss of a missing item: its lease would delay the next fill", n, err)
	}
}

// TestConcurrentMissesShareOneRead also checks that a caller giving up fails
// only itself: the read it started finishes for the others, and fills the cache.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	c := openRedis(t)
	ctx := context.Background()
	counting := &countingRepo{Repository: items.NewMemoryRepository()}
	seed(t, counting, "M1", "Widget")
	repo := &pausingRepo{Repository: counting}
	cached := c.Items(repo)
	read, release := repo.holdNextGet()
	defer release()

	firstCtx, cancelFirst := context.WithCancel(ctx)
	first := make(chan error, 1)
	go func() { _, err := cached.Get(firstCtx, "M1"); first <- err }()
	<-read
	const others = 4
	results := make(chan error, others)
	for range others {
		go func() {
			got, err := cached.Get(ctx, "M1")
			if err == nil && got.Name != "Widget" {
				err = fmt.Errorf("Get = %+v", got)
			}
			results <- err
		}()
	}
	waitFor(t, func() bool { return cached.flights.waiting("M1") == 1+others })
	cancelFirst()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Get = %v, want context.Canceled", err)
	}
	release()
	for range others {
		if err := <-results; err != nil {
			t.Errorf("a Get that joined the cancelled caller's read: %v", err)
		}
	}
	if n := counting.gets.Load(); n != 1 {
		t.Errorf("repository reads = %d for %d concurrent misses, want 1", n, 1+others)
	}
	if raw, _ := c.rdb.Get(ctx, cached.itemKey("M1")).Result(); !strings.HasPrefix(raw, itemSchema) {
		t.Errorf("entry = %q after the shared read, want the item", raw)
	}
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
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
	if _, _, err := cached.Create(ctx, newItem("C1", "Widget"), items.Idempotency{}); err != nil {
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
	if _, err := cached.Update(ctx, items.Item{ID: "C1", Name: "Gadget", UpdatedAt: time.Now()}, items.AnyVersion); err != nil {
		t.Fatalf("Update with Redis down: %v", err)
	}
	if got, err := cached.Get(ctx, "C1"); err != nil || got.Name != "Gadget" {
		t.Fatalf("Get after Update = %+v, %v", got, err)
	}
	if err := cached.Delete(ctx, "C1", items.AnyVersion); err != nil {
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

// The cache logs with the request's context: its lines carry the request_id.
func TestCacheLogsCarryRequestID(t *testing.T) {
	var logs strings.Builder
	set := breaker.Settings{Failures: 5, OpenTimeout: time.Hour}
	c, err := Open(config.Redis{URL: "redis://127.0.0.1:1", Timeout: time.Second, TTL: time.Minute, KeyPrefix: testPrefix(), Breaker: set},
		breaker.New("redis", set), logging.New(&logs, slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx := requestid.NewContext(context.Background(), "cache-req-1")
	repo := items.NewMemoryRepository()
	seed(t, repo, "L1", "Widget")
	if err := c.Items(repo).Delete(ctx, "L1", items.AnyVersion); err != nil {
		t.Fatal(err)
	}
	var found bool
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.HasPrefix(fmt.Sprint(rec["msg"]), "cache invalidation failed") {
			found = true
			if rec["request_id"] != "cache-req-1" {
				t.Errorf("request_id = %v, want cache-req-1: %v", rec["request_id"], rec)
			}
		}
	}
	if !found {
		t.Errorf("no line about the failed invalidation:\n%s", logs.String())
	}
}

// TestHungRedisServesFromRepository injects a Redis that hangs — it accepts
// connections and never answers — and checks that reads and writes still succeed
// from the repository, each Redis call abandoned at the cache timeout, until the
// breaker opens and the cache is skipped.
func TestHungRedisServesFromRepository(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	c := open(t, "redis://"+ln.Addr().String(), breaker.Settings{Failures: 2, OpenTimeout: time.Hour},
		func(cfg *config.Redis) { cfg.Timeout = 50 * time.Millisecond })
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	cached := c.Items(repo)
	if err := create(ctx, cached, newItem("D1", "Widget")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got, err := cached.Get(ctx, "D1"); err != nil || got.Name != "Widget" {
			t.Fatalf("Get %d with Redis hung = %+v, %v", i+1, got, err)
		}
	}
	if s := c.breaker.State(); s != "open" {
		t.Fatalf("breaker %s, want open", s)
	}
	if err := remove(ctx, cached, "D1"); err != nil {
		t.Fatalf("Delete with Redis hung: %v", err)
	}
	if _, err := cached.Get(ctx, "D1"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
}

func TestOpenRejectsBadURLWithoutEchoingIt(t *testing.T) {
	_, err := Open(config.Redis{URL: "redis://:s3cret@host:port/x"}, breaker.New("redis", breaker.Settings{}), slog.New(slog.DiscardHandler))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open = %v, want an error that does not show the password", err)
	}
}

// BenchmarkGetHit measures a read served from Redis: one GET and a JSON decode.
func BenchmarkGetHit(b *testing.B) {
	c := openRedis(b)
	ctx := context.Background()
	repo := items.NewMemoryRepository()
	seed(b, repo, "H1", "Widget")
	cached := c.Items(repo)
	if _, err := cached.Get(ctx, "H1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cached.Get(ctx, "H1"); err != nil {
			b.Fatal(err)
		}
	}
}
