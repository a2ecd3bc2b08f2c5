package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"gitlab.com/acme/billing/internal/items"
	"gitlab.com/acme/billing/internal/logging"
	"gitlab.com/acme/billing/internal/problem"
	"gitlab.com/acme/billing/internal/requestid"
)

// securityHeaderValues are the headers OWASP's REST Security Cheat Sheet asks of every
// API response (no caching of what may be sensitive, no MIME sniffing, no framing),
// plus default-src 'none' in the same CSP header, in case a response is ever rendered
// as a document, and no reads from other origins' pages. HSTS belongs to whatever
// terminates TLS. Referrer-Policy is left out: the cheat sheet lists it among the
// HTML-only headers, since a JSON response makes no further requests. Every header
// costs each response a map entry, a copy and a sorted write in net/http, so none is
// here for show.
//
// Keys are in canonical form and every value slice has capacity 1, so
// setSecurityHeaders can share them between responses: Header.Add on one of them
// appends to a copy, and Header.Set replaces the slice.
var securityHeaderValues = []struct {
	key   string
	value []string
}{
	{"Cache-Control", []string{"no-store"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	{"Cross-Origin-Resource-Policy", []string{"same-origin"}},
}

// requestIDKey is requestid.Header in the canonical form http.Header stores.
var requestIDKey = http.CanonicalHeaderKey(requestid.Header)

// setSecurityHeaders sets the securityHeaderValues, without allocating.
func setSecurityHeaders(h http.Header) {
	for _, sh := range securityHeaderValues {
		h[sh.key] = sh.value
	}
}

// withRequestID resolves the request's ID (a sane incoming X-Request-ID, else a new
// one), echoes it in the response and returns ctx carrying it.
func withRequestID(ctx context.Context, w http.ResponseWriter, r *http.Request) context.Context {
	var incoming string
	if v := r.Header[requestIDKey]; len(v) > 0 { // Header.Get would canonicalise the key on every request
		incoming = v[0]
	}
	id := requestid.Resolve(incoming)
	w.Header()[requestIDKey] = []string{id}
	return requestid.NewContext(ctx, id)
}

// statusClientClosed is the status the access log and the metrics record for a
// request whose client left before the answer (nginx's 499). Whatever the service
// then writes goes nowhere; counting it as the 503 it would have been would page the
// service's owners for clients hanging up.
const statusClientClosed = 499

// recordedStatus is the status to log and count for a request: the one written, or
// statusClientClosed when client — the request's context as the middleware found it,
// before inner middleware replaced the request — is cancelled.
func recordedStatus(client context.Context, written int) int {
	if client.Err() != nil {
		return statusClientClosed
	}
	return written
}

// logRequest writes the access log line of one request. Probes go to debug level,
// server errors to error level, and a client that left (statusClientClosed) to
// warning level, marked client_gone. The request ID comes from the context (see
// internal/logging), as on every line logged with it.
func logRequest(logger *slog.Logger, r *http.Request, route string, clients clientResolver, status int, size int64, end time.Time, elapsed time.Duration) {
	gone := status == statusClientClosed
	level := slog.LevelInfo
	switch {
	case isProbe(r.URL.Path):
		level = slog.LevelDebug
	case gone:
		level = slog.LevelWarn
	case status >= http.StatusInternalServerError:
		level = slog.LevelError
	}
	logging.LogRequest(r.Context(), logger, level, end, logging.Request{
		Method: r.Method, Route: route, Path: r.URL.Path, Status: status, Duration: elapsed,
		Bytes: size, ClientIP: clientString(clients.addr(r)), ClientGone: gone,
	})
}

// logPanic records a recovered panic with its stack, which the client never sees.
func logPanic(logger *slog.Logger, r *http.Request, v any) {
	logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
		slog.String("panic", fmt.Sprint(v)),
		slog.String("stack", string(debug.Stack())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
	)
}

// requestError is a malformed request, answered with status and detail as they are.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, detail: fmt.Sprintf(format, args...)}
}

// problemFor maps an error from request decoding or the items service to the
// problem the client gets. Unknown errors become a bare 500: their text may carry
// internals (SQL, hostnames) that must not leak.
func problemFor(err error) problem.Problem {
	var (
		verr   *items.ValidationError
		rerr   *requestError
		maxErr *http.MaxBytesError
	)
	switch {
	case errors.As(err, &verr):
		p := problem.New(http.StatusBadRequest, "the request has invalid fields")
		for _, f := range verr.Fields {
			p.Errors = append(p.Errors, problem.FieldError{Field: f.Field, Detail: f.Detail})
		}
		return p
	case errors.As(err, &rerr):
		return problem.New(rerr.status, rerr.detail)
	case errors.As(err, &maxErr):
		return problem.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body must not exceed %d bytes", maxErr.Limit))
	case errors.Is(err, items.ErrNotFound):
		return problem.New(http.StatusNotFound, "item not found")
	case errors.Is(err, items.ErrVersionMismatch):
		return problem.New(http.StatusPreconditionFailed, "the item has changed since the version in If-Match: GET it for its current ETag and retry")
	case errors.Is(err, items.ErrIdempotencyKeyReused):
		return problem.New(http.StatusUnprocessableEntity, "this Idempotency-Key was already used with a different request body")
	case errors.Is(err, items.ErrIdempotencyKeyInFlight):
		return problem.New(http.StatusConflict, "a request with this Idempotency-Key is still being processed: retry later")
	case errors.Is(err, items.ErrUnavailable):
		return problem.New(http.StatusServiceUnavailable, "a dependency is unavailable, retry later")
	case errors.Is(err, context.DeadlineExceeded):
		return problem.New(http.StatusServiceUnavailable, "the request timed out")
	case errors.Is(err, context.Canceled):
		return problem.New(http.StatusServiceUnavailable, "the request was cancelled")
	default:
		return problem.New(http.StatusInternalServerError, "")
	}
}

// writeError answers err as a problem, logging the ones that are the server's fault.
func writeError(logger *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	if p.Status >= http.StatusInternalServerError {
		level := slog.LevelError
		if p.Status == http.StatusServiceUnavailable {
			level = slog.LevelWarn // expected while a dependency is down; the breaker tells the story
		}
		logger.LogAttrs(r.Context(), level, "request failed",
			slog.String("error", err.Error()),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
		)
	}
	writeProblem(w, r, p)
}

// writeProblem sends p, tagged with the request's path and ID.
func writeProblem(w http.ResponseWriter, r *http.Request, p problem.Problem) {
	p.Instance = r.URL.Path
	p.RequestID = requestid.FromContext(r.Context())
	problem.Write(w, p)
}

func notFoundProblem(r *http.Request) problem.Problem {
	return problem.New(http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
}

func methodNotAllowedProblem(r *http.Request) problem.Problem {
	return problem.New(http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path))
}

// limitBody caps how much of the request body handlers can read. A declared
// Content-Length over the limit is refused before reading anything.
func limitBody(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil // nothing to read, nothing to limit
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return nil
}
