package server_test

// The server spans through the http.Handler that server.New returns, recorded in
// memory: one span per request, named by the route, whichever HTTP framework routes
// it, continuing the caller's trace, and the same trace on the request's log lines.

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/acme/orders-api/internal/metrics"
	"github.com/acme/orders-api/internal/server"
)

var (
	recorderOnce sync.Once
	spanRecorder *tracetest.SpanRecorder
)

// recordSpans makes the global provider record every span in memory (the server
// takes the global provider when it is built, as it does from tracing.Setup), with
// the propagator Setup sets. Spans are told apart by their request_id.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	recorderOnce.Do(func() {
		spanRecorder = tracetest.NewSpanRecorder()
		otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spanRecorder)))
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	})
	return spanRecorder
}

// uniqueRequestID returns a request ID starting with prefix that no other request of
// the test binary has (tests may run more than once: -count).
func uniqueRequestID(prefix string) string {
	return prefix + "-" + rand.Text()
}

// spanOf returns the one ended span of the request with ID requestID.
func spanOf(t *testing.T, rec *tracetest.SpanRecorder, requestID string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		for _, a := range s.Attributes() {
			if a.Key == "request_id" && a.Value.AsString() == requestID {
				found = append(found, s)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans of request %s, want 1", len(found), requestID)
	}
	return found[0]
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		m[a.Key] = a.Value
	}
	return m
}

// A caller's trace context, as a W3C traceparent header carries it.
const (
	callerTrace       = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan        = "00f067aa0ba902b7"
	callerTraceparent = "00-" + callerTrace + "-" + callerSpan + "-01"
)

func TestServerSpan(t *testing.T) {
	spans := recordSpans(t)
	s := newServer(t, slog.LevelInfo)
	created := decode[itemJSON](t, s.do(t, http.MethodPost, "/v1/items", `{"name":"Widget","price":1}`))
	id := uniqueRequestID("span-get")
	rec := s.do(t, http.MethodGet, "/v1/items/"+created.ID, "",
		"traceparent", callerTraceparent, "X-Request-ID", id, "User-Agent", "span-test/1.0")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET = %d", rec.Code)
	}

	span := spanOf(t, spans, id)
	if span.Name() != "GET /v1/items/{id}" || span.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q (%s), want server span \"GET /v1/items/{id}\"", span.Name(), span.SpanKind())
	}
	if p := span.Parent(); p.TraceID().String() != callerTrace || p.SpanID().String() != callerSpan || !p.IsRemote() {
		t.Errorf("parent = %s/%s (remote %v), want the traceparent's %s/%s", p.TraceID(), p.SpanID(), p.IsRemote(), callerTrace, callerSpan)
	}
	if span.SpanContext().TraceID().String() != callerTrace {
		t.Errorf("trace %s, want the caller's %s", span.SpanContext().TraceID(), callerTrace)
	}
	got := attrs(span)
	for key, want := range map[attribute.Key]any{
		"http.request.method":       "GET",
		"http.route":                "/v1/items/{id}",
		"http.response.status_code": int64(200),
		"url.scheme":                "http",
		"server.address":            "example.com", // httptest.NewRequest's Host
		"client.address":            "192.0.2.1",   // and RemoteAddr
		"user_agent.original":       "span-test/1.0",
	} {
		if v, ok := got[key]; !ok || v.AsInterface() != want {
			t.Errorf("%s = %v, want %v", key, v.AsInterface(), want)
		}
	}
	if span.Status().Code == codes.Error {
		t.Errorf("a 200 marked failed: %v", span.Status())
	}

	// The request's log lines carry the span's IDs (the access log's too).
	var lines int
	for _, r := range s.logs.records(t) {
		if r["request_id"] != id {
			continue
		}
		lines++
		if r["trace_id"] != callerTrace || r["span_id"] != span.SpanContext().SpanID().String() {
			t.Errorf("log line %q: trace_id %v span_id %v, want the span's %s %s", r["msg"], r["trace_id"], r["span_id"], callerTrace, span.SpanContext().SpanID())
		}
	}
	if lines == 0 {
		t.Error("no log line of the request")
	}
}

