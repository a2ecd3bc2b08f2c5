package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock lets cache tests move time without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func serve(t *testing.T, h http.Handler, path string) (*httptest.ResponseRecorder, Report) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var rep Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", path, rec.Body.String(), err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("%s: Content-Type = %q, want %q", path, ct, ContentType)
	}
	return rec, rep
}

func TestLiveness(t *testing.T) {
	r := NewRegistry()
	r.Register("db", func(context.Context) error { return errors.New("down") })
	rec, rep := serve(t, r.Liveness(), "/healthz")
	if rec.Code != http.StatusOK || rep.Status != StatusPass || rep.Checks != nil {
		t.Fatalf("liveness = %d %+v, want 200 pass without checks (dependencies do not affect liveness)", rec.Code, rep)
	}
	if strings.TrimSpace(rec.Body.String()) != `{"status":"pass"}` {
		t.Errorf("body = %s", rec.Body.String())
	}
}

func TestReadinessWithoutChecksPasses(t *testing.T) {
	rec, rep := serve(t, NewRegistry().Readiness(), "/readyz")
	if rec.Code != http.StatusOK || rep.Status != StatusPass {
		t.Fatalf("readiness = %d %+v, want 200 pass", rec.Code, rep)
	}
}

func TestReadinessAllPass(t *testing.T) {
	r := NewRegistry()
	r.Register("db", func(context.Context) error { return nil }, WithState(func() string { return "closed" }))
	r.Register("cache", func(context.Context) error { return nil })
	rec, rep := serve(t, r.Readiness(), "/readyz")
	if rec.Code != http.StatusOK || rep.Status != StatusPass {
		t.Fatalf("readiness = %d %+v, want 200 pass", rec.Code, rep)
	}
	db := rep.Checks["db"]
	if len(db) != 1 || db[0].Status != StatusPass || db[0].Breaker != "closed" || db[0].Output != "" {
		t.Errorf("db result = %+v, want pass with breaker closed and no output", db)
	}
	if _, err := time.Parse(time.RFC3339, db[0].Time); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", db[0].Time, err)
	}
	if len(rep.Checks["cache"]) != 1 || rep.Checks["cache"][0].Breaker != "" {
		t.Errorf("cache result = %+v, want one result without breaker", rep.Checks["cache"])
	}
}

func TestFailingDependencyLeavesInstanceReadyNamingIt(t *testing.T) {
	r := NewRegistry()
	r.Register("db", func(context.Context) error { return nil })
	r.Register("broker", func(context.Context) error { return errors.New("connection refused") },
		WithState(func() string { return "open" }))
	rec, rep := serve(t, r.Readiness(), "/readyz")
	if rec.Code != http.StatusOK || rep.Status != StatusWarn {
		t.Fatalf("readiness = %d %+v, want 200 warn: an outage after start does not fail readiness", rec.Code, rep)
	}
	got := rep.Checks["broker"]
	if len(got) != 1 || got[0].Status != StatusFail || got[0].Output != "connection refused" || got[0].Breaker != "open" {
		t.Errorf("broker result = %+v, want fail with output and breaker open", got)
	}
	if rep.Checks["db"][0].Status != StatusPass {
		t.Errorf("db result = %+v, want pass", rep.Checks["db"])
	}
}

func TestRequiredCheckFailingGives503NamingIt(t *testing.T) {
	r := NewRegistry()
	r.Register("db", func(context.Context) error { return nil })
	r.Register("broker", func(context.Context) error { return errors.New("connection refused") })
	if err := r.Require("broker"); err != nil {
		t.Fatal(err)
	}
	rec, rep := serve(t, r.Readiness(), "/readyz")
	if rec.Code != http.StatusServiceUnavailable || rep.Status != StatusFail || rep.Checks["broker"][0].Status != StatusFail {
		t.Fatalf("readiness = %d %+v, want 503 fail naming broker", rec.Code, rep)
	}
	// Requiring only the passing one makes the instance ready again.
	if err := r.Require("db"); err != nil {
		t.Fatal(err)
	}
	if rec, rep := serve(t, r.Readiness(), "/readyz"); rec.Code != http.StatusOK || rep.Status != StatusWarn {
		t.Fatalf("with db required = %d %+v, want 200 warn", rec.Code, rep)
	}
}

