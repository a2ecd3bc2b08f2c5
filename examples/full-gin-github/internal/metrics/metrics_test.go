package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestREDMetrics(t *testing.T) {
	m := New()
	m.Observe(context.Background(), http.MethodGet, "/v1/items/:id", 200, 15*time.Millisecond)
	m.Observe(context.Background(), http.MethodGet, "/v1/items/:id", 200, 5*time.Millisecond)
	m.Observe(context.Background(), http.MethodPost, "/v1/items", 503, time.Millisecond)
	m.Observe(context.Background(), http.MethodGet, "", 404, time.Millisecond)
	out := scrape(t, m)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/v1/items/:id",status="200"} 2`,
		`http_requests_total{method="POST",route="/v1/items",status="503"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/v1/items/:id"} 2`,
		`http_request_duration_seconds_bucket{method="GET",route="/v1/items/:id",le="0.025"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

func TestRuntimeMetrics(t *testing.T) {
	out := scrape(t, New())
	for _, want := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "go_gc_duration_seconds"} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

func TestBreakerGauges(t *testing.T) {
	m := New()
	state := 0.0
	m.RegisterBreaker("postgres", func() float64 { return state })
	m.RegisterBreaker("redis", func() float64 { return 2 })
	if out := scrape(t, m); !strings.Contains(out, `circuit_breaker_state{dependency="postgres"} 0`) ||
		!strings.Contains(out, `circuit_breaker_state{dependency="redis"} 2`) {
		t.Fatalf("scrape lacks the breaker gauges:\n%s", out)
	}
	state = 1 // read at scrape time
	if out := scrape(t, m); !strings.Contains(out, `circuit_breaker_state{dependency="postgres"} 1`) {
		t.Errorf("gauge did not follow the breaker")
	}
}

func TestOutboxMetrics(t *testing.T) {
	m := New()
	o := m.RegisterOutbox()
	o.Pending(7, 90*time.Second)
	o.PublishFailed()
	o.PublishFailed()
	body := scrape(t, m)
	for _, want := range []string{
		"outbox_pending_events 7",
		"outbox_oldest_pending_event_age_seconds 90",
		"outbox_publish_failures_total 2",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
