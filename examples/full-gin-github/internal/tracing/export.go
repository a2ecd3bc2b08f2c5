package tracing

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The span counts of the process's provider (Setup sets up one per process).
var (
	spansEnded    atomic.Uint64
	spansExported atomic.Uint64
	spansFailed   atomic.Uint64
)

// Counter is one of the span counts, for exporting as a metric.
type Counter struct {
	Name, Help string
	Value      func() float64
}

// Counters are the counts of the spans the service produced and what became of them.
// The SDK's batch processor drops spans silently when its queue is full (it counts
// them only in its experimental self-observability metrics), so those drops show as
// the gap between ended and exported plus failed, less the few spans queued.
func Counters() []Counter {
	return []Counter{
		{"otel_spans_ended_total", "Sampled spans ended and handed to the batch processor for export.", count(&spansEnded)},
		{"otel_spans_exported_total", "Spans the OTLP collector accepted.", count(&spansExported)},
		{"otel_spans_dropped_total", "Spans lost because the OTLP export of their batch failed (collector down, slow or refusing); spans dropped from a full queue are the rest of otel_spans_ended_total.", count(&spansFailed)},
	}
}

func count(n *atomic.Uint64) func() float64 {
	return func() float64 { return float64(n.Load()) }
}

// endCounter counts the sampled spans that end; it runs before the batch processor.
type endCounter struct{}

func (endCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (endCounter) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanContext().IsSampled() { // the batch processor exports only these
		spansEnded.Add(1)
	}
}

func (endCounter) Shutdown(context.Context) error   { return nil }
func (endCounter) ForceFlush(context.Context) error { return nil }

// countingExporter counts the spans of the batches it exports and of those that fail.
type countingExporter struct {
	sdktrace.SpanExporter
}

func (e countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		spansFailed.Add(uint64(len(spans)))
	} else {
		spansExported.Add(uint64(len(spans)))
	}
	return err
}

// errorLog is OpenTelemetry's error handler: it logs an error at most once per
// interval, with the number of errors left out since the last line.
type errorLog struct {
	logger   *slog.Logger
	interval time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newErrorLog(logger *slog.Logger, interval time.Duration) *errorLog {
	return &errorLog{logger: logger, interval: interval}
}

// Handle logs err unless another error was logged less than interval ago.
func (l *errorLog) Handle(err error) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	l.logger.Warn("opentelemetry error (spans may be lost; requests are not affected)",
		slog.String("error", err.Error()), slog.Int("suppressed", suppressed))
}
