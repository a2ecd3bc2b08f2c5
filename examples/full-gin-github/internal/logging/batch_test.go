package logging

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingWriter keeps every Write it gets, each as one string.
type recordingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recordingWriter) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

// waitFor polls until cond holds, for at most a second.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a second for %s", what)
		}
	}
}

func TestBatchWriterWritesLinesTogetherSoon(t *testing.T) {
	// Three lines written within the batch delay go out in one write. A loaded machine can
	// pause the test between two lines for longer than the delay, so the scenario gets a few
	// attempts with a fresh writer; a writer that does not batch fails every one.
	var out *recordingWriter
	var w *BatchWriter
	var got []string
	for range 5 {
		out = &recordingWriter{}
		w = NewBatchWriter(out)
		for i := range 3 {
			fmt.Fprintf(w, "line %d\n", i)
		}
		waitFor(t, "the batch", func() bool { return len(out.snapshot()) > 0 })
		if got = out.snapshot(); len(got) == 1 && got[0] == "line 0\nline 1\nline 2\n" {
			break
		}
		_ = w.Close()
	}
	defer func() { _ = w.Close() }()
	if len(got) != 1 || got[0] != "line 0\nline 1\nline 2\n" {
		t.Fatalf("writes = %q, want the three lines in one", got)
	}
	// A later line starts a batch of its own.
	fmt.Fprintln(w, "line 3")
	waitFor(t, "the second batch", func() bool { return len(out.snapshot()) == 2 })
}

func TestBatchWriterCloseWritesWhatIsPendingThenWritesThrough(t *testing.T) {
	out := &recordingWriter{}
	w := NewBatchWriter(out)
	fmt.Fprintln(w, "pending")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "after close")
	if got := strings.Join(out.snapshot(), ""); got != "pending\nafter close\n" {
		t.Fatalf("written %q, want the pending line, then the later one", got)
	}
}

// Lines written from many goroutines all arrive, each whole, in the order each
// goroutine wrote its own.
func TestBatchWriterKeepsEveryLineWholeAndInOrder(t *testing.T) {
	out := &recordingWriter{}
	w := NewBatchWriter(out)
	const writers, lines = 8, 2000 // more than maxBatch in all: some batches fill up
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "writer %d line %d %s\n", g, i, strings.Repeat("x", 20))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	for line := range strings.Lines(strings.Join(out.snapshot(), "")) {
		var g, i int
		if _, err := fmt.Sscanf(line, "writer %d line %d", &g, &i); err != nil || !strings.HasSuffix(line, strings.Repeat("x", 20)+"\n") {
			t.Fatalf("torn line %q", line)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines arrived, want %d", g, n, lines)
		}
	}
}

// A warning or an error is written at once, with the lines before it: those lines
// explain a failure, and a crash right after must not take them along.
func TestWarningsAreFlushedAtOnce(t *testing.T) {
	out := &recordingWriter{}
	w := NewBatchWriter(out)
	defer func() { _ = w.Close() }()
	logger := New(w, slog.LevelInfo)
	logger.Info("routine")
	logger.With("component", "test").Warn("trouble") // a derived logger flushes too
	got := strings.Join(out.snapshot(), "")
	if !strings.Contains(got, `"msg":"routine"`) || !strings.Contains(got, `"msg":"trouble"`) {
		t.Fatalf("right after the warning, written: %q; want both lines", got)
	}
}
