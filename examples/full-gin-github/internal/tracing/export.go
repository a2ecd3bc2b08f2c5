package tracing

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The span counts of the process's provider (Setup sets up one per process).
var (
	spansEnded    atomic.Uint64
	spansExported atomic.Uint64
	spansDropped  atomic.Uint64
)

// Counter is one of the span counts, for exporting as a metric.
type Counter struct {
	Name, Help string
	Value      func() float64
}

// Counters are the counts of the spans the service produced and what became of them
// (the batcher keeps them): every span ended is exported or dropped, but for the few
// queued.
func Counters() []Counter {
	return []Counter{
		{"otel_spans_ended_total", "Sampled spans ended and handed to the batch processor for export.", count(&spansEnded)},
		{"otel_spans_exported_total", "Spans the OTLP collector accepted.", count(&spansExported)},
		{"otel_spans_dropped_total", "Spans lost: dropped from the full export queue, or in a failed OTLP export of their batch (collector down, slow or refusing).", count(&spansDropped)},
	}
}

func count(n *atomic.Uint64) func() float64 {
	return func() float64 { return float64(n.Load()) }
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