func TestRequireRejectsUnknownNames(t *testing.T) {
	r := NewRegistry()
	if err := r.Require("redis"); err == nil || !strings.Contains(err.Error(), `"redis"`) || !strings.Contains(err.Error(), "none") {
		t.Errorf("Require on an empty registry = %v, want an error naming redis and saying there are none", err)
	}
	r.Register("postgres", func(context.Context) error { return nil })
	r.Register("kafka", func(context.Context) error { return nil })
	err := r.Require("postgres", "redis")
	if err == nil || !strings.Contains(err.Error(), `"redis"`) || !strings.Contains(err.Error(), "kafka, postgres") {
		t.Errorf("Require(postgres, redis) = %v, want an error naming redis and the registered kafka, postgres", err)
	}
	if err := r.Require(); err != nil {
		t.Errorf("Require() = %v", err)
	}
}

func TestGateHoldsReadinessUntilStartUpIsDone(t *testing.T) {
	r := NewRegistry(WithCacheTTL(time.Minute))
	r.Register("db", func(context.Context) error { return nil })
	var done atomic.Bool
	r.Gate("migrations", done.Load)
	rec, rep := serve(t, r.Readiness(), "/readyz")
	if rec.Code != http.StatusServiceUnavailable || rep.Status != StatusFail {
		t.Fatalf("before start-up is done = %d %+v, want 503", rec.Code, rep)
	}
	if got := rep.Checks["migrations"]; len(got) != 1 || got[0].Status != StatusFail || got[0].Output != "start-up not done" {
		t.Errorf("migrations = %+v, want the gate failing", got)
	}
	if rep.Checks["db"][0].Status != StatusPass {
		t.Errorf("db = %+v: the checks are reported while a gate is closed", rep.Checks["db"])
	}
	// Opening the gate takes effect at once, although the checks' results are cached.
	done.Store(true)
	rec, rep = serve(t, r.Readiness(), "/readyz")
	if rec.Code != http.StatusOK || rep.Status != StatusPass || rep.Checks["migrations"] != nil {
		t.Fatalf("after start-up = %d %+v, want 200 pass without the gate", rec.Code, rep)
	}
	// Once open, a gate stays open.
	done.Store(false)
	if rec, _ := serve(t, r.Readiness(), "/readyz"); rec.Code != http.StatusOK {
		t.Errorf("gate closed again: %d", rec.Code)
	}
}

func TestGateWithoutChecks(t *testing.T) {
	r := NewRegistry()
	r.Gate("warm-up", func() bool { return false })
	if rec, rep := serve(t, r.Readiness(), "/readyz"); rec.Code != http.StatusServiceUnavailable || len(rep.Checks["warm-up"]) != 1 {
		t.Fatalf("readiness = %d %+v, want 503 naming warm-up", rec.Code, rep)
	}
}

