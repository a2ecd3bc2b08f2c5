package breaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var errDown = errors.New("connection refused")

// dependency is an injected dependency whose health the test switches.
type dependency struct {
	fail  bool
	calls int
}

func (d *dependency) call() error {
	d.calls++
	if d.fail {
		return errDown
	}
	return nil
}

func TestOpensAfterConsecutiveFailuresAndFailsFast(t *testing.T) {
	b := New("db", Settings{Failures: 3, OpenTimeout: time.Hour, HalfOpenRequests: 1})
	dep := &dependency{fail: true}
	for i := range 3 {
		if err := b.Do(dep.call); !errors.Is(err, errDown) {
			t.Fatalf("call %d = %v, want the dependency's error", i+1, err)
		}
	}
	if b.State() != "open" || b.StateValue() != 2 {
		t.Fatalf("state after 3 failures = %s (%v), want open (2)", b.State(), b.StateValue())
	}
	start := time.Now()
	err := b.Do(dep.call)
	if !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), "db") {
		t.Fatalf("call on an open breaker = %v, want ErrOpen naming db", err)
	}
	if dep.calls != 3 {
		t.Errorf("the dependency was called %d times, want 3: an open breaker must not call it", dep.calls)
	}
	if elapsed := time.Since(start); elapsed > 50*time.Millisecond {
		t.Errorf("refusal took %s, want immediate", elapsed)
	}
}

func TestSuccessResetsTheFailureCount(t *testing.T) {
	b := New("db", Settings{Failures: 2, OpenTimeout: time.Hour})
	dep := &dependency{}
	for range 5 {
		dep.fail = true
		_ = b.Do(dep.call)
		dep.fail = false
		_ = b.Do(dep.call)
	}
	if b.State() != "closed" {
		t.Errorf("state = %s, want closed: failures were never consecutive", b.State())
	}
}

func TestRecoversThroughHalfOpen(t *testing.T) {
	b := New("cache", Settings{Failures: 1, OpenTimeout: 20 * time.Millisecond, HalfOpenRequests: 2})
	dep := &dependency{fail: true}
	_ = b.Do(dep.call)
	if b.State() != "open" {
		t.Fatalf("state = %s, want open", b.State())
	}
	time.Sleep(30 * time.Millisecond)
	if b.State() != "half-open" || b.StateValue() != 1 {
		t.Fatalf("state after the open timeout = %s, want half-open", b.State())
	}
	// A failed trial opens it again.
	if err := b.Do(dep.call); !errors.Is(err, errDown) || b.State() != "open" {
		t.Fatalf("failed trial: %v, state %s; want the error and open", err, b.State())
	}
	time.Sleep(30 * time.Millisecond)
	dep.fail = false
	for i := range 2 {
		if err := b.Do(dep.call); err != nil {
			t.Fatalf("trial %d: %v", i+1, err)
		}
	}
	if b.State() != "closed" || b.StateValue() != 0 {
		t.Errorf("state after successful trials = %s, want closed", b.State())
	}
}

func TestHarmlessErrorsDoNotOpen(t *testing.T) {
	b := New("db", Settings{Failures: 1, OpenTimeout: time.Hour})
	notFound := errors.New("no rows")
	for range 3 {
		err := b.Do(func() error { return Harmless(fmt.Errorf("get: %w", notFound)) })
		if !errors.Is(err, notFound) {
			t.Fatalf("Do = %v, want the original error", err)
		}
		var h harmless
		if errors.As(err, &h) {
			t.Fatal("Do returned the Harmless wrapper instead of the original error")
		}
	}
	if Harmless(nil) != nil {
		t.Error("Harmless(nil) != nil")
	}
	if b.State() != "closed" {
		t.Errorf("state = %s, want closed", b.State())
	}
}

func TestCallerCancellationDoesNotCount(t *testing.T) {
	b := New("db", Settings{Failures: 1, OpenTimeout: time.Hour})
	for range 3 {
		_ = b.Do(func() error { return fmt.Errorf("query: %w", context.Canceled) })
	}
	if b.State() != "closed" {
		t.Errorf("state = %s, want closed: the callers gave up, the dependency did not fail", b.State())
	}
	_ = b.Do(func() error { return context.DeadlineExceeded })
	if b.State() != "open" {
		t.Errorf("state = %s, want open: a dependency too slow for the deadline is failing", b.State())
	}
}

func TestStateChangesAreLogged(t *testing.T) {
	var logs bytes.Buffer
	b := New("kafka", Settings{Failures: 1, OpenTimeout: time.Hour}, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if b.Name() != "kafka" {
		t.Errorf("Name = %q", b.Name())
	}
	_ = b.Do(func() error { return errDown })
	out := logs.String()
	for _, want := range []string{`"dependency":"kafka"`, `"from":"closed"`, `"to":"open"`, `"level":"WARN"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
}
