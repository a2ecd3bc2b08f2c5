package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/outbox"
)

// slack is what a bounded Send may take beyond its deadline on a loaded machine
// running the race detector. Without the bound, the attempts below take tens of seconds.
const slack = 500 * time.Millisecond

// swallowProduce makes the cluster read every Produce request and never answer it,
// while it answers everything else (metadata included), until the returned
// function is called.
func swallowProduce(c *kfake.Cluster) (release func()) {
	var swallow atomic.Bool
	swallow.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		// Handled with neither a response nor an error: the request is dropped.
		return nil, nil, swallow.Load()
	})
	return func() { swallow.Store(false) }
}

// sendTimed sends batch and returns Send's error and how long it took.
func sendTimed(ctx context.Context, p *Publisher, batch ...outbox.Event) (time.Duration, error) {
	start := time.Now()
	err := p.Send(ctx, batch)
	return time.Since(start), err
}

func TestSendWritesTheDocumentedRecords(t *testing.T) {
	cluster := newCluster(t)
	p := newPublisher(t, testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second}))
	ctx := context.Background()
	if err := p.Check(ctx); err != nil {
		t.Fatalf("Check with the cluster up: %v", err)
	}
	traced := testEvent("item.created", "A1", 1)
	traced.Traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	batch := []outbox.Event{traced, testEvent("item.created", "B2", 1), testEvent("item.updated", "A1", 2), testEvent("item.deleted", "A1", 3)}
	if err := p.Send(ctx, batch); err != nil {
		t.Fatalf("Send: %v", err)
	}

	byID := map[string]outbox.Event{}
	for _, e := range batch {
		byID[e.ID] = e
	}
	versions := map[string][]int64{}
	for _, r := range readRecords(t, cluster.ListenAddrs(), topic, len(batch)) {
		id, _ := header(r, "event_id")
		e, ok := byID[id]
		if !ok {
			t.Fatalf("record with event_id header %q, not an event sent", id)
		}
		want, _ := json.Marshal(e)
		if !bytes.Equal(r.Value, want) {
			t.Errorf("value = %s, want %s", r.Value, want)
		}
		if string(r.Key) != e.Key {
			t.Errorf("key = %q, want the item ID %q", r.Key, e.Key)
		}
		if typ, _ := header(r, "event_type"); typ != e.Type {
			t.Errorf("event_type header = %q, want %q", typ, e.Type)
		}
		if ct, _ := header(r, "content-type"); ct != "application/json" {
			t.Errorf("content-type header = %q", ct)
		}
		// The publish span's context, in the trace the event kept (trace_test.go checks the span).
		if tp, _ := header(r, "traceparent"); e.Traceparent != "" && traceID(tp) != traceID(e.Traceparent) {
			t.Errorf("traceparent header = %q, want one in the trace of %q", tp, e.Traceparent)
		}
		versions[e.Key] = append(versions[e.Key], e.Version)
	}
	if got := versions["A1"]; len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("A1's events arrived as versions %v, want 1, 2, 3 in order", got)
	}
}

func TestSendEmptyBatchIsANoOp(t *testing.T) {
	p := newPublisher(t, testConfig([]string{"127.0.0.1:1"}, breaker.Settings{Failures: 1, OpenTimeout: time.Hour}))
	if err := p.Send(context.Background(), nil); err != nil {
		t.Fatalf("Send(nil) = %v", err)
	}
}

