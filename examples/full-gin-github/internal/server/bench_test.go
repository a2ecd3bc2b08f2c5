package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/health"
	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/logging"
	"github.com/acme/orders-api/internal/metrics"
	"github.com/acme/orders-api/internal/server"
)

// The hot paths through the whole middleware chain and the router, as production runs
// them (access log at info level, in JSON, through the BatchWriter main puts in front of
// stderr, here in front of a writer that discards it; RED metrics on), with the items in
// memory: what these measure is the stack's own cost per request, the part
// scripts/bench-service.sh compares with a hand-written server doing the same round trips.
// Run: go test -run '^$' -bench . -benchmem ./internal/server

// allocBudget is the most heap allocations one request of each hot path may make in the
// stack (router, middleware, handler, JSON) with the items in memory; TestAllocationBudget
// holds it. It is a little above what the stack makes today: raise it only for a feature
// worth its cost, and say so in the change. In November 2026 a read made 14 to 17
// (ServeMux fewest, chi most) and a write 33 to 35; tracing, with no span sampled, adds
// 3.
var allocBudget = map[string]float64{
	"read":  19 + 4,
	"write": 37 + 4,
}

// hotPath is one request of a hot path, sent again and again to the same handler.
type hotPath struct {
	handler http.Handler
	req     *http.Request
	body    *strings.Reader
	payload string
	w       *discardWriter
	want    int
}

// newHotPath returns the read (GET of a stored item) or the write (POST of a new one) of
// a server with the default configuration.
func newHotPath(tb testing.TB, name string) *hotPath {
	tb.Helper()
	logs := logging.NewBatchWriter(io.Discard)
	tb.Cleanup(func() { _ = logs.Close() })
	deps := server.Deps{
		Config: config.Config{
			RequestTimeout:        10 * time.Second,
			BodyLimitBytes:        1 << 20,
			RetryAfterUnavailable: 5 * time.Second,
		},
		Logger: logging.New(logs, slog.LevelInfo),
		Items:  items.NewService(items.NewMemoryRepository()),
		Health: health.NewRegistry(),
	}
	deps.Metrics = metrics.New()
	p := &hotPath{handler: server.New(deps), w: &discardWriter{header: http.Header{}}}
	const payload = `{"name":"bench item","price":100}`
	switch name {
	case "read":
		item, _, err := deps.Items.Create(tb.Context(), items.Input{Name: "bench item", Price: 100}, items.Idempotency{})
		if err != nil {
			tb.Fatal(err)
		}
		p.req, _ = http.NewRequest(http.MethodGet, "/v1/items/"+item.ID, nil)
		p.want = http.StatusOK
	case "write":
		p.payload = payload
		p.body = strings.NewReader(payload)
		p.req, _ = http.NewRequest(http.MethodPost, "/v1/items", nil)
		p.req.Header.Set("Content-Type", "application/json")
		p.want = http.StatusCreated
	}
	p.req.RemoteAddr = "192.0.2.1:40000"
	return p
}

// serve sends the request once and reports the status it was answered with.
func (p *hotPath) serve() int {
	if p.body != nil {
		p.body.Reset(p.payload)
		p.req.Body = io.NopCloser(p.body)
		p.req.ContentLength = int64(len(p.payload))
	}
	clear(p.w.header)
	p.w.status = 0
	p.handler.ServeHTTP(p.w, p.req)
	return p.w.status
}

// discardWriter is a ResponseWriter that keeps the status and drops the body, so that
// the figures are the stack's, not a recorder's.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

func benchmarkHotPath(b *testing.B, name string) {
	p := newHotPath(b, name)
	b.ReportAllocs()
	for b.Loop() {
		if got := p.serve(); got != p.want {
			b.Fatalf("status %d, want %d", got, p.want)
		}
	}
}

func BenchmarkReadItem(b *testing.B)  { benchmarkHotPath(b, "read") }
func BenchmarkWriteItem(b *testing.B) { benchmarkHotPath(b, "write") }
