package tracing

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// batchConfig is the batch processor's configuration: the OTEL_BSP_* variables, with
// the specification's defaults.
type batchConfig struct {
	maxQueue, maxBatch int
	delay, timeout     time.Duration // timeout 0: exports are not cut short
}

// batchConfigFromEnv reads OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
// OTEL_BSP_SCHEDULE_DELAY and OTEL_BSP_EXPORT_TIMEOUT (milliseconds). As the SDK does,
// it keeps the default of a value that is not valid; warn is told of each.
func batchConfigFromEnv(warn func(error)) batchConfig {
	read := func(key string, def, least int) int {
		v := strings.TrimSpace(os.Getenv(key))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < least {
			warn(fmt.Errorf("%s: %q is not an integer >= %d; the default %d is used", key, v, least, def))
			return def
		}
		return n
	}
	c := batchConfig{
		maxQueue: read("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1),
		maxBatch: read("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1),
		delay:    time.Duration(read("OTEL_BSP_SCHEDULE_DELAY", 5000, 1)) * time.Millisecond,
		timeout:  time.Duration(read("OTEL_BSP_EXPORT_TIMEOUT", 30000, 0)) * time.Millisecond,
	}
	c.maxBatch = min(c.maxBatch, c.maxQueue)
	return c
}

// batcher is the span processor: it queues the sampled spans that end and exports
// them in batches in the background, as the SDK's BatchSpanProcessor does and
// configured by the same variables, at a lower cost per span. The SDK's processor
// hands each span to its export goroutine over a channel, which wakes that goroutine
// for every span (two thread switches when the machine is not saturated); here a span
// is appended to the queue under a lock, and the export goroutine wakes on its
// schedule, when a batch is full, or to flush. It also counts what becomes of the
// spans (Counters), the ones dropped from a full queue included, which the SDK's
// processor does not tell.
type batcher struct {
	exporter sdktrace.SpanExporter
	config   batchConfig

	mu      sync.Mutex
	queue   []sdktrace.ReadOnlySpan
	stopped bool // no more spans are queued

	full     chan struct{}   // a batch's worth waits (buffered: a signal, never a wait)
	flush    chan chan error // ForceFlush's requests
	stop     chan struct{}   // closed by Shutdown
	stopOnce sync.Once
	done     chan struct{} // closed when the export goroutine has exported the last spans

	// exports is the context of every export: cancelled when Shutdown gives up, so
	// that a hung collector does not hold the last export for its whole timeout.
	exports context.Context
	cancel  context.CancelFunc
}

// NewBatcher returns the span processor Setup gives the provider, exporting to
// exporter and configured by OTEL_BSP_* (an invalid value keeps its default
// silently): for benchmarks that build a provider of their own.
func NewBatcher(exporter sdktrace.SpanExporter) sdktrace.SpanProcessor {
	return newBatcher(exporter, batchConfigFromEnv(func(error) {}))
}

func newBatcher(exporter sdktrace.SpanExporter, config batchConfig) *batcher {
	b := &batcher{
		exporter: exporter,
		config:   config,
		full:     make(chan struct{}, 1),
		flush:    make(chan chan error),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	b.exports, b.cancel = context.WithCancel(context.Background())
	go b.run()
	return b
}

// OnStart does nothing: only ended spans are exported.
func (b *batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s if it was sampled, or counts it dropped when the queue is full. It
// never waits for an export.
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	spansEnded.Add(1)
	b.mu.Lock()
	if b.stopped || len(b.queue) >= b.config.maxQueue {
		b.mu.Unlock()
		spansDropped.Add(1)
		return
	}
	b.queue = append(b.queue, s)
	n := len(b.queue)
	b.mu.Unlock()
	if n >= b.config.maxBatch {
		select {
		case b.full <- struct{}{}:
		default: // already signalled
		}
	}
}

// run exports the queue: full batches as soon as they are full, the rest on the
// schedule, on a flush and at shutdown.
func (b *batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(b.config.delay)
	defer timer.Stop()
	batch := make([]sdktrace.ReadOnlySpan, 0, b.config.maxBatch)
	for {
		select {
		// An export's error has been handed to otel.Handle and its spans counted
		// dropped; only a flush returns it, to its caller.
		case <-b.full:
			_ = b.export(&batch, b.config.maxBatch)
		case <-timer.C:
			_ = b.export(&batch, 1)
			timer.Reset(b.config.delay)
		case ack := <-b.flush:
			ack <- b.export(&batch, 1)
		case <-b.stop:
			_ = b.export(&batch, 1)
			return
		}
	}
}

// export exports the queue in batches of up to maxBatch spans (the oldest first), as
// long as at least least spans wait, and returns the last export's error.
func (b *batcher) export(batch *[]sdktrace.ReadOnlySpan, least int) error {
	var last error
	for {
		b.mu.Lock()
		if len(b.queue) < least || len(b.queue) == 0 {
			b.mu.Unlock()
			return last
		}
		n := min(len(b.queue), b.config.maxBatch)
		*batch = append((*batch)[:0], b.queue[:n]...)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:]) // let the exported spans be collected
		b.queue = b.queue[:rest]
		b.mu.Unlock()

		ctx, cancel := b.exports, context.CancelFunc(func() {})
		if b.config.timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, b.config.timeout)
		}
		err := b.exporter.ExportSpans(ctx, *batch)
		cancel()
		if err != nil {
			spansDropped.Add(uint64(len(*batch)))
			otel.Handle(err)
			last = err
		} else {
			spansExported.Add(uint64(len(*batch)))
		}
		clear(*batch)
	}
}

// ForceFlush exports every span queued, and returns the error of the last export,
// or ctx's when it ends first.
func (b *batcher) ForceFlush(ctx context.Context) error {
	ack := make(chan error, 1)
	select {
	case b.flush <- ack:
	case <-b.done:
		return nil // shut down: nothing is queued
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops queueing, exports what is queued and shuts the exporter down, giving
// up when ctx ends (the spans not exported by then are lost, and counted).
func (b *batcher) Shutdown(ctx context.Context) error {
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		close(b.stop)
	})
	select {
	case <-b.done:
	case <-ctx.Done():
		b.cancel() // the export under way fails, and its spans are counted dropped
		return ctx.Err()
	}
	b.cancel()
	return b.exporter.Shutdown(ctx)
}
