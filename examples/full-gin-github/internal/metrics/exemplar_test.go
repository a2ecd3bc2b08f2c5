package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// sampled returns a context carrying a sampled span of the trace with ID hex.
func sampled(t *testing.T, hex string) context.Context {
	t.Helper()
	tid, err := trace.TraceIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

// bucketLine returns the OpenMetrics line of the GET /v1/items duration bucket le.
func bucketLine(t *testing.T, m *Metrics, le string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	m.Handler().ServeHTTP(rec, req)
	prefix := `http_request_duration_seconds_bucket{method="GET",route="/v1/items",le="` + le + `"}`
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("no line %s in:\n%s", prefix, rec.Body.String())
	return ""
}

// TestExemplarPerBucket: the first sampled observation of a bucket is its exemplar at
// once; later ones in the same bucket replace it only after exemplarInterval, while
// another bucket gets its own first one.
func TestExemplarPerBucket(t *testing.T) {
	const first, second, other = "11111111111111111111111111111111", "22222222222222222222222222222222", "33333333333333333333333333333333"
	m := New()
	m.Observe(context.Background(), http.MethodGet, "/v1/items", 200, 3*time.Millisecond) // not sampled: no exemplar, no clock
	m.Observe(sampled(t, first), http.MethodGet, "/v1/items", 200, 3*time.Millisecond)
	m.Observe(sampled(t, second), http.MethodGet, "/v1/items", 200, 4*time.Millisecond)
	m.Observe(sampled(t, other), http.MethodGet, "/v1/items", 200, 20*time.Millisecond)
	if line := bucketLine(t, m, "0.005"); !strings.Contains(line, `trace_id="`+first+`"`) {
		t.Errorf("bucket 0.005: %s\nwant the first sampled observation's exemplar, %s", line, first)
	}
	if line := bucketLine(t, m, "0.025"); !strings.Contains(line, `trace_id="`+other+`"`) {
		t.Errorf("bucket 0.025: %s\nwant its own first exemplar, %s", line, other)
	}

	// Once the interval has passed, the next sampled observation is the exemplar.
	v, _ := m.series.Load(seriesKey{method: http.MethodGet, route: "/v1/items", status: 200})
	clock := v.(series).exemplars
	clock[0].Add(-int64(exemplarInterval)) // bucket 0.005 got its exemplar an interval earlier
	m.Observe(sampled(t, second), http.MethodGet, "/v1/items", 200, 4*time.Millisecond)
	if line := bucketLine(t, m, "0.005"); !strings.Contains(line, `trace_id="`+second+`"`) {
		t.Errorf("bucket 0.005 after the interval: %s\nwant %s", line, second)
	}
}

// TestExemplarClock: due grants one exemplar per bucket and interval, +Inf included.
func TestExemplarClock(t *testing.T) {
	c := make(exemplarClock, len(durationBuckets)+1)
	for _, seconds := range []float64{0.001, durationBuckets[len(durationBuckets)-1], 1e9} {
		if !c.due(seconds) {
			t.Errorf("due(%g) = false for a bucket without an exemplar", seconds)
		}
		if c.due(seconds) {
			t.Errorf("due(%g) = true again within the interval", seconds)
		}
	}
	if c[0].Load() == 0 || c[len(durationBuckets)-1].Load() == 0 || c[len(durationBuckets)].Load() == 0 {
		t.Error("want the first bucket's, the last bound's and +Inf's clocks set")
	}
}
