package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/health"
	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/logging"
	"github.com/acme/orders-api/internal/metrics"
	"github.com/acme/orders-api/internal/server"
	"github.com/acme/orders-api/internal/tracing"
)

// BenchmarkTracingItemRead is the cost of tracing on a read: GET of one item through
// the whole middleware chain (access log at info level, RED metrics with exemplars)
// from the in-memory repository, with tracing off (the no-op provider, as with
// OTEL_SDK_DISABLED=true) and with the SDK sampling root spans at 0, 10 and 100 %
// (OTEL_TRACES_SAMPLER=parentbased_traceidratio), exporting in batches through the
// service's span processor to an exporter that discards them. Requests the sampler
// leaves out should cost little more than off: compare allocs/op, which load on the
// machine does not disturb.
// scripts/bench-tracing.sh in svcgen measures the whole service against Redis (issue
// L's budget: at 10 %, read-hit throughput within 5 % of a service without tracing).
func BenchmarkTracingItemRead(b *testing.B) {
	for _, c := range []struct {
		name     string
		provider func() trace.TracerProvider
	}{
		{"off", func() trace.TracerProvider { return noop.NewTracerProvider() }},
		{"unsampled", sdkProvider(b, 0)},
		{"sampled10", sdkProvider(b, 0.1)},
		{"sampled100", sdkProvider(b, 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			// The server takes the global provider and propagator when it is built.
			provider, propagator := otel.GetTracerProvider(), otel.GetTextMapPropagator()
			b.Cleanup(func() {
				otel.SetTracerProvider(provider)
				otel.SetTextMapPropagator(propagator)
			})
			otel.SetTracerProvider(c.provider())
			otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))

			svc := items.NewService(items.NewMemoryRepository())
			item, _, err := svc.Create(context.Background(), items.Input{Name: "bench", Price: 100}, items.Idempotency{})
			if err != nil {
				b.Fatal(err)
			}
			deps := server.Deps{
				Config: config.Config{RequestTimeout: 10 * time.Second, BodyLimitBytes: 1 << 20, RetryAfterUnavailable: 5 * time.Second},
				Logger: logging.New(io.Discard, slog.LevelInfo),
				Items:  svc,
				Health: health.NewRegistry(),
			}
			deps.Metrics = metrics.New()
			h := server.New(deps)
			req := httptest.NewRequest(http.MethodGet, "/v1/items/"+item.ID, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// discardExporter takes every batch and keeps nothing: the benchmark measures the
// service's side of exporting (the batch processor), not a collector's.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// sdkProvider returns a function making the SDK's provider that samples ratio of the
// root spans and follows the parent's decision otherwise, shut down when b ends.
func sdkProvider(b *testing.B, ratio float64) func() trace.TracerProvider {
	return func() trace.TracerProvider {
		p := sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
			sdktrace.WithSpanProcessor(tracing.NewBatcher(discardExporter{})),
		)
		b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
		return p
	}
}
