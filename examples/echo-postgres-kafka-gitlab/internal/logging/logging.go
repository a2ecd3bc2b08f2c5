// Package logging builds the service's logger: JSON lines on which everything logged
// with a request's context carries that request's ID, so that the lines of one
// request — the handler's, the repository's, the cache's — can be found together
// from the X-Request-ID a client quotes.
package logging

import (
	"context"
	"io"
	"log/slog"

	"gitlab.com/acme/billing/internal/requestid"
)

// New returns a logger writing JSON to w at level and above, with request IDs (see
// Handler).
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// Handler adds request_id to every record logged with a context that carries one
// (requestid.NewContext);
// records logged without a context, or with a context from outside a request, pass
// through as they are.
type Handler struct {
	next slog.Handler
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
		return h.next.Handle(ctx, r)
	}
	if id := requestid.FromContext(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a Handler whose records carry attrs as well.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns a Handler that puts later attributes in group name. request_id
// stays at the top level only for a logger without groups: slog puts every
// attribute added after WithGroup inside the group.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}
