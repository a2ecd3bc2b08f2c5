package items_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/outbox"
	"github.com/acme/orders-api/internal/tracing/tracingtest"
)

func TestEventsKeepTheTraceOfTheirWrite(t *testing.T) {
	q := outbox.NewMemory(100)
	repo := items.NewMemoryRepository(items.WithOutbox(q, nil))
	ctx, tr := tracingtest.Start(t)
	if _, _, err := repo.Create(ctx, items.Item{ID: "A", Name: "a"}, items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Update(context.Background(), items.Item{ID: "A", Name: "b"}, 1); err != nil {
		t.Fatal(err)
	}
	events := drain(t, q)
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
	want := "00-" + tr.Root.TraceID().String() + "-" + tr.Root.SpanID().String() + "-01"
	if events[0].Traceparent != want {
		t.Errorf("traceparent of the traced write = %q, want its span %q", events[0].Traceparent, want)
	}
	if events[1].Traceparent != "" {
		t.Errorf("traceparent of a write outside any trace = %q, want none", events[1].Traceparent)
	}

	// Publishing continues the write's trace: the stored span is the parent.
	parent := trace.SpanContextFromContext(events[0].TraceContext(context.Background()))
	if !parent.IsRemote() || parent.TraceID() != tr.Root.TraceID() || parent.SpanID() != tr.Root.SpanID() || !parent.IsSampled() {
		t.Errorf("the event's trace context = %+v, want the write's span %+v, remote", parent, tr.Root)
	}
	if got := trace.SpanContextFromContext(events[1].TraceContext(context.Background())); got.IsValid() {
		t.Errorf("an event without traceparent has the trace context %+v, want none", got)
	}
	broken := events[0]
	broken.Traceparent = "00-not-a-trace-01"
	if got := trace.SpanContextFromContext(broken.TraceContext(context.Background())); got.IsValid() {
		t.Errorf("a malformed traceparent gave the trace context %+v, want none", got)
	}
}