func TestServerSpanNamesAndStatuses(t *testing.T) {
	spans := recordSpans(t)
	failing := newServer(t, slog.LevelInfo, withRepo(stubRepo{fn: func(context.Context) error {
		return errors.New("disk on fire") // a 500
	}}))
	s := newServer(t, slog.LevelInfo)
	for _, tc := range []struct {
		srv            *testServer
		method, path   string
		name, route    string
		status         int64
		failed         bool
		originalMethod string
	}{
		{srv: s, method: http.MethodGet, path: "/no/such/route", name: "GET", status: 404},
		{srv: s, method: http.MethodPost, path: "/v1/items", name: "POST /v1/items", route: "/v1/items"},
		{srv: s, method: http.MethodHead, path: "/v1/items", name: "HEAD /v1/items", route: "/v1/items", status: 200},
		{srv: s, method: "BREW", path: "/v1/items", name: "HTTP", originalMethod: "BREW"},
		{srv: failing, method: http.MethodGet, path: "/v1/items/abc", name: "GET /v1/items/{id}", route: "/v1/items/{id}", failed: true},
	} {
		id := uniqueRequestID("span-" + strings.ToLower(tc.method) + strings.ReplaceAll(tc.path, "/", "-"))
		rec := tc.srv.do(t, tc.method, tc.path, "", "X-Request-ID", id)
		span := spanOf(t, spans, id)
		got := attrs(span)
		if span.Name() != tc.name {
			t.Errorf("%s %s: span %q, want %q", tc.method, tc.path, span.Name(), tc.name)
		}
		if r := got["http.route"].AsString(); r != tc.route {
			t.Errorf("%s %s: http.route %q, want %q", tc.method, tc.path, r, tc.route)
		}
		if code := got["http.response.status_code"].AsInt64(); code != int64(rec.Code) || (tc.status != 0 && code != tc.status) {
			t.Errorf("%s %s: status code %d, answered %d, want %d", tc.method, tc.path, code, rec.Code, tc.status)
		}
		if failed := span.Status().Code == codes.Error; failed != tc.failed || failed != (rec.Code >= 500) {
			t.Errorf("%s %s (%d): span failed %v, want %v", tc.method, tc.path, rec.Code, failed, tc.failed)
		}
		if tc.originalMethod != "" {
			if m, o := got["http.request.method"].AsString(), got["http.request.method_original"].AsString(); m != "_OTHER" || o != tc.originalMethod {
				t.Errorf("%s: method attributes %q, %q, want _OTHER and the original", tc.method, m, o)
			}
		}
	}
}

func TestProbesAreNotTraced(t *testing.T) {
	spans := recordSpans(t)
	s := newServer(t, slog.LevelDebug)
	before := len(spans.Ended())
	s.do(t, http.MethodGet, "/healthz", "")
	s.do(t, http.MethodGet, "/readyz", "")
	for _, span := range spans.Ended()[before:] {
		t.Errorf("probe traced: %s", span.Name()) // probes run every few seconds and say nothing of the service
	}
}

// TestExemplars: the latency of a sampled request carries its trace ID, visible to a
// scraper that asks for OpenMetrics.
func TestExemplars(t *testing.T) {
	recordSpans(t)
	m := metrics.New()
	s := newServer(t, slog.LevelInfo, func(d *server.Deps) { d.Metrics = m })
	s.do(t, http.MethodGet, "/v1/items", "", "traceparent", callerTraceparent)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	server.Admin(server.Deps{Metrics: m}).ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("Content-Type %q, want OpenMetrics", ct)
	}
	want := `# {trace_id="` + callerTrace + `"}`
	var found bool
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, `http_request_duration_seconds_bucket{method="GET",route="/v1/items"`) && strings.Contains(line, want) {
			found = true
		}
	}
	if !found {
		t.Errorf("no duration bucket with exemplar %s:\n%s", want, rec.Body.String())
	}
}
