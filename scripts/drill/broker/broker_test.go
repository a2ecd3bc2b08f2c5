package broker

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestHungThenServing is the broker's whole life: while hung, a Kafka client's request is
// accepted at TCP level and never answered (it ends only by its deadline); after Serve, the same
// client on the same address produces, and Read finds every key with its headers.
func TestHungThenServing(t *testing.T) {
	b, err := Hang(0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("drill.items"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	start := time.Now()
	err = cl.Ping(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping of the hung broker = %v, want the caller's deadline", err)
	}
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Fatalf("Ping of the hung broker failed after %s: it was refused, not hung", d)
	}
	if b.Hung() == 0 {
		t.Fatal("the hung broker holds no connection: the client never reached it")
	}
	if c, err := net.Dial("tcp", b.Addr()); err != nil {
		t.Fatalf("a hung broker accepts TCP: %v", err)
	} else {
		c.Close()
	}

	if err := b.Serve(); err != nil {
		t.Fatal(err)
	}
	if b.Hung() != 0 || !b.Serving() {
		t.Fatalf("after Serve: %d hung connections, serving %v", b.Hung(), b.Serving())
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	want := []string{"item-1", "item-2", "item-3"}
	for _, k := range want {
		r := &kgo.Record{Key: []byte(k), Value: []byte(`{}`), Headers: []kgo.RecordHeader{
			{Key: "event_id", Value: []byte("ev-" + k)}, {Key: "event_type", Value: []byte("item.created")},
			{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")},
		}}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce to the served broker: %v", err)
		}
	}
	if p := b.Produced(); p.Records != len(want) || p.First.IsZero() || p.Last.Before(p.First) {
		t.Errorf("Produced = %+v, want %d records", p, len(want))
	}
	recs, err := Read(ctx, b.Addr(), "drill.items", want)
	if err != nil {
		t.Fatalf("Read: %v (read %v)", err, recs)
	}
	if m := Missing(recs, want); len(m) != 0 {
		t.Fatalf("missing %v in %v", m, recs)
	}
	for _, r := range recs {
		if r.EventID != "ev-"+r.Key || r.EventType != "item.created" || r.Traceparent != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
			t.Errorf("record %+v: headers not read", r)
		}
	}
	if m := Missing(recs, []string{"item-1", "item-9"}); len(m) != 1 || m[0] != "item-9" {
		t.Errorf("Missing = %v, want [item-9]", m)
	}
}

// TestSwallowProduce: while swallowing, the broker answers metadata but no Produce (the request
// ends only by the client's deadline); once it stops, Produce is answered again.
func TestSwallowProduce(t *testing.T) {
	b, err := Hang(0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Serve(); err != nil {
		t.Fatal(err)
	}
	b.SwallowProduce(true)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("metadata while swallowing Produce: %v", err)
	}
	produce := func(d time.Duration) (*kmsg.ProduceResponse, error) {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = 1, 1000
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		resp, err := req.RequestWith(ctx, cl)
		return resp, err
	}
	start := time.Now()
	if _, err := produce(500 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Produce while swallowing = %v after %s, want the caller's deadline", err, time.Since(start))
	}
	b.SwallowProduce(false)
	cl2, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, 1000
	if _, err := req.RequestWith(ctx, cl2); err != nil {
		t.Fatalf("Produce after swallowing stopped: %v", err)
	}
}
