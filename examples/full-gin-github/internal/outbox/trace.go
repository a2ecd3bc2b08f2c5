package outbox

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// traceparentKey is the W3C trace context's header, and the one field of a
// trace context an event keeps.
const traceparentKey = "traceparent"

// Traceparent returns the W3C traceparent of ctx's span ("" when ctx has none):
// what an event keeps of the request that made it, so that publishing the event
// continues the request's trace although it happens later, in the relay. The
// tracestate and baggage of the request are not kept.
func Traceparent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	return carrier[traceparentKey]
}

// TraceContext returns ctx with the span of the request that made e as its
// remote parent: spans started from it continue that request's trace. ctx is
// returned as it is when e keeps no valid traceparent.
func (e Event) TraceContext(ctx context.Context) context.Context {
	if e.Traceparent == "" {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, propagation.MapCarrier{traceparentKey: e.Traceparent})
}
