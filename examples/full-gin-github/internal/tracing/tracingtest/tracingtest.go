// Package tracingtest records spans in memory, so that the tests of instrumented
// packages can check the spans a call makes. Only tests import it.
package tracingtest

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var (
	install  sync.Once
	recorder = tracetest.NewSpanRecorder()
)

// Start returns a context with a new root span, ended when the test ends, and
// its trace. The first call makes the global TracerProvider record every span in
// memory and the global propagator W3C trace context and baggage, for the rest of
// the test binary: a tracer taken from the global provider stays with the first
// provider set, so tests share one recorder and tell their spans apart by trace.
func Start(t testing.TB) (context.Context, *Trace) {
	t.Helper()
	installRecorder()
	ctx, root := otel.Tracer("tracingtest").Start(t.Context(), t.Name())
	t.Cleanup(func() { root.End() })
	return ctx, &Trace{Root: root.SpanContext()}
}

// Unsampled returns a context in a new trace that the sampler left out, as a request
// not sampled has it (a valid trace context whose sampled flag is off), and that
// trace. The recorder samples every span it is asked to start, so a span started in
// the trace shows in Spans: instrumentation should start none there.
func Unsampled(t testing.TB) (context.Context, *Trace) {
	t.Helper()
	installRecorder()
	var cfg trace.SpanContextConfig
	_, _ = rand.Read(cfg.TraceID[:])
	_, _ = rand.Read(cfg.SpanID[:])
	sc := trace.NewSpanContext(cfg)
	return trace.ContextWithSpanContext(t.Context(), sc), &Trace{Root: sc}
}

// installRecorder makes the global TracerProvider record every span in memory (see Start).
func installRecorder() {
	install.Do(func() {
		otel.SetTracerProvider(sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSpanProcessor(recorder),
		))
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	})
}

// Trace is the trace of a test's root span.
type Trace struct {
	Root trace.SpanContext
}

// Spans returns the ended spans of the trace named name, in the order they ended.
func (tr *Trace) Spans(name string) []sdktrace.ReadOnlySpan {
	var spans []sdktrace.ReadOnlySpan
	for _, s := range Ended() {
		if s.SpanContext().TraceID() == tr.Root.TraceID() && s.Name() == name {
			spans = append(spans, s)
		}
	}
	return spans
}

// Span returns the one ended span of the trace named name, failing the test
// unless there is exactly one.
func (tr *Trace) Span(t testing.TB, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := tr.Spans(name)
	if len(spans) != 1 {
		var names []string
		for _, s := range Ended() {
			if s.SpanContext().TraceID() == tr.Root.TraceID() {
				names = append(names, s.Name())
			}
		}
		t.Fatalf("%d spans named %q in the trace, want 1; the trace has %q", len(spans), name, names)
	}
	return spans[0]
}

// Ended returns every span ended so far, of every test of the binary.
func Ended() []sdktrace.ReadOnlySpan { return recorder.Ended() }

// Attr returns the value of the attribute key of span, and whether it is set.
func Attr(span sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range span.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}
