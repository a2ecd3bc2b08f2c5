package server

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestIPLimiterDisabled(t *testing.T) {
	l := newIPLimiter(0, 10, 0)
	if l != nil {
		t.Fatal("newIPLimiter(0, 10, 0) != nil, want rate limiting off")
	}
	for range 1000 {
		if ok, _ := l.allow(addr("192.0.2.1")); !ok {
			t.Fatal("a disabled limiter refused a request")
		}
	}
}

func TestIPLimiterBurstRefillAndIsolation(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(2, 3, 0)
	l.now = func() time.Time { return now }

	for i := range 3 {
		if ok, _ := l.allow(addr("192.0.2.1")); !ok {
			t.Fatalf("request %d within the burst was refused", i+1)
		}
	}
	ok, wait := l.allow(addr("192.0.2.1"))
	if ok {
		t.Fatal("request over the burst was allowed")
	}
	if wait != 500*time.Millisecond || retryAfterSeconds(wait) != 1 {
		t.Errorf("wait = %s (Retry-After %d), want 500ms (1)", wait, retryAfterSeconds(wait))
	}
	if ok, _ := l.allow(addr("192.0.2.2")); !ok {
		t.Fatal("another client was limited by the first one's bucket")
	}
	now = now.Add(500 * time.Millisecond) // 2 rps: one token back
	if ok, _ := l.allow(addr("192.0.2.1")); !ok {
		t.Fatal("no token after the refill interval")
	}
	if ok, _ := l.allow(addr("192.0.2.1")); ok {
		t.Fatal("more than one token came back in 500ms at 2 rps")
	}
}

func TestIPLimiterSlowRateRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(0.25, 1, 0)
	l.now = func() time.Time { return now }
	l.allow(addr("192.0.2.1"))
	now = now.Add(time.Second) // a quarter of a token back: three quarters to wait, 3 s
	if ok, wait := l.allow(addr("192.0.2.1")); ok || retryAfterSeconds(wait) != 3 {
		t.Errorf("allow = %v, Retry-After %d at 0.25 rps one second after the last token, want false, 3", ok, retryAfterSeconds(wait))
	}
}

// A full limiter forgets the client it heard from least recently, never a recent one.
func TestIPLimiterEvictsLeastRecentlyUsed(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(1, 1, 3) // one shard of three
	l.now = func() time.Time { return now }
	a, b, c, d := addr("192.0.2.1"), addr("192.0.2.2"), addr("192.0.2.3"), addr("192.0.2.4")
	for _, ip := range []netip.Addr{a, b, c} {
		l.allow(ip) // each takes its only token
	}
	l.allow(a) // a is the most recent now; b the least
	l.allow(d) // full: b goes
	if n := l.clients(); n != 3 {
		t.Fatalf("%d clients remembered, want the capacity, 3", n)
	}
	if ok, _ := l.allow(a); ok {
		t.Error("a, recently used, was evicted (its empty bucket came back full)")
	}
	if ok, _ := l.allow(c); ok {
		t.Error("c was evicted before b, which was used less recently")
	}
	if ok, _ := l.allow(b); !ok {
		t.Error("b, least recently used, was kept: its empty bucket is still empty")
	}
}

// Capacity is kept across shards: however many clients come, the table stays at it.
func TestIPLimiterBoundedMemory(t *testing.T) {
	const capacity = 10_000
	l := newIPLimiter(1, 1, capacity)
	if len(l.shards) < 2 {
		t.Fatalf("%d shards for %d clients, want several", len(l.shards), capacity)
	}
	for i := range 5 * capacity {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if n := l.clients(); n != capacity {
		t.Errorf("%d clients remembered after %d distinct ones, want the capacity %d", n, 5*capacity, capacity)
	}
}

// Many goroutines on few clients: no request is lost or double-counted (go test
// -race checks the locking).
func TestIPLimiterConcurrent(t *testing.T) {
	l := newIPLimiter(0.001, 100, 4096) // no refill to speak of during the test
	var allowed [4]atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				c := (g + i) % 4
				if ok, _ := l.allow(netip.AddrFrom4([4]byte{192, 0, 2, byte(c)})); ok {
					allowed[c].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for c := range allowed {
		if n := allowed[c].Load(); n != 100 {
			t.Errorf("client %d: %d of 400 requests allowed, want the burst, 100", c, n)
		}
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                 "192.0.2.1",
		"::ffff:192.0.2.1":          "192.0.2.1", // IPv4-mapped: the IPv4 client it is
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::",
		"2001:db8:1:2:ffff:ffff::1": "2001:db8:1:2::", // same /64, same bucket
		"2001:db8:1:3::1":           "2001:db8:1:3::", // next /64, its own
		"::1":                       "::",
	} {
		if got := clientKey(parseHop(in)); got != addr(want) {
			t.Errorf("clientKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// The /64 of an IPv6 client is one bucket: rotating addresses inside it buys nothing.
func TestIPLimiterGroupsIPv6By64(t *testing.T) {
	l := newIPLimiter(0.001, 2, 0)
	for i := range 2 {
		if ok, _ := l.allow(clientKey(addr(fmt.Sprintf("2001:db8:0:7::%x", i+1)))); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	if ok, _ := l.allow(clientKey(addr("2001:db8:0:7:dead:beef::1"))); ok {
		t.Error("a new address in the same /64 got a fresh bucket")
	}
	if ok, _ := l.allow(clientKey(addr("2001:db8:0:8::1"))); !ok {
		t.Error("another /64 was limited by the first one's bucket")
	}
}

// BenchmarkIPLimiterParallel is the limiter on the request path under parallel load:
// 65 536 clients over a table of 100 000 (no eviction), and 1 000 000 clients over
// the same table (an eviction on most requests).
func BenchmarkIPLimiterParallel(b *testing.B) {
	for _, clients := range []int{1 << 16, 1_000_000} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			l := newIPLimiter(1e6, 1_000_000, defaultLimiterClients)
			keys := make([]netip.Addr, clients)
			for i := range keys {
				keys[i] = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			}
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := seq.Add(1) * 7919
				for pb.Next() {
					i = i*6364136223846793005 + 1442695040888963407
					l.allow(keys[(i>>33)%uint64(clients)])
				}
			})
		})
	}
}
