package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/items"
)

const topic = "test.items"

// newCluster starts kfake, franz-go's in-process Kafka that speaks the real
// protocol, with the events topic.
func newCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func testConfig(brokers []string, set breaker.Settings) config.Kafka {
	return config.Kafka{Brokers: brokers, Topic: topic, ConsumerGroup: "test-group", PublishTimeout: 2 * time.Second, Breaker: set}
}

func newPublisher(t *testing.T, cfg config.Kafka) *Publisher {
	t.Helper()
	p, err := NewPublisher(cfg, breaker.New("kafka", cfg.Breaker), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func testEvent(id string) items.Event {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return items.Event{Type: items.EventCreated, Item: items.Item{ID: id, Name: "Widget", Price: 100, CreatedAt: now, UpdatedAt: now}, At: now}
}

func TestPublishSendsJSONKeyedByItemID(t *testing.T) {
	cluster := newCluster(t)
	p := newPublisher(t, testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second}))
	ctx := context.Background()
	if err := p.Check(ctx); err != nil {
		t.Fatalf("Check with the cluster up: %v", err)
	}
	for _, id := range []string{"A1", "B2"} {
		if err := p.Publish(ctx, testEvent(id)); err != nil {
			t.Fatalf("Publish %s: %v", id, err)
		}
	}

	reader, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	got := map[string]items.Event{}
	deadline, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(got) < 2 {
		fetches := reader.PollFetches(deadline)
		if deadline.Err() != nil {
			t.Fatalf("read %d of 2 events before the deadline", len(got))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			var e items.Event
			if err := json.Unmarshal(r.Value, &e); err != nil {
				t.Errorf("record value %q is not an event: %v", r.Value, err)
				return
			}
			if string(r.Key) != e.Item.ID {
				t.Errorf("record key %q, want the item ID %q", r.Key, e.Item.ID)
			}
			if len(r.Headers) != 1 || r.Headers[0].Key != "type" || string(r.Headers[0].Value) != string(items.EventCreated) {
				t.Errorf("headers = %+v", r.Headers)
			}
			got[e.Item.ID] = e
		})
	}
	if want := testEvent("A1"); got["A1"].Type != want.Type || got["A1"].Item != want.Item || !got["A1"].At.Equal(want.At) {
		t.Errorf("event = %+v, want %+v", got["A1"], want)
	}
}

// TestBrokerDownFailsFastAndOpensBreaker injects a failing dependency (a cluster
// that has gone away): publishing fails within the timeout, the breaker opens,
// and from then on a write does not wait for the broker at all.
func TestBrokerDownFailsFastAndOpensBreaker(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 2, OpenTimeout: time.Hour})
	cfg.PublishTimeout = 300 * time.Millisecond
	p := newPublisher(t, cfg)
	cluster.Close()

	ctx := context.Background()
	for i := range 2 {
		start := time.Now()
		if err := p.Publish(ctx, testEvent("X")); err == nil {
			t.Fatalf("Publish %d with the cluster gone succeeded", i+1)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("Publish %d took %s, want it bounded by the 300ms publish timeout", i+1, elapsed)
		}
	}
	start := time.Now()
	if err := p.Publish(ctx, testEvent("X")); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("Publish with the breaker open = %v, want ErrOpen", err)
	}
	if elapsed := time.Since(start); elapsed > 50*time.Millisecond {
		t.Errorf("Publish with the breaker open took %s, want immediate", elapsed)
	}
	if err := p.Check(ctx); err == nil || err.Error() != "circuit breaker open" {
		t.Errorf("Check = %v, want \"circuit breaker open\"", err)
	}
}

func TestServiceWritesAreNotFailedByTheBroker(t *testing.T) {
	cfg := testConfig([]string{"127.0.0.1:1"}, breaker.Settings{Failures: 1, OpenTimeout: time.Hour})
	cfg.PublishTimeout = 200 * time.Millisecond
	p := newPublisher(t, cfg)
	svc := items.NewService(items.NewMemoryRepository(), items.WithPublisher(p))
	start := time.Now()
	for range 3 {
		if _, err := svc.Create(context.Background(), items.Input{Name: "Widget", Price: 1}); err != nil {
			t.Fatalf("Create with no broker: %v", err)
		}
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("3 creates took %s with the broker away, want about one publish timeout", elapsed)
	}
}

func TestConsumerHandlesEventsAndStopsGracefully(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	p := newPublisher(t, cfg)

	var mu sync.Mutex
	var seen []string
	received := make(chan struct{}, 10)
	consumer, err := NewConsumer(cfg, slog.New(slog.DiscardHandler), func(_ context.Context, e items.Event) error {
		mu.Lock()
		seen = append(seen, e.Item.ID)
		mu.Unlock()
		received <- struct{}{}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); consumer.Run(ctx) }()

	for _, id := range []string{"C1", "C2"} {
		if err := p.Publish(context.Background(), testEvent(id)); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case <-received:
		case <-time.After(15 * time.Second):
			t.Fatal("the consumer did not receive the events")
		}
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the consumer did not stop after its context was cancelled")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Errorf("handled %v, want C1 and C2", seen)
	}
}

func TestConsumerStopsWithBrokersAway(t *testing.T) {
	consumer, err := NewConsumer(testConfig([]string{"127.0.0.1:1"}, breaker.Settings{}), slog.New(slog.DiscardHandler), LogEvents(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); consumer.Run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-stopped:
	case <-time.After(stopTimeout + 5*time.Second):
		t.Fatal("the consumer did not stop with the brokers away")
	}
}
