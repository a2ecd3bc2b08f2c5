package server

import (
	"testing"
	"time"
)

func TestIPLimiterDisabled(t *testing.T) {
	l := newIPLimiter(0, 10)
	if l != nil {
		t.Fatal("newIPLimiter(0, 10) != nil, want rate limiting off")
	}
	for range 1000 {
		if !l.allow("192.0.2.1") {
			t.Fatal("a disabled limiter refused a request")
		}
	}
}

func TestIPLimiterBurstRefillAndIsolation(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(2, 3)
	l.now = func() time.Time { return now }

	for i := range 3 {
		if !l.allow("192.0.2.1") {
			t.Fatalf("request %d within the burst was refused", i+1)
		}
	}
	if l.allow("192.0.2.1") {
		t.Fatal("request over the burst was allowed")
	}
	if !l.allow("192.0.2.2") {
		t.Fatal("another client was limited by the first one's bucket")
	}
	now = now.Add(500 * time.Millisecond) // 2 rps: one token back
	if !l.allow("192.0.2.1") {
		t.Fatal("no token after the refill interval")
	}
	if l.allow("192.0.2.1") {
		t.Fatal("more than one token came back in 500ms at 2 rps")
	}
	if l.retryAfter != "1" {
		t.Errorf("retryAfter = %q, want 1", l.retryAfter)
	}
}

func TestIPLimiterDropsIdleClients(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(100, 200)
	l.now = func() time.Time { return now }
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		l.allow(ip)
	}
	if n := len(l.clients); n != 3 {
		t.Fatalf("%d buckets, want 3", n)
	}
	now = now.Add(30 * time.Second)
	l.allow("192.0.2.1") // keeps this one fresh
	now = now.Add(40 * time.Second)
	l.allow("192.0.2.4") // past the idle period: triggers a sweep
	if _, ok := l.clients["192.0.2.2"]; ok {
		t.Error("idle bucket 192.0.2.2 was kept")
	}
	if _, ok := l.clients["192.0.2.1"]; !ok {
		t.Error("recently used bucket 192.0.2.1 was dropped")
	}
	if n := len(l.clients); n != 2 {
		t.Errorf("%d buckets after the sweep, want 2", n)
	}
}

func TestIPLimiterSlowRateRetryAfter(t *testing.T) {
	if l := newIPLimiter(0.25, 1); l.retryAfter != "4" {
		t.Errorf("retryAfter = %q at 0.25 rps, want 4", l.retryAfter)
	}
}
