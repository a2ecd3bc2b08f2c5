package kafka

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/outbox"
)

// waitFor is how long a test waits for the consumer to join its group and get
// through the records: kfake needs a moment for the group, the race detector more.
const waitFor = 15 * time.Second

// runConsumer runs a consumer of cfg until the returned stop is called (or the test ends).
func runConsumer(t *testing.T, cfg config.Kafka, handler Handler, opts ...ConsumerOption) (stop func()) {
	t.Helper()
	c, err := NewConsumer(cfg, slog.New(slog.DiscardHandler), handler, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-stopped:
			case <-time.After(stopTimeout + 5*time.Second):
				t.Error("the consumer did not stop after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// recorder is a Handler that remembers the events it was called with.
type recorder struct {
	mu     sync.Mutex
	calls  []outbox.Event
	result func(e outbox.Event, call int) error // nil: accept every event
}

func (r *recorder) handle(ctx context.Context, e outbox.Event) error {
	r.mu.Lock()
	r.calls = append(r.calls, e)
	n := 0
	for _, c := range r.calls {
		if c.ID == e.ID {
			n++
		}
	}
	result := r.result
	r.mu.Unlock()
	if result == nil {
		return nil
	}
	return result(e, n)
}

// keys returns the item IDs of the calls, in order.
func (r *recorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.calls {
		out = append(out, e.Key)
	}
	return out
}

// eventually fails the test unless cond holds within waitFor.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingMetrics records what the consumer reports.
type countingMetrics struct {
	mu                            sync.Mutex
	handled, failed, deadLettered int
	lagReported                   bool
}

func (m *countingMetrics) Handled()      { m.mu.Lock(); m.handled++; m.mu.Unlock() }
func (m *countingMetrics) Failed()       { m.mu.Lock(); m.failed++; m.mu.Unlock() }
func (m *countingMetrics) DeadLettered() { m.mu.Lock(); m.deadLettered++; m.mu.Unlock() }
func (m *countingMetrics) Lag(topic string, _ int32, lag int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lagReported = m.lagReported || (topic == "test.items" && lag >= 0)
}

func (m *countingMetrics) counts() (handled, failed, deadLettered int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.handled, m.failed, m.deadLettered
}

func publish(t *testing.T, cfg config.Kafka, events ...outbox.Event) {
	t.Helper()
	p := newPublisher(t, cfg)
	if err := p.Send(context.Background(), events); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

// TestConsumerCommitsOnlyWhatItHandled: the consumer is stopped while its handler
// is busy with the second of three events; the next member of the group starts at
// that event, not after the ones merely polled.
func TestConsumerCommitsOnlyWhatItHandled(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	events := []outbox.Event{testEvent("item.created", "K", 1), testEvent("item.updated", "K", 2), testEvent("item.updated", "K", 3)}
	publish(t, cfg, events...)

	busy := make(chan struct{})
	first := &recorder{result: func(e outbox.Event, _ int) error {
		if e.ID == events[1].ID {
			close(busy)
			time.Sleep(100 * time.Millisecond)
			return errors.New("interrupted by the shutdown")
		}
		return nil
	}}
	cfg.ConsumerRetryBackoff = time.Minute // the shutdown comes during the backoff
	stop := runConsumer(t, cfg, first.handle)
	select {
	case <-busy:
	case <-time.After(waitFor):
		t.Fatal("the consumer did not reach the second event")
	}
	stop()

	second := &recorder{}
	runConsumer(t, cfg, second.handle)
	eventually(t, "the second member to read the rest", func() bool { return len(second.keys()) >= 2 })
	time.Sleep(200 * time.Millisecond)
	second.mu.Lock()
	defer second.mu.Unlock()
	if len(second.calls) != 2 || second.calls[0].ID != events[1].ID || second.calls[1].ID != events[2].ID {
		t.Errorf("the next member handled %v, want events 2 and 3 (1 was committed, 2 was not handled)", second.calls)
	}
}

// TestConsumerRetriesThenDeadLetters: an event that fails twice is handled on
// the third call; one that always fails goes to the dead-letter topic after
// KAFKA_CONSUMER_MAX_ATTEMPTS calls with the error in a header; the partition
// moves on to the next event either way.
func TestConsumerRetriesThenDeadLetters(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	flaky, bad, next := testEvent("item.created", "F", 1), testEvent("item.created", "F", 2), testEvent("item.created", "F", 3)
	publish(t, cfg, flaky, bad, next)

	m := &countingMetrics{}
	h := &recorder{result: func(e outbox.Event, call int) error {
		switch {
		case e.ID == flaky.ID && call < 3:
			return errors.New("database busy")
		case e.ID == bad.ID:
			return errors.New("price must not be negative")
		}
		return nil
	}}
	runConsumer(t, cfg, h.handle, WithConsumerMetrics(m))
	eventually(t, "the third event to be handled", func() bool { return slices.Contains(h.keys(), "F") && len(h.keys()) >= 7 })

	dead := readRecords(t, cluster.ListenAddrs(), cfg.DLQTopic, 1)
	if id, _ := header(dead[0], "event_id"); id != bad.ID {
		t.Fatalf("dead-lettered event %q, want %q", id, bad.ID)
	}
	for key, want := range map[string]string{
		"dlq_error":    "price must not be negative",
		"dlq_attempts": "3",
		"dlq_topic":    topic,
	} {
		if got, _ := header(dead[0], key); got != want {
			t.Errorf("dead-letter header %s = %q, want %q", key, got, want)
		}
	}
	if string(dead[0].Key) != bad.Key {
		t.Errorf("dead-letter key = %q, want %q", dead[0].Key, bad.Key)
	}
	if err := loadAsyncAPI(t)["dead-letter"].headers.Validate(headerMap(dead[0])); err != nil {
		t.Errorf("dead-letter headers do not match api/asyncapi.yaml: %v", err)
	}
	eventually(t, "the metrics", func() bool { h, f, d := m.counts(); return h == 2 && f == 5 && d == 1 })
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.lagReported {
		t.Error("no lag reported")
	}
}

// TestConsumerDeadLettersAPanickingHandler: the panic is recovered, the event
// dead-lettered without retries, and the consumer goes on.
func TestConsumerDeadLettersAPanickingHandler(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	boom, after := testEvent("item.created", "P", 1), testEvent("item.updated", "P", 2)
	publish(t, cfg, boom, after)

	h := &recorder{result: func(e outbox.Event, _ int) error {
		if e.ID == boom.ID {
			panic("a bug")
		}
		return nil
	}}
	runConsumer(t, cfg, h.handle)
	eventually(t, "the event after the panic", func() bool { return len(h.keys()) == 2 })
	dead := readRecords(t, cluster.ListenAddrs(), cfg.DLQTopic, 1)
	if msg, _ := header(dead[0], "dlq_error"); !strings.Contains(msg, "handler panicked") {
		t.Errorf("dlq_error = %q, want the panic", msg)
	}
	if n, _ := header(dead[0], "dlq_attempts"); n != "1" {
		t.Errorf("dlq_attempts = %q, want 1: a panic is not retried", n)
	}
}

// TestConsumerDeadLettersUndecodableRecords: a record that is not an event cannot
// be handled at all; it is dead-lettered and does not stop the partition.
func TestConsumerDeadLettersUndecodableRecords(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	writer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if err := writer.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: []byte("U"), Value: []byte("not json")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	good := testEvent("item.created", "U", 1)
	publish(t, cfg, good)

	h := &recorder{}
	runConsumer(t, cfg, h.handle)
	eventually(t, "the event after the bad record", func() bool { return len(h.keys()) == 1 })
	dead := readRecords(t, cluster.ListenAddrs(), cfg.DLQTopic, 1)
	if string(dead[0].Value) != "not json" {
		t.Errorf("dead-lettered %q, want the undecodable record", dead[0].Value)
	}
	if msg, _ := header(dead[0], "dlq_error"); !strings.HasPrefix(msg, "undecodable event") {
		t.Errorf("dlq_error = %q", msg)
	}
}

// TestConsumerDropsDuplicates: the outbox may deliver an event twice (a batch that
// timed out may have been written); the handler sees it once.
func TestConsumerDropsDuplicates(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	e, next := testEvent("item.created", "D", 1), testEvent("item.updated", "D", 2)
	publish(t, cfg, e, e, next, e)

	h := &recorder{}
	runConsumer(t, cfg, h.handle)
	eventually(t, "the next event", func() bool { return len(h.keys()) >= 2 })
	time.Sleep(200 * time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.calls) != 2 || h.calls[0].ID != e.ID || h.calls[1].ID != next.ID {
		t.Errorf("handled %d events, want the duplicated one once and the next one", len(h.calls))
	}
}

func TestRecentIDsForgetsTheOldest(t *testing.T) {
	r := newRecentIDs(2)
	r.add("a")
	r.add("b")
	r.contains("a") // a is now the most recent
	r.add("c")      // evicts b
	if !r.contains("a") || r.contains("b") || !r.contains("c") {
		t.Errorf("after a, b, a, c with room for 2: a %v, b %v, c %v; want a and c", r.contains("a"), r.contains("b"), r.contains("c"))
	}
}

func TestConsumerStopsWithBrokersAway(t *testing.T) {
	stop := runConsumer(t, testConfig([]string{"127.0.0.1:1"}, breaker.Settings{}), LogEvents(slog.New(slog.DiscardHandler)))
	time.Sleep(100 * time.Millisecond)
	stop()
}
