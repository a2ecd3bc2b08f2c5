package generator

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestTracingGroup: tracing is an optional group of the embedded templates (otel or
// none, none by default), taken from an answer file like the others.
func TestTracingGroup(t *testing.T) {
	t.Parallel()
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Choices("tracing"); !slices.Equal(got, []string{"otel", None}) {
		t.Errorf("tracing choices = %v, want [otel none]", got)
	}
	if s := (Spec{Name: "svc"}).WithDefaults(c); s.Get("tracing") != None {
		t.Errorf("tracing default = %q, want none", s.Get("tracing"))
	}
	s, err := ReadAnswersFor(writeAnswers(t, "name: svc\ntracing: otel\n"), c)
	if err != nil || s.Get("tracing") != "otel" {
		t.Errorf("answer file tracing: otel: %q, %v", s.Get("tracing"), err)
	}
	if _, err := ReadAnswersFor(writeAnswers(t, "name: svc\ntracing: zipkin\n"), c); err == nil || !strings.Contains(err.Error(), "otel, none") {
		t.Errorf("tracing: zipkin: err = %v, want the allowed values", err)
	}
}

// TestOtelImportedOnlyWithTracing: without tracing chosen no generated file names
// OpenTelemetry (go.mod included); with it, the HTTP server, the logs and the metrics
// use it.
func TestOtelImportedOnlyWithTracing(t *testing.T) {
	t.Parallel()
	full := map[string]string{"framework": "chi", "database": "postgres", "cache": "redis", "broker": "kafka", "metrics": "prometheus", "ci": "github", "deploy": "kubernetes"}
	full["tracing"] = None
	for path, data := range renderFiles(t, full) {
		if bytes.Contains(data, []byte("go.opentelemetry.io")) {
			t.Errorf("%s names OpenTelemetry without tracing", path)
		}
	}
	full["tracing"] = "otel"
	files := renderFiles(t, full)
	for _, path := range []string{"internal/tracing/tracing.go", "internal/server/middleware.go", "internal/logging/logging.go", "internal/metrics/metrics.go", "go.mod"} {
		if !bytes.Contains(files[path], []byte("go.opentelemetry.io/otel")) && !bytes.Contains(files[path], []byte("/internal/tracing\"")) {
			t.Errorf("%s does not use OpenTelemetry with tracing on", path)
		}
	}
}
