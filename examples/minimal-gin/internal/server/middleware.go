package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"example.com/hello/internal/problem"
)

// chain puts the middleware in front of the router. Order matters: headers and the
// request ID first so that every response carries them; the record (access log, panic
// recovery) outside the rest so that it sees the 429, 413 and 503 they answer.
func chain(deps Deps, router http.Handler) http.Handler {
	h := bodyLimit(deps.Config.BodyLimitBytes, router)
	h = requestTimeout(deps.Config.RequestTimeout, h)
	h = rateLimit(newIPLimiter(deps.Config.RateLimitRPS, deps.Config.RateLimitBurst), h)
	h = record(deps.Logger, nil, h)
	return securityHeaders(requestID(h))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, withRequestID(w, r))
	})
}

// observer is told of every request that is not a probe (the RED metrics): its
// method, route template ("" when no route matched), status and duration.
type observer func(method, route string, status int, elapsed time.Duration)

// recorderKey is the context key of the request's *recorder, through which the
// matched route names itself (see bind).
type recorderKey struct{}

// recorder notes what the response was: its status, size and route.
type recorder struct {
	http.ResponseWriter
	status int
	size   int64
	route  string
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= http.StatusOK { // 1xx responses are not the answer
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer (flush, deadlines).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush and Hijack are there for routers whose writers assert them on the writer they
// wrap (Gin's do) instead of going through http.ResponseController.
func (w *recorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// record writes the access log line of every request and tells observe of it, and
// turns a panic into a logged stack and a 500 problem, keeping the process and the
// connection alive. The status recorded for a client that left is statusClientClosed.
func record(logger *slog.Logger, observe observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probe := isProbe(r.URL.Path)
		if probe && !logger.Enabled(r.Context(), slog.LevelDebug) {
			recovered(logger, w, r, next) // logged at debug level, never observed: skip even the clock
			return
		}
		start := time.Now()
		client := r.Context() // inner middleware replace the request with derived contexts
		rec := &recorder{ResponseWriter: w}
		recovered(logger, rec, r.WithContext(context.WithValue(client, recorderKey{}, rec)), next)
		status := recordedStatus(client, max(rec.status, http.StatusOK))
		elapsed := time.Since(start)
		logRequest(logger, r, rec.route, status, rec.size, elapsed)
		if observe != nil && !probe {
			observe(r.Method, rec.route, status, elapsed)
		}
	})
}

// recovered serves r with next, answering a panic with a 500 problem when nothing
// was written yet.
func recovered(logger *slog.Logger, w http.ResponseWriter, r *http.Request, next http.Handler) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v) // net/http's way to abort a response silently; not a bug
		}
		logPanic(logger, r, v)
		if rec, ok := w.(*recorder); !ok || rec.status == 0 {
			writeProblem(w, r, problem.New(http.StatusInternalServerError, ""))
		}
	}()
	next.ServeHTTP(w, r)
}

func rateLimit(l *ipLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProbe(r.URL.Path) || l.allow(clientIP(r)) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", l.retryAfter)
		writeProblem(w, r, problem.New(http.StatusTooManyRequests,
			fmt.Sprintf("too many requests from this client, retry after %s s", l.retryAfter)))
	})
}

// requestTimeout puts a deadline on the request context; the service and its
// dependencies give up when it passes, and the handler answers 503.
func requestTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProbe(r.URL.Path) {
			next.ServeHTTP(w, r) // no I/O on liveness; readiness checks carry their own timeouts
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func bodyLimit(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := limitBody(w, r, limit); err != nil {
			writeProblem(w, r, problemFor(err))
			return
		}
		next.ServeHTTP(w, r)
	})
}
