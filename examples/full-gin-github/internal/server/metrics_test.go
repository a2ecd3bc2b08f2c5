package server_test

// The RED metrics through the http.Handler that server.New returns: one series per
// route template, method and status, whichever HTTP framework routes the requests.

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/orders-api/internal/metrics"
	"github.com/acme/orders-api/internal/server"
)

func TestMetrics(t *testing.T) {
	m := metrics.New()
	m.RegisterBreaker("postgres", func() float64 { return 2 })
	s := newServer(t, slog.LevelInfo, func(d *server.Deps) { d.Metrics = m })
	created := decode[itemJSON](t, s.do(t, http.MethodPost, "/v1/items", `{"name":"Widget","price":1}`))
	s.do(t, http.MethodGet, "/v1/items/"+created.ID, "")
	s.do(t, http.MethodGet, "/v1/items/missing", "")
	s.do(t, http.MethodGet, "/no/such/route/"+created.ID, "")
	gone, cancel := context.WithCancel(context.Background())
	cancel() // a client that left: counted apart, not as the service's error or success
	s.serve(httptest.NewRequest(http.MethodGet, "/v1/items/"+created.ID, nil).WithContext(gone))

	rec := s.do(t, http.MethodGet, "/metrics", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	out := rec.Body.String()
	for _, want := range []string{
		`http_requests_total{method="POST",route="/v1/items",status="201"} 1`,
		`http_requests_total{method="GET",route="/v1/items/:id",status="200"} 1`,
		`http_requests_total{method="GET",route="/v1/items/:id",status="404"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_requests_total{method="GET",route="/v1/items/:id",status="499"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/v1/items/:id"} 3`,
		`circuit_breaker_state{dependency="postgres"} 2`,
		"go_goroutines ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(out, created.ID) {
		t.Error("/metrics has a raw path in a label: series must follow routes, not IDs")
	}
}
