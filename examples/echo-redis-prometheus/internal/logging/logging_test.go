package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/logging"
	"github.com/acme/catalog/internal/requestid"
)

// lines decodes the JSON lines written to buf.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func TestRequestIDFromContext(t *testing.T) {
	var buf bytes.Buffer
	logger := logging.New(&buf, slog.LevelDebug).With("component", "test")
	ctx := requestid.NewContext(context.Background(), "req-1")

	logger.InfoContext(ctx, "with a request", "n", 1)
	logger.ErrorContext(ctx, "failed in a request")
	logger.LogAttrs(ctx, slog.LevelDebug, "attrs in a request", slog.Int("n", 2))
	logger.InfoContext(context.Background(), "outside a request")
	logger.Info("no context")

	got := lines(t, &buf)
	want := []string{"req-1", "req-1", "req-1", "", ""}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d: %v", len(got), len(want), got)
	}
	for i, rec := range got {
		id, has := rec["request_id"]
		if want[i] == "" && has {
			t.Errorf("line %d (%s) has request_id %v, logged without one", i, rec["msg"], id)
		}
		if want[i] != "" && id != want[i] {
			t.Errorf("line %d (%s): request_id %v, want %s", i, rec["msg"], id, want[i])
		}
		if rec["component"] != "test" {
			t.Errorf("line %d lost the logger's own attributes: %v", i, rec)
		}
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	logger := logging.New(&buf, slog.LevelWarn)
	ctx := requestid.NewContext(context.Background(), "req-2")
	if logger.Enabled(ctx, slog.LevelInfo) {
		t.Error("info enabled at warn level")
	}
	logger.InfoContext(ctx, "dropped")
	logger.WarnContext(ctx, "kept")
	if got := lines(t, &buf); len(got) != 1 || got[0]["msg"] != "kept" || got[0]["request_id"] != "req-2" {
		t.Errorf("lines = %v, want only the warning, with its request_id", got)
	}
}
