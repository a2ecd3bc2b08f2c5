package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/outbox"
)

// TestMain fails the package when a test leaves a goroutine behind: every client a
// Publisher or Consumer abandons must be closed by the time they are.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const topic = "test.items"

// newCluster starts kfake, franz-go's in-process Kafka that speaks the real
// protocol, with the events topic and its dead-letter topic.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(2, topic, topic+".dlq")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func testConfig(brokers []string, set breaker.Settings) config.Kafka {
	return config.Kafka{
		Brokers:              brokers,
		Topic:                topic,
		ConsumerGroup:        "test-group",
		ConsumerMaxAttempts:  3,
		ConsumerRetryBackoff: 10 * time.Millisecond,
		DLQTopic:             topic + ".dlq",
		PublishTimeout:       2 * time.Second,
		Breaker:              set,
	}
}

func newPublisher(t testing.TB, cfg config.Kafka) *Publisher {
	t.Helper()
	p, err := NewPublisher(cfg, breaker.New("kafka", cfg.Breaker), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

var eventSeq = struct {
	sync.Mutex
	n int
}{}

// testEvent is an event as the outbox writes it: a fresh UUID-shaped id, and the
// item's JSON as data (null for a deletion).
func testEvent(typ, itemID string, version int64) outbox.Event {
	eventSeq.Lock()
	eventSeq.n++
	n := eventSeq.n
	eventSeq.Unlock()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	data := json.RawMessage("null")
	if typ != "item.deleted" {
		data, _ = json.Marshal(map[string]any{
			"id": itemID, "name": "Widget", "price": 100 * version,
			"created_at": at, "updated_at": at.Add(time.Duration(version) * time.Second),
		})
	}
	return outbox.Event{
		ID:      fmt.Sprintf("0190a1b2-c3d4-7e5f-8a9b-%012x", n),
		Type:    typ,
		Key:     itemID,
		Version: version,
		Time:    at.Add(time.Duration(version) * time.Second),
		Data:    data,
	}
}

// readRecords consumes n records of topic from its start.
func readRecords(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	return consume(t, brokers, topic, func(got []*kgo.Record) bool { return len(got) >= n })
}

// readEvent consumes topic from its start until the event with the given id.
func readEvent(t *testing.T, brokers []string, topic, id string) {
	t.Helper()
	consume(t, brokers, topic, func(got []*kgo.Record) bool {
		for _, r := range got {
			if v, _ := header(r, "event_id"); v == id {
				return true
			}
		}
		return false
	})
}

// consume reads topic from its start until done says the records read so far are enough.
func consume(t *testing.T, brokers []string, topic string, done func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	reader, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []*kgo.Record
	for !done(got) {
		fetches := reader.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of %s before the deadline, not the ones expected", len(got), topic)
		}
		got = append(got, fetches.Records()...)
	}
	return got
}

// header returns the value of the record header key, and whether it is there.
func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// hungListener accepts connections and never answers: a broker that is hung or
// behind a partition that drops packets. It returns its address.
func hungListener(t *testing.T) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = ln.Close()
			<-done
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}
