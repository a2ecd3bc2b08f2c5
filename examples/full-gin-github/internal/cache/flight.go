package cache

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// flights collapses concurrent loads of one key into a single call, so that a popular
// item that expires or is invalidated costs the repository one read per replica, not
// one per waiting request.
//
// It differs from golang.org/x/sync/singleflight in whose context the load runs
// under. There, the first caller's context is the load's: when that client hangs up,
// every caller waiting on the same key fails with its cancellation. Here the load runs
// detached from any one caller: each caller returns on its own context's end with its
// own error, the others keep waiting, and the load is cancelled only once no caller
// waits for it any more.
type flights[T any] struct {
	mu    sync.Mutex
	calls map[string]*flight[T]
}

// flight is one load in progress. val, err and panicked are written before done
// is closed and read only after.
type flight[T any] struct {
	done     chan struct{}
	val      T
	err      error
	panicked *loadPanic
	waiters  int // guarded by flights.mu
	cancel   context.CancelFunc
}

// loadPanic carries a panic out of a load, with the stack where it happened, to
// every caller waiting on it: each re-panics, so the request's own recovery (the
// HTTP server's middleware) reports it as it would without the collapsing.
type loadPanic struct {
	value any
	stack []byte
}

func (p *loadPanic) Error() string { return fmt.Sprintf("%v\n\n%s", p.value, p.stack) }

// do returns the result of load for key, joining a load of key already under way
// if there is one. load gets a context that keeps ctx's values but not its
// cancellation, and is cancelled once every caller has given up.
func (g *flights[T]) do(ctx context.Context, key string, load func(ctx context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	g.mu.Lock()
	f := g.calls[key]
	if f == nil {
		loadCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight[T]{done: make(chan struct{}), cancel: cancel}
		if g.calls == nil {
			g.calls = make(map[string]*flight[T])
		}
		g.calls[key] = f
		go g.run(loadCtx, cancel, key, f, load)
	}
	f.waiters++
	g.mu.Unlock()

	select {
	case <-f.done:
		if f.panicked != nil {
			panic(f.panicked)
		}
		return f.val, f.err
	case <-ctx.Done():
		g.leave(key, f)
		var zero T
		return zero, ctx.Err()
	}
}

// run runs load for f and publishes its result; cancel is f's, called at the end.
func (g *flights[T]) run(ctx context.Context, cancel context.CancelFunc, key string, f *flight[T], load func(ctx context.Context) (T, error)) {
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			f.panicked = &loadPanic{value: v, stack: debug.Stack()}
		}
		g.mu.Lock()
		g.remove(key, f)
		g.mu.Unlock()
		close(f.done)
	}()
	f.val, f.err = load(ctx)
}

// leave is a caller giving up on f; the last one out cancels the load.
func (g *flights[T]) leave(key string, f *flight[T]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f.waiters--
	if f.waiters == 0 {
		f.cancel()
		g.remove(key, f) // a caller arriving now starts afresh instead of joining a cancelled load
	}
}

// forget makes callers of key from now on start a load of their own rather than
// join the one under way, which may have read the repository before a write that
// has just finished. Callers already waiting keep theirs: they were concurrent
// with the write, and either state is a right answer for them.
func (g *flights[T]) forget(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.calls, key)
}

// remove deletes f from the map unless a newer load of key has replaced it.
// g.mu must be held.
func (g *flights[T]) remove(key string, f *flight[T]) {
	if g.calls[key] == f {
		delete(g.calls, key)
	}
}
