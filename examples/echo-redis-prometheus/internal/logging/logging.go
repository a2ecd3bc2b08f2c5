// Package logging builds the service's logger: JSON lines on which everything logged
// with a request's context carries that request's ID, so that the lines of one
// request — the handler's, the repository's, the cache's — can be found together
// from the X-Request-ID a client quotes.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/acme/catalog/internal/requestid"
)

// New returns a logger writing JSON to w at level and above, with request IDs (see
// Handler). When w is a *BatchWriter, every warning and error is flushed at once.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	h := NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	if bw, ok := w.(*BatchWriter); ok {
		h.flush, h.batch = bw.Flush, bw
	}
	return slog.New(h)
}

// Handler adds request_id to every record logged with a context that carries one
// (requestid.NewContext);
// records logged without a context, or with a context from outside a request, pass
// through as they are.
type Handler struct {
	next  slog.Handler
	flush func() error // after warnings and errors; nil for none
	batch *BatchWriter // where next writes, when New made it so: LogRequest writes there directly
}

// NewHandler wraps next.
func NewHandler(next slog.Handler) *Handler {
	return &Handler{next: next}
}

// Enabled reports whether next logs at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the request ID of ctx, if any, and passes r on. The record is cloned
// before the attribute is added: slog's Record shares its attribute storage between
// copies, and the caller may hand the same record to other handlers.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.handle(ctx, r)
	}
	var add [3]slog.Attr
	if n := contextAttrs(ctx, &add); n > 0 {
		// One AddAttrs call: the clone's attributes are copied once, and this runs for
		// every line of every request.
		r = r.Clone()
		r.AddAttrs(add[:n]...)
	}
	return h.handle(ctx, r)
}

// contextAttrs puts the attributes of ctx that every line logged with it carries —
// request_id — into add, and returns how many.
func contextAttrs(ctx context.Context, add *[3]slog.Attr) int {
	n := 0
	if id := requestid.FromContext(ctx); id != "" {
		add[n] = slog.String("request_id", id)
		n++
	}
	return n
}

// handle passes r on to next, and flushes a warning or an error out at once.
func (h *Handler) handle(ctx context.Context, r slog.Record) error {
	err := h.next.Handle(ctx, r)
	h.flushAfter(r.Level)
	return err
}

// flushAfter writes a warning or an error, and what came before it, out at once.
func (h *Handler) flushAfter(level slog.Level) {
	if h.flush != nil && level >= slog.LevelWarn {
		_ = h.flush()
	}
}

// WithAttrs returns a Handler whose records carry attrs as well.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), flush: h.flush}
}

// WithGroup returns a Handler that puts later attributes in group name. request_id
// stays at the top level only for a logger without groups: slog puts every
// attribute added after WithGroup inside the group.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), flush: h.flush}
}
