package cache

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// waiting is how many callers wait for the load of key under way.
func (g *flights[T]) waiting(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.calls[key]; f != nil {
		return f.waiters
	}
	return 0
}

// blockingLoad is a load that blocks until its context ends or release is closed.
// It sends its context on ctxs as it starts.
type blockingLoad struct {
	started atomic.Int32
	release chan struct{}
	ctxs    chan context.Context
}

func newBlockingLoad() *blockingLoad {
	return &blockingLoad{release: make(chan struct{}), ctxs: make(chan context.Context, 10)}
}

func (l *blockingLoad) load(ctx context.Context) (int, error) {
	n := l.started.Add(1)
	l.ctxs <- ctx
	select {
	case <-l.release:
		return int(n), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func TestFlightsLastCallerLeavingCancelsTheLoad(t *testing.T) {
	var g flights[int]
	l := newBlockingLoad()
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	for _, ctx := range []context.Context{ctx1, ctx2} {
		go func() { _, err := g.do(ctx, "k", l.load); errs <- err }()
	}
	loadCtx := <-l.ctxs
	waitFor(t, func() bool { return g.waiting("k") == 2 })
	cancel1()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller = %v, want context.Canceled", err)
	}
	if err := loadCtx.Err(); err != nil {
		t.Fatalf("load cancelled (%v) while a caller still waits for it", err)
	}
	cancel2()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("second caller = %v, want context.Canceled", err)
	}
	if err := loadCtx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("load context = %v after every caller gave up, want cancelled", err)
	}
	// A caller arriving now starts a load of its own rather than join the cancelled one.
	close(l.release)
	if n, err := g.do(context.Background(), "k", l.load); err != nil || n != 2 {
		t.Errorf("new caller = %d, %v; want the second load's result", n, err)
	}
}

func TestFlightsForgetStartsAFreshLoad(t *testing.T) {
	var g flights[int]
	first := newBlockingLoad()
	got := make(chan int, 1)
	go func() { n, _ := g.do(context.Background(), "k", first.load); got <- n }()
	waitFor(t, func() bool { return g.waiting("k") == 1 })
	g.forget("k") // a write finished
	second := newBlockingLoad()
	close(second.release)
	if n, err := g.do(context.Background(), "k", second.load); err != nil || n != 1 || second.started.Load() != 1 {
		t.Errorf("caller after forget = %d, %v; want a load of its own", n, err)
	}
	close(first.release)
	if n := <-got; n != 1 {
		t.Errorf("caller before forget = %d, want its own load's result", n)
	}
}

func TestFlightsPanicReachesTheCaller(t *testing.T) {
	var g flights[int]
	defer func() {
		p, ok := recover().(*loadPanic)
		if !ok || p.value != "boom" || !strings.Contains(p.Error(), "flight_test.go") {
			t.Errorf("recovered %v, want the load's panic with its stack", p)
		}
	}()
	_, _ = g.do(context.Background(), "k", func(context.Context) (int, error) { panic("boom") })
	t.Error("do returned after its load panicked")
}
