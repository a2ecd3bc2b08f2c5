package kafka

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/outbox"
	"github.com/acme/orders-api/internal/tracing/tracingtest"
)

// traceID is the trace id of a W3C traceparent ("" when it is too short to have one).
func traceID(traceparent string) string {
	if len(traceparent) < 35 {
		return ""
	}
	return traceparent[3:35]
}

// spanOfEvent returns the ended span named name whose messaging.message.id is id.
func spanOfEvent(t *testing.T, name, id string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found sdktrace.ReadOnlySpan
	eventually(t, name+" span of event "+id, func() bool {
		for _, s := range tracingtest.Ended() {
			if got, _ := tracingtest.Attr(s, semconv.MessagingMessageIDKey); s.Name() == name && got.AsString() == id {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

func TestPublishContinuesTheTraceTheEventKept(t *testing.T) {
	cluster := newCluster(t)
	p := newPublisher(t, testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second}))
	ctx, tr := tracingtest.Start(t)
	traced := testEvent("item.created", "T1", 1)
	traced.Traceparent = outbox.Traceparent(ctx)
	untraced := testEvent("item.created", "T2", 1)
	// The relay sends outside any request: its context has no span.
	if err := p.Send(context.Background(), []outbox.Event{traced, untraced}); err != nil {
		t.Fatal(err)
	}

	span := tr.Span(t, "publish "+topic)
	if span.SpanKind() != trace.SpanKindProducer {
		t.Errorf("kind = %v, want producer", span.SpanKind())
	}
	if span.Parent().SpanID() != tr.Root.SpanID() {
		t.Errorf("parent = %v, want the span the event kept, %v", span.Parent().SpanID(), tr.Root.SpanID())
	}
	for key, want := range map[attribute.Key]string{
		semconv.MessagingSystemKey:          "kafka",
		semconv.MessagingDestinationNameKey: topic,
		semconv.MessagingMessageIDKey:       traced.ID,
		semconv.MessagingOperationTypeKey:   "send",
	} {
		if got, _ := tracingtest.Attr(span, key); got.String() != want {
			t.Errorf("%s = %q, want %q", key, got.String(), want)
		}
	}
	// An event that kept no trace context is published in a trace of its own.
	if other := spanOfEvent(t, "publish "+topic, untraced.ID); other.Parent().IsValid() {
		t.Errorf("the untraced event's publish span has the parent %v, want none", other.Parent())
	}

	// The record carries the publish span's context, for the consumers.
	want := "00-" + span.SpanContext().TraceID().String() + "-" + span.SpanContext().SpanID().String() + "-01"
	for _, r := range readRecords(t, cluster.ListenAddrs(), topic, 2) {
		if id, _ := header(r, "event_id"); id == traced.ID {
			if tp, _ := header(r, "traceparent"); tp != want {
				t.Errorf("record traceparent = %q, want the publish span's %q", tp, want)
			}
		}
	}
}

func TestAFailedPublishMarksItsSpan(t *testing.T) {
	cfg := testConfig([]string{"127.0.0.1:1"}, breaker.Settings{Failures: 5, OpenTimeout: time.Second})
	cfg.PublishTimeout = 300 * time.Millisecond
	p := newPublisher(t, cfg)
	ctx, tr := tracingtest.Start(t)
	e := testEvent("item.created", "F1", 1)
	e.Traceparent = outbox.Traceparent(ctx)
	if err := p.Send(context.Background(), []outbox.Event{e}); err == nil {
		t.Fatal("Send to a refusing broker succeeded")
	}
	if span := tr.Span(t, "publish "+topic); span.Status().Code != codes.Error {
		t.Errorf("status = %v, want an error", span.Status())
	}
}

func TestConsumerContinuesTheTraceOfTheRecord(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	ctx, tr := tracingtest.Start(t)
	e := testEvent("item.created", "C1", 1)
	e.Traceparent = outbox.Traceparent(ctx)
	publish(t, cfg, e)
	handled := make(chan trace.SpanContext, 10)
	runConsumer(t, cfg, func(ctx context.Context, _ outbox.Event) error {
		handled <- trace.SpanContextFromContext(ctx)
		return nil
	})
	var inHandler trace.SpanContext
	select {
	case inHandler = <-handled:
	case <-time.After(waitFor):
		t.Fatal("the handler was not called")
	}

	publishSpan := tr.Span(t, "publish "+topic)
	process := spanOfEvent(t, "process "+topic, e.ID)
	if process.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kind = %v, want consumer", process.SpanKind())
	}
	if process.Parent().SpanID() != publishSpan.SpanContext().SpanID() || process.SpanContext().TraceID() != tr.Root.TraceID() {
		t.Errorf("process span in trace %v with parent %v, want a child of the publish span %v",
			process.SpanContext().TraceID(), process.Parent().SpanID(), publishSpan.SpanContext().SpanID())
	}
	if inHandler.SpanID() != process.SpanContext().SpanID() {
		t.Errorf("the handler's context has the span %v, want the process span %v", inHandler.SpanID(), process.SpanContext().SpanID())
	}
	if got, _ := tracingtest.Attr(process, semconv.MessagingConsumerGroupNameKey); got.AsString() != cfg.ConsumerGroup {
		t.Errorf("messaging.consumer.group.name = %q, want %q", got.AsString(), cfg.ConsumerGroup)
	}
}

func TestAFailedEventMarksItsProcessSpan(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 3, OpenTimeout: time.Second})
	ctx, _ := tracingtest.Start(t)
	e := testEvent("item.created", "D1", 1)
	e.Traceparent = outbox.Traceparent(ctx)
	publish(t, cfg, e)
	runConsumer(t, cfg, func(context.Context, outbox.Event) error { return errors.New("cannot handle it") })
	if span := spanOfEvent(t, "process "+topic, e.ID); span.Status().Code != codes.Error {
		t.Errorf("process span of a dead-lettered event: status %v, want an error", span.Status())
	}
}
