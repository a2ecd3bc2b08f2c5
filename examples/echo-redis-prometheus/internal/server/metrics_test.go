package server_test

// The RED metrics through the http.Handler that server.New returns, scraped from the
// admin server's: one series per route template, method and status, whichever HTTP
// framework routes the requests, and a bounded number of them whatever clients send.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/metrics"
	"github.com/acme/catalog/internal/server"
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

	out := scrape(t, m)
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

// scrape reads m's metrics from the admin server.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	server.Admin(server.Deps{Metrics: m}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("admin GET /metrics = %d", rec.Code)
	}
	return rec.Body.String()
}

func TestMetricsAreNotPublic(t *testing.T) {
	s := newServer(t, slog.LevelError, func(d *server.Deps) { d.Metrics = metrics.New() })
	expectProblem(t, s.do(t, http.MethodGet, "/metrics", ""), http.StatusNotFound)
}

// TestInventedMethodsShareOneLabel: a client choosing methods must not create series at
// will; every method outside the standard set is counted as OTHER.
func TestInventedMethodsShareOneLabel(t *testing.T) {
	m := metrics.New()
	s := newServer(t, slog.LevelError, func(d *server.Deps) { d.Metrics = m })
	methods := func() map[string]bool {
		seen := map[string]bool{}
		for line := range strings.SplitSeq(scrape(t, m), "\n") {
			if rest, ok := strings.CutPrefix(line, "http_requests_total{"); ok {
				_, after, _ := strings.Cut(rest, `method="`)
				method, _, _ := strings.Cut(after, `"`)
				seen[method] = true
			}
		}
		return seen
	}
	s.do(t, http.MethodGet, "/v1/items", "")
	before := methods()
	for i := range 30 {
		for _, path := range []string{"/v1/items", "/no/such/route"} {
			s.do(t, fmt.Sprintf("INVENTED%d", i), path, "")
		}
	}
	s.do(t, "get", "/v1/items", "") // methods are case-sensitive: not GET
	after := methods()
	if len(after) > len(before)+1 || !after["OTHER"] {
		t.Errorf("method labels before %v, after 30 invented methods %v: want at most one more, OTHER", before, after)
	}
	if out := scrape(t, m); strings.Contains(out, "INVENTED") || strings.Contains(out, `method="get"`) {
		t.Error("an invented method became a label value")
	}
}
