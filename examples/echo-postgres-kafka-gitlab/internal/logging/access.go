package logging

import (
	"context"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"
)

// Request is one access log line's fields besides the time, level and message.
type Request struct {
	Method, Route, Path string
	Status              int
	Duration            time.Duration
	Bytes               int64
	ClientIP            string
	ClientGone          bool // the client left before the answer
}

// LogRequest writes the access log line of one request ("msg":"request") at level
// through logger. With a logger New made over a BatchWriter (the service's), the line
// is formatted here, byte for byte the line slog's JSON handler would write
// (access_test.go compares them) at a fraction of its cost: a line per request is the
// largest share of the stack's own work on a cache hit, and slog formats the
// duration, a float, through encoding/json's reflection. Any other logger gets the
// line as a record, through its handler.
func LogRequest(ctx context.Context, logger *slog.Logger, level slog.Level, t time.Time, req Request) {
	if !logger.Enabled(ctx, level) {
		return
	}
	h, ok := logger.Handler().(*Handler)
	if !ok || h.batch == nil {
		rec := slog.NewRecord(t, level, "request", 0)
		rec.AddAttrs(req.attrs()...)
		_ = logger.Handler().Handle(ctx, rec) // a failed log write has nowhere to be reported
		return
	}
	var buf [512]byte
	line := appendRequest(ctx, buf[:0], level, t, req)
	_, _ = h.batch.Write(line)
	h.flushAfter(level)
}

// attrs are req's fields as slog attributes, in the line's order.
func (req Request) attrs() []slog.Attr {
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("route", req.Route),
		slog.String("path", req.Path),
		slog.Int("status", req.Status),
		slog.Float64("duration_ms", durationMillis(req.Duration)),
		slog.Int64("bytes", max(req.Bytes, 0)),
		slog.String("client_ip", req.ClientIP),
	}
	if req.ClientGone {
		attrs = append(attrs, slog.Bool("client_gone", true))
	}
	return attrs
}

// durationMillis is d in milliseconds, to the microsecond.
func durationMillis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// appendRequest appends the JSON line of req as slog's JSON handler writes it,
// followed by the attributes of ctx that Handler adds, and a newline.
func appendRequest(ctx context.Context, b []byte, level slog.Level, t time.Time, req Request) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendJSONString(b, level.String())
	b = append(b, `,"msg":"request","method":`...)
	b = appendJSONString(b, req.Method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, req.Route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, req.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(req.Status), 10)
	b = append(b, `,"duration_ms":`...)
	// encoding/json's format for a float64 from 1e-6 to 1e21, which a duration in
	// milliseconds to the microsecond (0, or 0.001 and more) always is.
	b = strconv.AppendFloat(b, durationMillis(req.Duration), 'f', -1, 64)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, max(req.Bytes, 0), 10)
	b = append(b, `,"client_ip":`...)
	b = appendJSONString(b, req.ClientIP)
	if req.ClientGone {
		b = append(b, `,"client_gone":true`...)
	}
	var add [3]slog.Attr
	for _, a := range add[:contextAttrs(ctx, &add)] {
		b = append(b, ',')
		b = appendJSONString(b, a.Key)
		b = append(b, ':')
		b = appendJSONString(b, a.Value.String())
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as slog's JSON handler
// escapes it: quote, backslash and control characters, U+2028 and U+2029, and
// invalid UTF-8 as U+FFFD; HTML characters are left as they are.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
