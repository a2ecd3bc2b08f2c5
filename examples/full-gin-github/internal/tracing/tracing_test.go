package tracing

// Setup is tested against OTLP collectors played by local listeners: one that accepts
// what it is sent, one that accepts connections and never answers. The tests change
// the process's globals (provider, propagator, environment), so none runs in parallel.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
)

// collector is an OTLP/HTTP collector that accepts every export and keeps the bodies.
type collector struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.bodies = append(c.bodies, body)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK) // an empty ExportTraceServiceResponse: all accepted
}

func (c *collector) received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.bodies, nil)
}

// hungCollector accepts TCP connections and never answers on them.
func hungCollector(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read from or written to
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// setup runs Setup with the environment env (the rest of OTEL_* cleared) and returns
// its shutdown function and what it logged.
func setup(t *testing.T, env map[string]string) (func(context.Context) error, *bytes.Buffer, error) {
	t.Helper()
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
		"OTEL_BSP_EXPORT_TIMEOUT"} {
		t.Setenv(k, env[k])
	}
	var logs bytes.Buffer
	shutdown, err := Setup(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)))
	return shutdown, &logs, err
}

// span ends one span through the global API, as instrumentation does.
func span(name string) {
	_, s := otel.Tracer("test").Start(context.Background(), name)
	s.End()
}

func TestSetupExportsOverHTTP(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	before := spansExported.Load()
	shutdown, _, err := setup(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	span("exported-span")
	if err := shutdown(context.Background()); err != nil { // flushes
		t.Fatalf("shutdown: %v", err)
	}
	got := c.received()
	for _, want := range []string{"exported-span", serviceName} { // protobuf keeps strings as they are
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("the collector did not receive %q", want)
		}
	}
	if n := spansExported.Load() - before; n != 1 {
		t.Errorf("exported count grew by %d, want 1", n)
	}
}

func TestSetupResourceFromEnvironment(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	shutdown, _, err := setup(t, map[string]string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/v1/traces",
		"OTEL_SERVICE_NAME":                  "renamed-svc",
		"OTEL_RESOURCE_ATTRIBUTES":           "deployment.environment.name=staging-eu",
	})
	if err != nil {
		t.Fatal(err)
	}
	span("s")
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.received()
	for _, want := range []string{"renamed-svc", "staging-eu"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("the resource lacks %q", want)
		}
	}
}

func TestSetupSamplerFromEnvironment(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	shutdown, _, err := setup(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_TRACES_SAMPLER": "always_off"})
	if err != nil {
		t.Fatal(err)
	}
	span("never-sampled")
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.received(); bytes.Contains(got, []byte("never-sampled")) {
		t.Error("OTEL_TRACES_SAMPLER=always_off: the span was exported")
	}
}

// TestSetupBatchSettingsFromEnvironment: the batch processor takes OTEL_BSP_*; with a
// 10 ms schedule delay a span reaches the collector without a flush (the default
// waits 5 s).
func TestSetupBatchSettingsFromEnvironment(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	shutdown, _, err := setup(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_BSP_SCHEDULE_DELAY": "10"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	span("soon-exported")
	deadline := time.Now().Add(2 * time.Second)
	for !bytes.Contains(c.received(), []byte("soon-exported")) {
		if time.Now().After(deadline) {
			t.Fatal("OTEL_BSP_SCHEDULE_DELAY=10: the span was not exported within 2s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSetupProtocol(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		ok         bool
	}{
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "", true},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", true},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", true},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc", true},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", false},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift", false},
	} {
		shutdown, _, err := setup(t, map[string]string{tc.key: tc.value})
		if !tc.ok {
			if err == nil || !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), "http/protobuf or grpc") {
				t.Errorf("%s=%s: err = %v, want a configuration error naming the variable and the protocols", tc.key, tc.value, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s=%q: %v", tc.key, tc.value, err)
			continue
		}
		if err := shutdown(context.Background()); err != nil {
			t.Errorf("%s=%q: shutdown: %v", tc.key, tc.value, err)
		}
	}
}

func TestSetupDisabled(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	disabled, noExporter := map[string]string{"OTEL_SDK_DISABLED": "true"}, map[string]string{"OTEL_TRACES_EXPORTER": "none"}
	for _, off := range []map[string]string{disabled, noExporter} {
		off["OTEL_EXPORTER_OTLP_ENDPOINT"], off["OTEL_EXPORTER_OTLP_PROTOCOL"] = srv.URL, "bogus"
		shutdown, _, err := setup(t, off)
		if err != nil {
			t.Fatalf("%v: %v", off, err) // disabled: the exporter's settings are not even read
		}
		span("not-recorded")
		if err := shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.received(); len(got) != 0 {
		t.Errorf("disabled: %d bytes exported", len(got))
	}
	if _, _, err := setup(t, map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}); err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_EXPORTER") {
		t.Errorf("OTEL_TRACES_EXPORTER=zipkin: err = %v, want a configuration error naming it", err)
	}
}

// TestShutdownWithHungCollector: a collector that accepts connections and never
// answers holds neither a request (spans are exported in the background) nor the
// exit: shutdown returns when its context ends, and the lost spans are counted.
func TestShutdownWithHungCollector(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			shutdown, _, err := setup(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + hungCollector(t), "OTEL_EXPORTER_OTLP_PROTOCOL": protocol})
			if err != nil {
				t.Fatal(err)
			}
			dropped := spansDropped.Load()
			start := time.Now()
			for range 100 {
				span("request")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("ending 100 spans took %s with the collector hung", d)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start = time.Now()
			err = shutdown(ctx)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("shutdown took %s with a 300ms budget", d)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("shutdown = %v, want the budget's deadline", err)
			}
			// Giving up cancels the hung export, whose spans are then counted lost
			// (and counted before the next test reads the counts).
			deadline := time.Now().Add(2 * time.Second)
			for spansDropped.Load()-dropped != 100 {
				if time.Now().After(deadline) {
					t.Fatalf("dropped count grew by %d within 2s of the shutdown, want the 100 spans lost", spansDropped.Load()-dropped)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

func TestExportFailuresCountedAndLogRateLimited(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	_ = ln.Close() // nothing listens there now: exports are refused at once
	before := spansDropped.Load()
	shutdown, logs, err := setup(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + refused, "OTEL_BSP_SCHEDULE_DELAY": "10"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		span("lost")
		time.Sleep(50 * time.Millisecond) // a batch each
	}
	_ = shutdown(context.Background())
	if n := spansDropped.Load() - before; n != 3 {
		t.Errorf("failed count grew by %d, want 3", n)
	}
	if n := strings.Count(logs.String(), "opentelemetry error"); n != 1 {
		t.Errorf("%d error lines for 3 failed exports within %s, want 1:\n%s", n, errorLogInterval, logs)
	}
}

func TestCountersNamed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Counters() {
		if !strings.HasPrefix(c.Name, "otel_spans_") || !strings.HasSuffix(c.Name, "_total") || c.Help == "" || seen[c.Name] {
			t.Errorf("counter %q: want a unique otel_spans_*_total name with help", c.Name)
		}
		seen[c.Name] = true
		_ = c.Value()
	}
	if len(seen) != 3 {
		t.Errorf("%d counters, want ended, exported and dropped", len(seen))
	}
}