// TestSendIsBoundedWhenProduceIsNeverAnswered is the hung broker franz-go's
// idempotent producer cannot give up on: metadata is answered, Produce never is.
// Every attempt ends at its deadline and counts as a breaker failure; once Produce
// is answered again the next attempt succeeds.
func TestSendIsBoundedWhenProduceIsNeverAnswered(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 4, OpenTimeout: 200 * time.Millisecond})
	cfg.PublishTimeout = 300 * time.Millisecond
	p := newPublisher(t, cfg)
	ctx := context.Background()
	if err := p.Send(ctx, []outbox.Event{testEvent("item.created", "warm", 1)}); err != nil {
		t.Fatalf("Send before the broker hangs: %v", err)
	}
	release := swallowProduce(cluster)

	// Bounded by the publish timeout, attempt after attempt (franz-go backs a
	// partition off for longer after every failure: the bound must not depend on it).
	for i := range 3 {
		elapsed, err := sendTimed(ctx, p, testEvent("item.created", "X"+strconv.Itoa(i), 1))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send %d to a broker that never answers Produce = %v, want a deadline error", i+1, err)
		}
		if elapsed > cfg.PublishTimeout+slack {
			t.Errorf("Send %d took %s, want about the %s publish timeout", i+1, elapsed, cfg.PublishTimeout)
		}
	}
	// Bounded by the caller's deadline when that comes first.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	elapsed, err := sendTimed(short, p, testEvent("item.created", "Y", 1))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || elapsed > 100*time.Millisecond+slack {
		t.Errorf("Send with a 100ms context = %v after %s, want a deadline error after about 100ms", err, elapsed)
	}

	// Four failures in a row: the breaker is open and Send fails at once.
	elapsed, err = sendTimed(ctx, p, testEvent("item.created", "Z", 1))
	if !errors.Is(err, breaker.ErrOpen) || elapsed > 50*time.Millisecond {
		t.Fatalf("Send after 4 timeouts = %v after %s, want ErrOpen at once", err, elapsed)
	}

	release()
	time.Sleep(cfg.Breaker.OpenTimeout)
	back := testEvent("item.created", "back", 1)
	if err := p.Send(ctx, []outbox.Event{back}); err != nil {
		t.Fatalf("Send after the broker answers again: %v", err)
	}
	readEvent(t, cluster.ListenAddrs(), topic, back.ID)
}

// TestSendIsBoundedWhenProduceIsSlow: the broker holds a Produce request past the
// deadline and answers it later, to a client Send has abandoned by then. The late
// answer must not disturb the next Send.
func TestSendIsBoundedWhenProduceIsSlow(t *testing.T) {
	cluster := newCluster(t)
	release := make(chan struct{})
	var once sync.Once
	wake := func() { once.Do(func() { close(release) }) }
	t.Cleanup(wake)
	var slept atomic.Bool
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if slept.CompareAndSwap(false, true) {
			cluster.SleepControl(func() { <-release })
		}
		return nil, nil, false // then answered as usual
	})
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	cfg.PublishTimeout = 300 * time.Millisecond
	p := newPublisher(t, cfg)
	ctx := context.Background()

	elapsed, err := sendTimed(ctx, p, testEvent("item.created", "S", 1))
	if !errors.Is(err, context.DeadlineExceeded) || elapsed > cfg.PublishTimeout+slack {
		t.Fatalf("Send to a broker slower than the timeout = %v after %s, want a deadline error after about %s", err, elapsed, cfg.PublishTimeout)
	}
	wake()
	next := testEvent("item.updated", "S", 2)
	if elapsed, err := sendTimed(ctx, p, next); err != nil || elapsed > cfg.PublishTimeout {
		t.Fatalf("Send after the slow answer = %v after %s", err, elapsed)
	}
	// The abandoned attempt may have been written as well: at least once.
	readEvent(t, cluster.ListenAddrs(), topic, next.ID)
}

