package kafka

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/acme/orders-api/internal/outbox"
)

// tracer starts the spans of publishing and consuming, from the global TracerProvider.
var tracer = otel.Tracer("github.com/acme/orders-api/internal/kafka")

// headers carries trace context in a record's headers (a propagation.TextMapCarrier).
type headers struct{ r *kgo.Record }

// Get returns the value of the header key, "" when there is none.
func (h headers) Get(key string) string {
	for _, hd := range h.r.Headers {
		if hd.Key == key {
			return string(hd.Value)
		}
	}
	return ""
}

// Set sets the header key to value, replacing a header of that key.
func (h headers) Set(key, value string) {
	for i := range h.r.Headers {
		if h.r.Headers[i].Key == key {
			h.r.Headers[i].Value = []byte(value)
			return
		}
	}
	h.r.Headers = append(h.r.Headers, kgo.RecordHeader{Key: key, Value: []byte(value)})
}

// Keys returns the keys of the headers.
func (h headers) Keys() []string {
	keys := make([]string, len(h.r.Headers))
	for i, hd := range h.r.Headers {
		keys[i] = hd.Key
	}
	return keys
}

// startPublish starts the producer span of each event's record, "publish
// <topic>": a child of the request that stored the event (the traceparent it
// kept; a new trace when it kept none). The record's trace headers become the
// span's, so that a consumer's span is the span's child.
func (p *Publisher) startPublish(ctx context.Context, batch []outbox.Event, records []*kgo.Record) []trace.Span {
	spans := make([]trace.Span, len(batch))
	for i, e := range batch {
		ectx, span := tracer.Start(e.TraceContext(ctx), "publish "+p.topic,
			trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(
				semconv.MessagingSystemKafka,
				semconv.MessagingOperationTypeSend,
				semconv.MessagingOperationName("publish"),
				semconv.MessagingDestinationName(p.topic),
				semconv.MessagingMessageID(e.ID),
				semconv.MessagingKafkaMessageKey(e.Key),
			))
		otel.GetTextMapPropagator().Inject(ectx, headers{records[i]})
		spans[i] = span
	}
	return spans
}

// endPublish ends the spans of a batch: with the partition and offset each record
// was written at, or failed with err. (Only after a success are the records the
// producer's no more: a failed batch's records may still be in flight.)
func endPublish(spans []trace.Span, records []*kgo.Record, err error) {
	for i, span := range spans {
		if err == nil {
			span.SetAttributes(
				semconv.MessagingDestinationPartitionID(strconv.Itoa(int(records[i].Partition))),
				semconv.MessagingKafkaOffset(int(records[i].Offset)),
			)
		}
		fail(span, err)
		span.End()
	}
}

// startProcess starts the consumer span of a record, "process <topic>": a child
// of the publish span its headers carry.
func (c *Consumer) startProcess(ctx context.Context, r *kgo.Record) (context.Context, trace.Span) {
	ctx = otel.GetTextMapPropagator().Extract(ctx, headers{r})
	return tracer.Start(ctx, "process "+r.Topic,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			semconv.MessagingSystemKafka,
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingDestinationName(r.Topic),
			semconv.MessagingConsumerGroupName(c.group),
			semconv.MessagingDestinationPartitionID(strconv.Itoa(int(r.Partition))),
			semconv.MessagingKafkaOffset(int(r.Offset)),
			semconv.MessagingMessageID(headers{r}.Get(headerEventID)),
			semconv.MessagingKafkaMessageKey(string(r.Key)),
		))
}

// fail marks span failed with err; a nil err leaves it as it is.
func fail(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorType(err))
	}
}
