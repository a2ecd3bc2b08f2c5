package logging

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/requestid"
)

// The access line LogRequest formats itself is the line slog's JSON handler writes for
// the same request, byte for byte, whatever the strings hold.
func TestLogRequestWritesWhatSlogWrites(t *testing.T) {
	nasty := []string{"", "/v1/items/abc", `quote " and \ backslash`, "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f",
		"<html>&amp;", "é ü 日本", "\u2028\u2029", "bad \xff\xfe utf-8 \xc3", strings.Repeat("long/", 200)}
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		if rnd.IntN(3) == 0 { // random bytes, often invalid UTF-8
			b := make([]byte, rnd.IntN(12))
			for i := range b {
				b[i] = byte(rnd.IntN(256))
			}
			return string(b)
		}
		return nasty[rnd.IntN(len(nasty))]
	}
	ctx := requestid.NewContext(context.Background(), "req-1")
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	for i := range 500 {
		req := Request{
			Method: pick(), Route: pick(), Path: pick(), Status: 100 + rnd.IntN(500),
			Duration: time.Duration(rnd.Int64N(int64(90 * time.Second))), Bytes: rnd.Int64N(1<<40) - 10,
			ClientIP: pick(), ClientGone: rnd.IntN(2) == 0,
		}
		if i%7 == 0 {
			req.Duration = time.Duration(rnd.IntN(3000)) // under a microsecond too
		}
		at := time.Date(2026, 11, 30, 5, 6, 7, rnd.IntN(1e9), time.UTC)
		level := levels[i%len(levels)]

		var viaSlog bytes.Buffer
		LogRequest(ctx, New(&viaSlog, slog.LevelDebug), level, at, req)
		out := &recordingWriter{}
		w := NewBatchWriter(out)
		LogRequest(ctx, New(w, slog.LevelDebug), level, at, req)
		_ = w.Close()
		if got, want := strings.Join(out.snapshot(), ""), viaSlog.String(); got != want {
			t.Fatalf("request %+v at %s:\n got %q\nwant %q", req, level, got, want)
		}
	}
}

// A line below the logger's level is not written, on either path.
func TestLogRequestKeepsTheLevel(t *testing.T) {
	out := &recordingWriter{}
	w := NewBatchWriter(out)
	LogRequest(context.Background(), New(w, slog.LevelInfo), slog.LevelDebug, time.Now(), Request{Path: "/healthz"})
	_ = w.Close()
	if got := out.snapshot(); len(got) != 0 {
		t.Fatalf("a debug line at level info was written: %q", got)
	}
}