// TestSendIsBoundedWhenTheBrokerNeverAnswers: a listener that accepts TCP and
// never answers anything, then a real broker on the same port.
func TestSendIsBoundedWhenTheBrokerNeverAnswers(t *testing.T) {
	addr, stop := hungListener(t)
	cfg := testConfig([]string{addr}, breaker.Settings{Failures: 2, OpenTimeout: 100 * time.Millisecond})
	cfg.PublishTimeout = 300 * time.Millisecond
	p := newPublisher(t, cfg)
	ctx := context.Background()
	for i := range 2 {
		elapsed, err := sendTimed(ctx, p, testEvent("item.created", "H", 1))
		if err == nil || elapsed > cfg.PublishTimeout+slack {
			t.Fatalf("Send %d to a hung broker = %v after %s, want an error after about %s", i+1, err, elapsed, cfg.PublishTimeout)
		}
	}
	if _, err := sendTimed(ctx, p, testEvent("item.created", "H", 1)); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("Send after 2 timeouts = %v, want ErrOpen", err)
	}
	time.Sleep(cfg.Breaker.OpenTimeout) // half-open: Check's ping is the trial call
	checkCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Check(checkCtx); err == nil || err.Error() != "no broker answered in time" || time.Since(start) > 200*time.Millisecond+slack {
		t.Errorf("Check with a hung broker = %v after %s, want \"no broker answered in time\" after its 200ms", err, time.Since(start))
	}

	// The broker comes back on the same address.
	stop()
	_, port, _ := net.SplitHostPort(addr)
	portNum, _ := strconv.Atoi(port)
	cluster := newCluster(t, kfake.Ports(portNum))
	back := testEvent("item.created", "back", 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := p.Send(ctx, []outbox.Event{back})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Send still fails 10s after the broker came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	readEvent(t, cluster.ListenAddrs(), topic, back.ID)
}

func TestSendIsBoundedWhenTheBrokerRefuses(t *testing.T) {
	cfg := testConfig([]string{"127.0.0.1:1"}, breaker.Settings{Failures: 2, OpenTimeout: time.Hour})
	cfg.PublishTimeout = 200 * time.Millisecond
	p := newPublisher(t, cfg)
	for i := range 2 {
		elapsed, err := sendTimed(context.Background(), p, testEvent("item.created", "R", 1))
		if err == nil || elapsed > cfg.PublishTimeout+slack {
			t.Fatalf("Send %d with nothing listening = %v after %s, want an error within %s", i+1, err, elapsed, cfg.PublishTimeout)
		}
	}
	elapsed, err := sendTimed(context.Background(), p, testEvent("item.created", "R", 1))
	if !errors.Is(err, breaker.ErrOpen) || elapsed > 50*time.Millisecond {
		t.Fatalf("Send with the breaker open = %v after %s, want ErrOpen at once", err, elapsed)
	}
	if err := p.Check(context.Background()); err == nil || err.Error() != "circuit breaker open" {
		t.Errorf("Check = %v, want \"circuit breaker open\"", err)
	}
}

// TestConcurrentSendsAndCloseWhileHung: senders racing against a hung broker and
// Close; every Send returns in time and Close leaves no goroutine (TestMain checks).
func TestConcurrentSendsAndCloseWhileHung(t *testing.T) {
	cluster := newCluster(t)
	swallowProduce(cluster)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 1000, OpenTimeout: time.Hour})
	cfg.PublishTimeout = 200 * time.Millisecond
	p := newPublisher(t, cfg)
	errs := make(chan error, 8)
	for i := range cap(errs) {
		go func() {
			_, err := sendTimed(context.Background(), p, testEvent("item.created", "C"+strconv.Itoa(i%3), 1), testEvent("item.updated", "C"+strconv.Itoa(i%3), 2))
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond)
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	timeout := time.After(cfg.PublishTimeout + 2*slack)
	for range cap(errs) {
		select {
		case err := <-errs:
			if err == nil {
				t.Error("a Send to a broker that never answers Produce succeeded")
			}
		case <-timeout:
			t.Fatal("Sends did not return in time")
		}
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := p.Send(context.Background(), []outbox.Event{testEvent("item.created", "late", 1)}); err == nil {
		t.Error("Send after Close succeeded")
	}
}

// BenchmarkSend100 reports the publishing throughput in events/s for batches of
// 100 events (kfake in-process, one broker):
//
//	go test -run '^$' -bench Send100 ./internal/kafka
func BenchmarkSend100(b *testing.B) {
	cluster := newCluster(b)
	p := newPublisher(b, testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 5, OpenTimeout: time.Second}))
	batch := make([]outbox.Event, 100)
	for i := range batch {
		batch[i] = testEvent("item.updated", "item-"+strconv.Itoa(i%10), int64(i+1))
	}
	ctx := context.Background()
	if err := p.Send(ctx, batch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := p.Send(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}
