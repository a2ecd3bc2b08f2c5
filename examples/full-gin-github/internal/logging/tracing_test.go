package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/acme/orders-api/internal/logging"
	"github.com/acme/orders-api/internal/requestid"
)

// TestTraceFromContext: a line logged with a context that carries a valid span names
// its trace and span; without one (or with an invalid one) it names none.
func TestTraceFromContext(t *testing.T) {
	var buf bytes.Buffer
	logger := logging.New(&buf, slog.LevelInfo)
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	span := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}) // not sampled: still valid
	ctx := trace.ContextWithSpanContext(requestid.NewContext(context.Background(), "req-t"), span)

	logger.InfoContext(ctx, "in a traced request")
	logger.InfoContext(trace.ContextWithSpanContext(context.Background(), span), "traced, no request ID")
	logger.InfoContext(trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}), "invalid span")
	logger.Info("no context")

	got := lines(t, &buf)
	want := []struct{ requestID, traceID, spanID string }{
		{"req-t", tid.String(), sid.String()},
		{"", tid.String(), sid.String()},
		{"", "", ""},
		{"", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i, w := range want {
		for key, v := range map[string]string{"request_id": w.requestID, "trace_id": w.traceID, "span_id": w.spanID} {
			value, has := got[i][key]
			if (v == "" && has) || (v != "" && value != v) {
				t.Errorf("line %d (%s): %s = %v, want %q", i, got[i]["msg"], key, value, v)
			}
		}
	}
}
