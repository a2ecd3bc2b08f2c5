package otlptest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// export sends a server span with a client child through the real OTLP/HTTP exporter built
// with opts (and whatever OTEL_* variables are set) and shuts the provider down, which flushes.
func export(t *testing.T, opts ...otlptracehttp.Option) (server, client trace.SpanContext) {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return exportWith(t, exp)
}

// exportWith sends a server span with a client child through exp.
func exportWith(t *testing.T, exp sdktrace.SpanExporter) (server, client trace.SpanContext) {
	t.Helper()
	ctx := context.Background()
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attribute.String("service.name", "receiver-test")))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	tracer := tp.Tracer("example.com/receiver-test/internal/server")
	ctx, srv := tracer.Start(ctx, "GET /v1/items/{id}", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.route", "/v1/items/{id}"), attribute.Int("http.response.status_code", 200)))
	_, cl := tracer.Start(ctx, "GET items", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.Bool("cached", true), attribute.StringSlice("keys", []string{"a", "b"})))
	cl.End()
	srv.End()
	shutdownCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := tp.Shutdown(shutdownCtx); err != nil {
		t.Fatalf("flushing to the receiver: %v", err)
	}
	return srv.SpanContext(), cl.SpanContext()
}

// checkExported finds the two spans of export in r, with their ids, parentage, kinds,
// attributes, scope and resource.
func checkExported(t *testing.T, r *Receiver, server, client trace.SpanContext) {
	t.Helper()
	spans := r.Trace(server.TraceID().String())
	if len(spans) != 2 {
		t.Fatalf("trace %s: %d spans received, want 2 (all: %+v)", server.TraceID(), len(spans), r.Spans())
	}
	byName := map[string]Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	srv, cl := byName["GET /v1/items/{id}"], byName["GET items"]
	if srv.SpanID != server.SpanID().String() || srv.ParentSpanID != "" || srv.Kind != "server" {
		t.Errorf("server span = %+v, want id %s, no parent, kind server", srv, server.SpanID())
	}
	if cl.SpanID != client.SpanID().String() || cl.ParentSpanID != srv.SpanID || cl.Kind != "client" {
		t.Errorf("client span = %+v, want id %s, parent %s, kind client", cl, client.SpanID(), srv.SpanID)
	}
	if srv.Attrs["http.route"] != "/v1/items/{id}" || srv.Attrs["http.response.status_code"] != "200" {
		t.Errorf("server span attributes = %v", srv.Attrs)
	}
	if cl.Attrs["cached"] != "true" || cl.Attrs["keys"] != "[a b]" {
		t.Errorf("client span attributes = %v", cl.Attrs)
	}
	for _, s := range spans {
		if s.Resource["service.name"] != "receiver-test" || s.Resource["telemetry.sdk.language"] != "go" {
			t.Errorf("span %q resource = %v, want service.name receiver-test and the SDK's attributes", s.Name, s.Resource)
		}
		if s.Scope != "example.com/receiver-test/internal/server" {
			t.Errorf("span %q scope = %q", s.Name, s.Scope)
		}
		if !s.End.After(s.Start) || time.Since(s.Start) > time.Minute {
			t.Errorf("span %q times %s .. %s", s.Name, s.Start, s.End)
		}
	}
}

// TestReceiverTakesTheExportersTraces: the OTLP/HTTP exporter of the OpenTelemetry Go SDK, the one
// generated services use, exports to the receiver without an error, configured by options, by
// the environment alone (as a service is), and with gzip; the receiver has both spans intact.
func TestReceiverTakesTheExportersTraces(t *testing.T) {
	t.Run("options", func(t *testing.T) {
		r := &Receiver{}
		srv := httptest.NewServer(r)
		defer srv.Close()
		server, client := export(t, otlptracehttp.WithEndpointURL(srv.URL+Path))
		checkExported(t, r, server, client)
		if req, n := r.Counts(); req == 0 || n != 2 {
			t.Errorf("Counts = %d requests, %d spans; want some requests and 2 spans", req, n)
		}
	})
	t.Run("environment", func(t *testing.T) {
		r := &Receiver{}
		srv := httptest.NewServer(r)
		defer srv.Close()
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL) // the exporter appends /v1/traces
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
		server, client := export(t)
		checkExported(t, r, server, client)
	})
	t.Run("gzip", func(t *testing.T) {
		r := &Receiver{}
		srv := httptest.NewServer(r)
		defer srv.Close()
		server, client := export(t, otlptracehttp.WithEndpointURL(srv.URL+Path), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		checkExported(t, r, server, client)
	})
	t.Run("discard", func(t *testing.T) {
		r := &Receiver{Discard: true}
		srv := httptest.NewServer(r)
		defer srv.Close()
		export(t, otlptracehttp.WithEndpointURL(srv.URL+Path))
		if req, n := r.Counts(); req == 0 || n != 2 || len(r.Spans()) != 0 {
			t.Errorf("discarding: Counts = %d, %d, %d spans kept; want 2 counted, none kept", req, n, len(r.Spans()))
		}
	})
}