func TestChecksRunConcurrently(t *testing.T) {
	r := NewRegistry()
	// Each check waits until all three are running at once; run one after another,
	// they would time out instead.
	var started sync.WaitGroup
	started.Add(3)
	for _, name := range []string{"a", "b", "c"} {
		r.Register(name, func(ctx context.Context) error {
			started.Done()
			allStarted := make(chan struct{})
			go func() { started.Wait(); close(allStarted) }()
			select {
			case <-allStarted:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, WithTimeout(2*time.Second))
	}
	if rep := r.Check(context.Background()); rep.Status != StatusPass {
		t.Fatalf("report = %+v, want all pass (checks did not run concurrently)", rep)
	}
}

func TestCheckTimeout(t *testing.T) {
	r := NewRegistry()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	// This check ignores its context: the registry must still give up on time.
	r.Register("stuck", func(context.Context) error { <-release; return nil }, WithTimeout(50*time.Millisecond))
	r.Register("fast", func(context.Context) error { return nil })

	start := time.Now()
	rep := r.Check(context.Background())
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Check took %s, want about 50ms", elapsed)
	}
	got := rep.Checks["stuck"][0]
	if rep.Status != StatusWarn || got.Status != StatusFail || !strings.Contains(got.Output, "timed out after 50ms") {
		t.Errorf("report = %+v, want stuck to fail with a timeout", rep)
	}
	if rep.Checks["fast"][0].Status != StatusPass {
		t.Errorf("fast = %+v, want pass", rep.Checks["fast"])
	}
}

func TestDefaultTimeoutIsPassedToCheck(t *testing.T) {
	r := NewRegistry()
	var deadline time.Duration
	r.Register("db", func(ctx context.Context) error {
		d, ok := ctx.Deadline()
		if !ok {
			return errors.New("no deadline")
		}
		deadline = time.Until(d)
		return nil
	})
	if rep := r.Check(context.Background()); rep.Status != StatusPass {
		t.Fatalf("report = %+v", rep)
	}
	if deadline <= 0 || deadline > DefaultCheckTimeout {
		t.Errorf("check deadline in %s, want within %s", deadline, DefaultCheckTimeout)
	}
}

func TestPanickingCheckFails(t *testing.T) {
	r := NewRegistry()
	r.Register("bad", func(context.Context) error { panic("boom") })
	rep := r.Check(context.Background())
	if rep.Checks["bad"][0].Status != StatusFail || !strings.Contains(rep.Checks["bad"][0].Output, "boom") {
		t.Fatalf("report = %+v, want bad to fail mentioning the panic", rep)
	}
}

func TestResultIsCached(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := NewRegistry(WithCacheTTL(time.Second))
	r.now = clock.Now
	var calls atomic.Int32
	var failing atomic.Bool
	r.Register("db", func(context.Context) error {
		calls.Add(1)
		if failing.Load() {
			return errors.New("down")
		}
		return nil
	})

	r.Check(context.Background())
	failing.Store(true)
	clock.Advance(500 * time.Millisecond)
	if rep := r.Check(context.Background()); rep.Status != StatusPass || calls.Load() != 1 {
		t.Fatalf("within TTL: status %s after %d calls, want cached pass after 1 call", rep.Status, calls.Load())
	}
	clock.Advance(600 * time.Millisecond)
	if rep := r.Check(context.Background()); rep.Checks["db"][0].Status != StatusFail || calls.Load() != 2 {
		t.Fatalf("after TTL: status %s after %d calls, want fresh fail after 2 calls", rep.Status, calls.Load())
	}
}

func TestConcurrentProbesShareOneRound(t *testing.T) {
	r := NewRegistry(WithCacheTTL(time.Minute))
	var calls atomic.Int32
	r.Register("db", func(context.Context) error {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { r.Check(context.Background()) })
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("check ran %d times for 10 concurrent probes, want 1", n)
	}
}

func TestCacheDisabled(t *testing.T) {
	r := NewRegistry(WithCacheTTL(0))
	var calls atomic.Int32
	r.Register("db", func(context.Context) error { calls.Add(1); return nil })
	r.Check(context.Background())
	r.Check(context.Background())
	if n := calls.Load(); n != 2 {
		t.Errorf("check ran %d times, want 2 with caching off", n)
	}
}

func TestRegisterReplacesAndInvalidatesCache(t *testing.T) {
	r := NewRegistry(WithCacheTTL(time.Minute))
	r.Register("db", func(context.Context) error { return nil })
	r.Check(context.Background())
	r.Register("db", func(context.Context) error { return errors.New("down") })
	rep := r.Check(context.Background())
	if rep.Checks["db"][0].Status != StatusFail || len(rep.Checks) != 1 {
		t.Errorf("report = %+v, want the replacement check's failure", rep)
	}
}

func TestDrainMakesReadinessFail(t *testing.T) {
	r := NewRegistry()
	r.Register("db", func(context.Context) error { return nil })
	if rep := r.Check(context.Background()); rep.Status != StatusPass {
		t.Fatalf("before Drain: %+v", rep)
	}
	r.Drain()
	rec := httptest.NewRecorder()
	r.Readiness().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "shutting down") {
		t.Fatalf("after Drain: %d %s", rec.Code, rec.Body)
	}
}
