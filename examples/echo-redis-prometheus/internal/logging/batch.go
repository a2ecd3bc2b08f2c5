package logging

import (
	"io"
	"sync"
	"time"
)

// BatchDelay is how long a line written to a BatchWriter may wait for others to share
// its write.
const BatchDelay = time.Millisecond

// maxBatch is the most a BatchWriter holds: a burst that fills it is written at once,
// by the goroutine whose line filled it.
const maxBatch = 64 << 10

// BatchWriter passes what is written to it on to out, in batches: the lines written
// within BatchDelay of the first one pending go out in one write. A busy service
// logs a line per request; written one by one, each line is a system call (and, on
// the pipe a container's output goes to, a wakeup of the reader) costing a few per
// cent of a cached read. Batched, a service answering ten thousand requests a
// second makes about a thousand writes for them.
//
// The price: a line waits up to BatchDelay before it is written, so a process that
// dies without running Close (kill -9, a crash) loses the lines of its last
// millisecond. Handler flushes after every warning and error (see New), so the lines
// that explain a failure are not among them; run in main defers Close first, so that
// it runs last, after every deferred clean-up has logged.
type BatchWriter struct {
	out   io.Writer
	timer *time.Timer // armed while lines are pending

	mu      sync.Mutex // guards the fields below
	pending []byte
	spare   []byte // the last batch written, reused for the next
	closed  bool

	writing sync.Mutex // held while a batch is written: batches go out one at a time, in order
}

// NewBatchWriter returns a BatchWriter in front of out.
func NewBatchWriter(out io.Writer) *BatchWriter {
	w := &BatchWriter{out: out}
	w.timer = time.AfterFunc(time.Hour, func() { _ = w.Flush() })
	w.timer.Stop()
	return w
}

// Write queues p (one log line, as slog writes them) for the next batch; after
// Close it writes p at once. p is copied, never kept.
func (w *BatchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	first := len(w.pending) == 0
	w.pending = append(w.pending, p...)
	now := w.closed || len(w.pending) >= maxBatch
	w.mu.Unlock()
	switch {
	case now:
		return len(p), w.Flush()
	case first:
		w.timer.Reset(BatchDelay)
	}
	return len(p), nil
}

// Flush writes what is pending now.
func (w *BatchWriter) Flush() error { return w.flush(false) }

// Close writes what is pending; later writes go straight to out.
func (w *BatchWriter) Close() error {
	w.timer.Stop()
	return w.flush(true)
}

// flush writes what is pending; closing marks the writer closed under the same
// locks, so that no write made after Close can overtake the lines pending before it.
func (w *BatchWriter) flush(closing bool) error {
	w.writing.Lock()
	defer w.writing.Unlock()
	w.mu.Lock()
	w.closed = w.closed || closing
	batch := w.pending
	w.pending, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	_, err := w.out.Write(batch)
	if cap(batch) <= 2*maxBatch { // a rare huge line's buffer is not kept
		w.mu.Lock()
		w.spare = batch[:0]
		w.mu.Unlock()
	}
	return err
}