// TestReceiverGRPC: the SDK's OTLP/gRPC exporter, configured by the environment alone, gzip on,
// exports to the receiver's gRPC server.
func TestReceiverGRPC(t *testing.T) {
	r := &Receiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := r.GRPCServer()
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+ln.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	exp, err := otlptracegrpc.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	server, client := exportWith(t, exp)
	checkExported(t, r, server, client)
}

// TestReceiverJSON: an export in OTLP's JSON encoding (hex ids, integer enums) is decoded and
// answered in JSON.
func TestReceiverJSON(t *testing.T) {
	r := &Receiver{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	body := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
	  "scopeSpans":[{"scope":{"name":"json-test"},"spans":[{
	    "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173",
	    "name":"publish items","kind":4,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
	    "attributes":[{"key":"messaging.system","value":{"stringValue":"kafka"}},{"key":"n","value":{"intValue":"3"}}],
	    "status":{"code":2}}]}]}]}`
	resp, err := http.Post(srv.URL+Path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || strings.TrimSpace(string(out)) != "{}" {
		t.Fatalf("JSON export = %d %q %s, want 200 application/json {}", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	spans := r.Trace("5b8efff798038103d269b633813fc60c")
	if len(spans) != 1 {
		t.Fatalf("spans = %+v, want the one sent", r.Spans())
	}
	s := spans[0]
	if s.SpanID != "eee19b7ec3c1b174" || s.ParentSpanID != "eee19b7ec3c1b173" || s.Kind != "producer" || s.StatusCode != "error" ||
		s.Attrs["messaging.system"] != "kafka" || s.Attrs["n"] != "3" || s.Resource["service.name"] != "json-svc" || s.Scope != "json-test" ||
		s.End.Sub(s.Start) != time.Second {
		t.Errorf("span = %+v", s)
	}
}

// TestReceiverRefuses: what is not an export gets the protocol's error statuses, and a bad body
// a google.rpc.Status; nothing is recorded.
func TestReceiverRefuses(t *testing.T) {
	r := &Receiver{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	valid, err := proto.Marshal(&collectorpb.ExportTraceServiceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, method, path, ctype, encoding string
		body                                []byte
		want                                int
	}{
		{"wrong path", "POST", "/v1/metrics", "application/x-protobuf", "", valid, 404},
		{"GET", "GET", Path, "", "", nil, 405},
		{"text body", "POST", Path, "text/plain", "", []byte("hi"), 415},
		{"garbage protobuf", "POST", Path, "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, 400},
		{"garbage JSON", "POST", Path, "application/json", "", []byte("{"), 400},
		{"hex id that is not hex", "POST", Path, "application/json", "", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`), 400},
		{"not gzip", "POST", Path, "application/x-protobuf", "gzip", valid, 400},
		{"unknown encoding", "POST", Path, "application/x-protobuf", "br", valid, 400},
	} {
		req, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		if c.encoding != "" {
			req.Header.Set("Content-Encoding", c.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	if req, n := r.Counts(); req != 0 || n != 0 {
		t.Errorf("refused requests were recorded: %d requests, %d spans", req, n)
	}
	// An empty but valid export is accepted.
	resp, err := http.Post(srv.URL+Path, "application/x-protobuf", bytes.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ack collectorpb.ExportTraceServiceResponse
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(out, &ack) != nil {
		t.Errorf("empty export = %d %q %x", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
}

// TestDiscardCountsWithoutDecoding: a sink counts the spans of a binary export by walking
// the wire format; the count must be the decoded one, whatever the nesting, and bytes that
// are not the format must be refused as decoding refuses them.
func TestDiscardCountsWithoutDecoding(t *testing.T) {
	kv := func(k, v string) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
	}
	span := func(name string) *tracepb.Span {
		return &tracepb.Span{TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8), Name: name,
			StartTimeUnixNano: 1, EndTimeUnixNano: 2, Attributes: []*commonpb.KeyValue{kv("db.system.name", "redis")},
			Events: []*tracepb.Span_Event{{Name: "exception"}}, Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}}
	}
	export := &collectorpb.ExportTraceServiceRequest{}
	want := 0
	for r := range 3 { // resources with 0, 1 and 2 scopes of 0, 1, 2... spans
		rs := &tracepb.ResourceSpans{Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{kv("service.name", "svc")}}, SchemaUrl: "s"}
		for s := range r {
			ss := &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{Name: "scope", Version: "1"}}
			for i := range s + r {
				ss.Spans = append(ss.Spans, span("span "+strings.Repeat("x", i)))
				want++
			}
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		export.ResourceSpans = append(export.ResourceSpans, rs)
	}
	body, err := proto.Marshal(export)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := countSpans(body); err != nil || n != want || want < 4 {
		t.Fatalf("countSpans = %d, %v; want %d", n, err, want)
	}
	if _, err := countSpans(body[:len(body)-3]); err == nil {
		t.Error("countSpans accepted a truncated export")
	}

	r := &Receiver{Discard: true}
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, b := range [][]byte{body, {0xff, 0xff, 0xff}} {
		resp, err := http.Post(srv.URL+Path, "application/x-protobuf", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if req, n := r.Counts(); req != 1 || n != want {
		t.Errorf("Counts() = %d requests, %d spans; want 1, %d", req, n, want)
	}
}
