package tracing

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// fakeExporter records the size of every batch; while gate is open (not nil and not
// closed), exports wait on it.
type fakeExporter struct {
	gate chan struct{}

	mu      sync.Mutex
	batches []int
}

func (e *fakeExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.gate != nil {
		select {
		case <-e.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.batches = append(e.batches, len(spans))
	return nil
}

func (*fakeExporter) Shutdown(context.Context) error { return nil }

func (e *fakeExporter) exported() (spans int, batches []int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range e.batches {
		spans += n
	}
	return spans, append([]int(nil), e.batches...)
}

// endSpans ends n spans of a provider processing them with b and sampling with sampler.
func endSpans(b *batcher, sampler sdktrace.Sampler, n int) {
	p := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(b))
	for range n {
		_, s := p.Tracer("test").Start(context.Background(), "s")
		s.End()
	}
}

// TestBatcherExportsFullBatchesAtOnce: a full batch is exported without waiting for
// the schedule; the rest waits for it, or for a flush. Unsampled spans are not queued.
func TestBatcherExportsFullBatchesAtOnce(t *testing.T) {
	e := &fakeExporter{}
	b := newBatcher(e, batchConfig{maxQueue: 100, maxBatch: 3, delay: time.Hour})
	defer func() { _ = b.Shutdown(context.Background()) }()
	endSpans(b, sdktrace.NeverSample(), 5)
	endSpans(b, sdktrace.AlwaysSample(), 7)
	deadline := time.Now().Add(2 * time.Second)
	for n, _ := e.exported(); n < 6; n, _ = e.exported() {
		if time.Now().After(deadline) {
			t.Fatalf("%d spans exported within 2s, want the two full batches' 6 long before the schedule's hour", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n, batches := e.exported(); n != 6 {
		t.Errorf("exported batches %v before a flush, want [3 3]: the 7th span waits", batches)
	}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, batches := e.exported(); n != 7 {
		t.Errorf("exported batches %v after a flush, want [3 3 1]", batches)
	}
}

// TestBatcherFullQueueDropsAndCounts: with the collector stuck, ending spans never
// waits; what the queue cannot hold is dropped, and every span ended is counted as
// exported or dropped.
func TestBatcherFullQueueDropsAndCounts(t *testing.T) {
	ended, exported, dropped := spansEnded.Load(), spansExported.Load(), spansDropped.Load()
	e := &fakeExporter{gate: make(chan struct{})}
	b := newBatcher(e, batchConfig{maxQueue: 4, maxBatch: 2, delay: time.Hour})
	start := time.Now()
	endSpans(b, sdktrace.AlwaysSample(), 50)
	if d := time.Since(start); d > time.Second {
		t.Errorf("ending 50 spans took %s with the export stuck", d)
	}
	close(e.gate)
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, _ := e.exported()
	gotEnded, gotExported, gotDropped := spansEnded.Load()-ended, spansExported.Load()-exported, spansDropped.Load()-dropped
	if gotEnded != 50 || gotExported != uint64(n) || gotDropped != 50-uint64(n) || n > 6 {
		t.Errorf("ended %d, exported %d (the exporter got %d), dropped %d: want 50 ended, at most 6 exported (a batch in export and a full queue of 4), the rest dropped",
			gotEnded, gotExported, n, gotDropped)
	}
}

// TestBatcherShutdownGivesUp: Shutdown returns when its context ends even when an
// export hangs, and the spans of that export are counted dropped.
func TestBatcherShutdownGivesUp(t *testing.T) {
	dropped := spansDropped.Load()
	e := &fakeExporter{gate: make(chan struct{})} // never opened
	b := newBatcher(e, batchConfig{maxQueue: 10, maxBatch: 10, delay: time.Hour})
	endSpans(b, sdktrace.AlwaysSample(), 3)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's deadline", err)
	}
	<-b.done // the hung export was cancelled
	if n := spansDropped.Load() - dropped; n != 3 {
		t.Errorf("dropped count grew by %d, want the 3 spans of the cancelled export", n)
	}
	endSpans(b, sdktrace.AlwaysSample(), 1) // after shutdown: dropped, never queued
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Errorf("ForceFlush after shutdown = %v", err)
	}
}

func TestBatchConfigFromEnv(t *testing.T) {
	for k, v := range map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "512",
		"OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "0"} {
		t.Setenv(k, v)
	}
	var warnings []string
	warn := func(err error) { warnings = append(warnings, err.Error()) }
	want := batchConfig{maxQueue: 100, maxBatch: 100, delay: 250 * time.Millisecond} // the batch no larger than the queue
	if got := batchConfigFromEnv(warn); got != want || len(warnings) != 0 {
		t.Errorf("config %+v (warnings %q), want %+v", got, warnings, want)
	}

	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "lots")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "0")
	want = batchConfig{maxQueue: 2048, maxBatch: 512, delay: 5 * time.Second}
	if got := batchConfigFromEnv(warn); got != want {
		t.Errorf("config %+v, want %+v: the defaults of the invalid values", got, want)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0]+warnings[1], "OTEL_BSP_MAX_QUEUE_SIZE") || !strings.Contains(warnings[0]+warnings[1], "OTEL_BSP_SCHEDULE_DELAY") {
		t.Errorf("warnings %q, want one naming each invalid variable", warnings)
	}
}
