package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"gitlab.com/acme/billing/internal/problem"
)

// chain puts the middleware in front of the router. Order matters: headers first so
// that every response carries them; the record (request ID, request timeout,
// access log, panic recovery) outside the rest so that it sees the 429,
// 413 and 503 they answer.
func chain(deps Deps, router http.Handler) http.Handler {
	clients := clientResolver{trusted: deps.Config.TrustedProxies}
	h := bodyLimit(deps.Config.BodyLimitBytes, router)
	h = guarded(deps.Guards, h)
	h = rateLimit(newIPLimiter(deps.Config.RateLimitRPS, deps.Config.RateLimitBurst, deps.Config.RateLimitClients), clients, h)
	access := recording{logger: deps.Logger, clients: clients, timeout: deps.Config.RequestTimeout,
		retryAfter: retryAfterHeader(deps.Config.RetryAfterUnavailable)}
	return securityHeaders(access.record(h))
}

// retryAfterHeader is the Retry-After value of 503 answers: how long the dependency or
// the instance is expected to stay unavailable, in whole seconds.
func retryAfterHeader(d time.Duration) []string {
	return []string{strconv.Itoa(retryAfterSeconds(d))}
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

// observer is told of every request that is not a probe (the RED metrics): its
// context, method, route template ("" when no route matched), status
// and duration.
type observer func(ctx context.Context, method, route string, status int, elapsed time.Duration)

// recorderKey is the context key of the request's *recorder, through which the
// matched route names itself (see bind).
type recorderKey struct{}

// recorder notes what the response was: its status, size and route. A 503 gets
// Retry-After unless the code answering it set its own.
type recorder struct {
	http.ResponseWriter
	status     int
	size       int64
	route      string
	retryAfter []string
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= http.StatusOK { // 1xx responses are not the answer
		w.status = code
		if code == http.StatusServiceUnavailable && w.retryAfter != nil {
			if h := w.Header(); h["Retry-After"] == nil {
				h["Retry-After"] = w.retryAfter // shared: never appended to, only replaced by Set
			}
		}
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

// recording is what record needs: where the access log goes, who is told of each
// request (the RED metrics; nil for no one), how clients are told apart, the request
// timeout, and the Retry-After of 503 answers.
type recording struct {
	logger     *slog.Logger
	observe    observer
	clients    clientResolver
	timeout    time.Duration
	retryAfter []string
}

// record gives every request its ID and, but for the probes, its deadline (the
// request timeout: the service and its dependencies give up when it passes, and the
// handler answers 503); it writes the access log line of every request and tells
// observe of it, and turns a panic into a logged stack and a 500 problem, keeping the
// process and the connection alive. The status recorded for a client that left is
// statusClientClosed.
//
// The ID, the recorder and the deadline are in one middleware because each context
// value needs the request copied (WithContext): here the request is copied once.
func (o recording) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := withRequestID(r.Context(), w, r) // without the deadline: a client that left is told from a timeout by it
		probe := isProbe(r.URL.Path)
		if probe && r.URL.Path != readinessPath && !o.logger.Enabled(client, slog.LevelDebug) {
			recovered(o.logger, w, r.WithContext(client), next) // logged at debug level, never observed, never a 503: skip even the clock
			return
		}
		start := time.Now()
		rec := &recorder{ResponseWriter: w, retryAfter: o.retryAfter}
		ctx := context.WithValue(client, recorderKey{}, rec)
		if !probe { // no I/O on liveness; readiness checks carry their own timeouts
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, o.timeout)
			defer cancel()
		}
		r = r.WithContext(ctx)
		recovered(o.logger, rec, r, next)
		status := recordedStatus(client, max(rec.status, http.StatusOK))
		end := time.Now()
		elapsed := end.Sub(start)
		logRequest(o.logger, r, rec.route, o.clients, status, rec.size, end, elapsed)
		if o.observe != nil && !probe {
			o.observe(client, r.Method, rec.route, status, elapsed)
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

// rateLimit answers 429, with Retry-After, to a client (see clientResolver and
// clientKey) over its rate.
func rateLimit(l *ipLimiter, clients clientResolver, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProbe(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		ok, wait := l.allow(clientKey(clients.addr(r)))
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		secs := strconv.Itoa(retryAfterSeconds(wait))
		w.Header().Set("Retry-After", secs)
		writeProblem(w, r, problem.New(http.StatusTooManyRequests,
			fmt.Sprintf("too many requests from this client, retry after %s s", secs)))
	})
}

// guarded puts guards (Deps.Guards) in front of next for every request but the probes,
// which orchestrators call without credentials.
func guarded(guards []func(http.Handler) http.Handler, next http.Handler) http.Handler {
	if len(guards) == 0 {
		return next
	}
	h := next
	for i := len(guards) - 1; i >= 0; i-- {
		h = guards[i](h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProbe(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
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
