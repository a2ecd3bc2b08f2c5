package cache

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/items"
)

// hangingProxy forwards TCP to Redis and can hang like a stopped Redis process
// (SIGSTOP): while paused it accepts connections and reads what clients send,
// but passes nothing on until resumed.
type hangingProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
}

// startHangingProxy starts a proxy in front of the Redis of rawURL and returns it
// with the URL that goes through it.
func startHangingProxy(t *testing.T, rawURL string) (*hangingProxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &hangingProxy{ln: ln, target: u.Host}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(func() { p.resume(); _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = conn.Close()
				continue
			}
			t.Cleanup(func() { _ = conn.Close(); _ = up.Close() })
			go p.pipe(up, conn)
			go p.pipe(conn, up)
		}
	}()
	u.Host = ln.Addr().String()
	return p, u.String()
}

// pipe copies from src to dst, holding every chunk while the proxy is paused.
func (p *hangingProxy) pipe(dst io.WriteCloser, src io.Reader) {
	defer func() { _ = dst.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *hangingProxy) pause() { p.mu.Lock(); p.paused = true; p.mu.Unlock() }

func (p *hangingProxy) resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
	p.cond.Broadcast()
}

// openBehindProxy opens a client on a hanging proxy in front of REDIS_URL, with
// a short timeout and a breaker that opens after two failures.
func openBehindProxy(t *testing.T, opts ...Option) (*Client, *hangingProxy) {
	t.Helper()
	proxy, proxied := startHangingProxy(t, redisURL(t))
	set := breaker.Settings{Failures: 2, OpenTimeout: 300 * time.Millisecond}
	cfg := config.Redis{URL: proxied, Timeout: 100 * time.Millisecond, TTL: time.Minute, KeyPrefix: testPrefix(), Breaker: set}
	c, err := Open(cfg, breaker.New("redis", set), discard(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	deleteKeysAtCleanup(t, c)
	return c, proxy
}

// hangRedis pauses the proxy and reads id until the breaker opens, as requests
// do while Redis hangs.
func hangRedis(t *testing.T, c *Client, proxy *hangingProxy, cached *ItemCache, id string) {
	t.Helper()
	proxy.pause()
	for c.breaker.State() != "open" {
		if _, err := cached.Get(context.Background(), id); err != nil {
			t.Fatalf("Get while Redis hangs: %v", err)
		}
	}
}

// checkUntilSettled runs check over and over, from Redis's return until the
// breaker has closed and no invalidation is pending any more (within 5s), and
// once more after.
func checkUntilSettled(t *testing.T, c *Client, check func()) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.breaker.State() != "closed" || c.pending.any.Load() {
		check()
		if time.Now().After(deadline) {
			t.Fatalf("breaker %s, invalidations pending %t, 5s after Redis returned", c.breaker.State(), c.pending.any.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	check()
}

// TestWritesWhileRedisHangsAreNotUndoneWhenItReturns is the drill's row "redis
// hung: PUT/DELETE, then reads after it returns": writes commit while Redis
// hangs and their invalidations fail; once Redis answers again, no read may serve
// the entries those writes replaced.
func TestWritesWhileRedisHangsAreNotUndoneWhenItReturns(t *testing.T) {
	c, proxy := openBehindProxy(t)
	ctx := context.Background()
	repo := &countingRepo{Repository: items.NewMemoryRepository()}
	cached := c.Items(repo)
	seed(t, cached, "U1", "Old")
	seed(t, cached, "X1", "Doomed")
	for _, id := range []string{"U1", "X1"} {
		if _, err := cached.Get(ctx, id); err != nil { // fills the cache
			t.Fatal(err)
		}
	}

	hangRedis(t, c, proxy, cached, "U1")
	if err := update(ctx, cached, items.Item{ID: "U1", Name: "New", Price: 2, UpdatedAt: time.Now().UTC()}); err != nil {
		t.Fatalf("Update while Redis hangs: %v", err)
	}
	if err := remove(ctx, cached, "X1"); err != nil {
		t.Fatalf("Delete while Redis hangs: %v", err)
	}
	if !c.pending.stale(cached.itemKey("U1")) || !c.pending.stale(cached.itemKey("X1")) {
		t.Fatal("the failed invalidations are not pending")
	}

	// From the moment Redis answers again, every read must see the writes.
	proxy.resume()
	check := func() {
		t.Helper()
		if got, err := cached.Get(ctx, "U1"); err != nil || got.Name != "New" {
			t.Fatalf("Get of the updated item = %+v, %v; want the name written while Redis hung", got, err)
		}
		if got, err := cached.Get(ctx, "X1"); !errors.Is(err, items.ErrNotFound) {
			t.Fatalf("Get of the deleted item = %+v, %v; want ErrNotFound", got, err)
		}
	}
	checkUntilSettled(t, c, check)
	// The cache is back in use: the next reads of U1 are hits.
	before := repo.gets.Load()
	check()
	check()
	if n := repo.gets.Load() - before; n != 2 { // X1 is not cached (it does not exist)
		t.Errorf("repository reads = %d for 2 reads of each item, want 2: U1 from the cache again", n)
	}
}

// TestTooManyFailedInvalidationsFlushTheItemCache overflows the pending set: the
// client then reads every item from the repository until one sweep has deleted
// every cached item, and leaves other keys alone.
func TestTooManyFailedInvalidationsFlushTheItemCache(t *testing.T) {
	c, proxy := openBehindProxy(t, WithMaxPending(2))
	ctx := context.Background()
	cached := c.Items(items.NewMemoryRepository())
	ids := []string{"F1", "F2", "F3", "F4"}
	for _, id := range ids {
		seed(t, cached, id, "Old")
		if _, err := cached.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	other := c.key("not-an-item")
	if err := c.rdb.Set(ctx, other, "kept", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	hangRedis(t, c, proxy, cached, "F4")
	for _, id := range ids[:3] {
		if err := update(ctx, cached, items.Item{ID: id, Name: "New", UpdatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	if !c.pending.stale(cached.itemKey("F4")) {
		t.Fatal("three failed invalidations with room for two: every item should bypass the cache")
	}

	proxy.resume()
	check := func() {
		t.Helper()
		for _, id := range ids[:3] {
			if got, err := cached.Get(ctx, id); err != nil || got.Name != "New" {
				t.Fatalf("Get %s = %+v, %v; want the name written while Redis hung", id, got, err)
			}
		}
	}
	checkUntilSettled(t, c, check)
	if got, err := c.rdb.Get(ctx, other).Result(); err != nil || got != "kept" {
		t.Errorf("key outside items = %q, %v after the flush; want it kept", got, err)
	}
}
