package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/acme/billing/internal/outbox"
)

// recordingSender keeps what it was sent; fail, when set, decides per call whether
// the batch fails.
type recordingSender struct {
	mu     sync.Mutex
	got    []outbox.Event
	calls  int
	fail   func(call int) error
	signal chan struct{}
}

func newRecordingSender() *recordingSender {
	return &recordingSender{signal: make(chan struct{}, 1000)}
}

func (s *recordingSender) Send(_ context.Context, batch []outbox.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		if err := s.fail(s.calls); err != nil {
			return err
		}
	}
	s.got = append(s.got, batch...)
	s.signal <- struct{}{}
	return nil
}

func (s *recordingSender) events() []outbox.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]outbox.Event(nil), s.got...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func event(t *testing.T, key string, version int64) outbox.Event {
	t.Helper()
	e, err := outbox.New("item.updated", key, version, time.Now(), map[string]any{"id": key, "version": version})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startRelay runs r until the test ends and returns a function that stops it and
// reports how long stopping took.
func startRelay(t *testing.T, r *outbox.Relay) (stop func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var once sync.Once
	var took time.Duration
	stop = func() time.Duration {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case <-done:
				took = time.Since(start)
			case <-time.After(10 * time.Second):
				t.Fatal("relay did not stop within 10s")
			}
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return stop
}

func settings() outbox.Settings {
	return outbox.Settings{PollInterval: time.Hour, BatchSize: 3, PublishTimeout: time.Second}
}

func TestNewEventEnvelope(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	e, err := outbox.New("item.created", "A1", 1, at, map[string]string{"id": "A1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ID) != 36 || e.ID[14] != '7' {
		t.Errorf("ID = %q, want a UUIDv7", e.ID)
	}
	if !e.Time.Equal(at) || e.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", e.Time, at)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "type", "item_id", "item_version", "time", "data"} {
		if _, ok := got[k]; !ok {
			t.Errorf("envelope %s has no %q", raw, k)
		}
	}
	deleted, err := outbox.New("item.deleted", "A1", 2, at, nil)
	if err != nil || string(deleted.Data) != "null" {
		t.Errorf("delete event data = %s, %v; want null", deleted.Data, err)
	}
	if deleted.ID == e.ID {
		t.Error("two events got the same ID")
	}
}

func TestRelayDrainsMemoryQueueInOrder(t *testing.T) {
	q := outbox.NewMemory(100)
	var want []string
	for i := range 10 {
		e := event(t, fmt.Sprintf("item-%d", i%3), int64(i))
		want = append(want, e.ID)
		if err := q.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	sender := newRecordingSender()
	startRelay(t, outbox.NewRelay(q, sender, settings(), slog.New(slog.DiscardHandler)))
	waitFor(t, 5*time.Second, "all 10 events sent", func() bool { return len(sender.events()) == 10 })
	for i, e := range sender.events() {
		if e.ID != want[i] {
			t.Fatalf("event %d is %s, want %s: the queue's order was not kept", i, e.ID, want[i])
		}
	}
	if n, _, _ := q.Pending(context.Background()); n != 0 {
		t.Errorf("%d events still pending after they were sent", n)
	}
}

func TestRelayWakesOnNudge(t *testing.T) {
	q := outbox.NewMemory(100)
	sender := newRecordingSender()
	r := outbox.NewRelay(q, sender, settings(), slog.New(slog.DiscardHandler)) // polls hourly
	startRelay(t, r)
	time.Sleep(50 * time.Millisecond) // the first, empty poll is over
	if err := q.Add(event(t, "A", 1)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r.Nudge()
	waitFor(t, 2*time.Second, "nudged event sent", func() bool { return len(sender.events()) == 1 })
	if took := time.Since(start); took > time.Second {
		t.Errorf("nudged event took %s", took)
	}
}

func TestRelayRetriesFailedBatches(t *testing.T) {
	q := outbox.NewMemory(100)
	for i := range 3 {
		if err := q.Add(event(t, "A", int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	sender := newRecordingSender()
	sender.fail = func(call int) error {
		if call <= 2 {
			return errors.New("broker down")
		}
		return nil
	}
	obs := &countingObserver{}
	startRelay(t, outbox.NewRelay(q, sender, settings(), slog.New(slog.DiscardHandler), outbox.WithObserver(obs)))
	waitFor(t, 5*time.Second, "events sent after two failures", func() bool { return len(sender.events()) == 3 })
	for i, e := range sender.events() {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d: a retried batch came out of order", i, e.Version)
		}
	}
	if f := obs.failures.Load(); f != 2 {
		t.Errorf("observer saw %d publish failures, want 2", f)
	}
}

type countingObserver struct {
	failures atomic.Int64
	pending  atomic.Int64
}

func (o *countingObserver) Pending(n int, _ time.Duration) { o.pending.Store(int64(n)) }
func (o *countingObserver) PublishFailed()                 { o.failures.Add(1) }

// hangingSender never returns until released, whatever its context says: a broker
// client stuck on a broker that accepted the connection and never answers.
type hangingSender struct {
	calls   atomic.Int64
	release chan struct{}
}

func (s *hangingSender) Send(context.Context, []outbox.Event) error {
	s.calls.Add(1)
	<-s.release
	return nil
}

func TestRelayIsBoundedByDeadlineAgainstAHangingSender(t *testing.T) {
	q := outbox.NewMemory(100)
	if err := q.Add(event(t, "A", 1)); err != nil {
		t.Fatal(err)
	}
	sender := &hangingSender{release: make(chan struct{})}
	t.Cleanup(func() { close(sender.release) })
	obs := &countingObserver{}
	s := settings()
	s.PublishTimeout = 100 * time.Millisecond
	stop := startRelay(t, outbox.NewRelay(q, sender, s, slog.New(slog.DiscardHandler), outbox.WithObserver(obs)))

	// Each attempt is abandoned at its deadline, counted, and tried again.
	waitFor(t, 5*time.Second, "three abandoned attempts", func() bool { return sender.calls.Load() >= 3 })
	waitFor(t, 3*time.Second, "the backlog reported", func() bool { return obs.pending.Load() == 1 })
	if obs.failures.Load() < 2 {
		t.Errorf("observer saw %d failures after %d hung attempts", obs.failures.Load(), sender.calls.Load())
	}
	// Shutdown is not held up: at most the in-flight attempt and the final drain.
	if took := stop(); took > 3*s.PublishTimeout+200*time.Millisecond {
		t.Errorf("relay took %s to stop against a hanging sender, want about 2x the %s publish timeout", took, s.PublishTimeout)
	}
	if n, _, _ := q.Pending(context.Background()); n != 1 {
		t.Errorf("%d events pending, want the unacknowledged one kept", n)
	}
}

func TestNudgesDoNotCutABackoffShort(t *testing.T) {
	q := outbox.NewMemory(100)
	if err := q.Add(event(t, "A", 1)); err != nil {
		t.Fatal(err)
	}
	sender := newRecordingSender()
	sender.fail = func(int) error { return errors.New("broker down") }
	r := outbox.NewRelay(q, sender, settings(), slog.New(slog.DiscardHandler))
	startRelay(t, r)
	waitFor(t, 2*time.Second, "the first attempt", func() bool {
		sender.mu.Lock()
		defer sender.mu.Unlock()
		return sender.calls >= 1
	})
	// A busy service nudges after every write; a broker that is down must not be
	// hammered at that rate: attempts stay paced by the backoff.
	for range 200 {
		r.Nudge()
		time.Sleep(time.Millisecond)
	}
	sender.mu.Lock()
	calls := sender.calls
	sender.mu.Unlock()
	if calls > 4 {
		t.Errorf("%d attempts in about 250ms of nudges against a failing broker, want a few (backoff)", calls)
	}
}

func TestRelayPublishesPendingEventsOnStop(t *testing.T) {
	q := outbox.NewMemory(100)
	sender := newRecordingSender()
	r := outbox.NewRelay(q, sender, settings(), slog.New(slog.DiscardHandler))
	stop := startRelay(t, r)
	time.Sleep(50 * time.Millisecond)
	if err := q.Add(event(t, "A", 1)); err != nil { // no nudge: only the stop drains it
		t.Fatal(err)
	}
	stop()
	if len(sender.events()) != 1 {
		t.Errorf("sent %d events at stop, want the pending one", len(sender.events()))
	}
}

func TestMemoryQueueIsBounded(t *testing.T) {
	q := outbox.NewMemory(2)
	if err := q.Add(event(t, "A", 1), event(t, "A", 2)); err != nil {
		t.Fatal(err)
	}
	if err := q.Add(event(t, "A", 3)); !errors.Is(err, outbox.ErrFull) {
		t.Fatalf("Add to a full queue = %v, want ErrFull", err)
	}
	n, oldest, err := q.Pending(context.Background())
	if err != nil || n != 2 || time.Since(oldest) > time.Minute {
		t.Errorf("Pending = %d, %v, %v; want 2 and a recent time", n, oldest, err)
	}
}
