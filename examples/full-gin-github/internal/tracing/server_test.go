package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TestHeaderCarrier: the propagators read the W3C headers of a request through
// headerCarrier as through propagation.HeaderCarrier, from the canonical keys the
// server stores them under, baggage spread over two headers included.
func TestHeaderCarrier(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	r.Header.Set("tracestate", "vendor=value")
	r.Header.Add("baggage", "tenant=acme")
	r.Header.Add("baggage", "region=eu")
	r.Header.Set("X-Other", "other")

	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	ctx := prop.Extract(context.Background(), headerCarrier(r.Header))
	sc := trace.SpanContextFromContext(ctx)
	if sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !sc.IsSampled() || !sc.IsRemote() {
		t.Errorf("span context %v, want the traceparent's, sampled and remote", sc)
	}
	if got := sc.TraceState().Get("vendor"); got != "value" {
		t.Errorf("tracestate vendor = %q, want value", got)
	}
	bag := baggage.FromContext(ctx)
	if bag.Member("tenant").Value() != "acme" || bag.Member("region").Value() != "eu" {
		t.Errorf("baggage %q, want tenant=acme and region=eu", bag.String())
	}
	if got := headerCarrier(r.Header).Get("x-other"); got != "other" {
		t.Errorf("Get(x-other) = %q, want other (keys other than the W3C ones go through http.Header)", got)
	}
	if got := headerCarrier(r.Header).Get("traceparent"); got == "" {
		t.Error("Get(traceparent) found nothing")
	}
}
