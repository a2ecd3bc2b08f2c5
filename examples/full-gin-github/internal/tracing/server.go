package tracing

import (
	"context"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// serverScope is the instrumentation scope of the HTTP server's spans.
const serverScope = "github.com/acme/orders-api/internal/server"

// requestIDKey is the span attribute of the request's ID, named as on the log lines.
const requestIDKey = attribute.Key("request_id")

// Server starts the span of every request the HTTP server handles.
type Server struct {
	tracer trace.Tracer
}

// NewServer returns a Server tracing through the global TracerProvider as it is when
// NewServer is called (the server is built after Setup, and tests set a provider of
// their own before building one).
func NewServer() Server {
	return Server{tracer: otel.Tracer(serverScope)}
}

// Request is the span of one request.
type Request struct {
	span   trace.Span
	method string
	// For a recording span: what its attributes are worked out from, at End, where
	// they are set all at once. The SDK copies the attributes of each SetAttributes
	// call into a list it grows to fit, so a call per attribute group would grow it
	// (allocate and copy) several times per sampled request.
	r                 *http.Request
	client, requestID string
}

// serverStart are the options of every server span, made once: a variadic
// argument list built on each call would be allocated on each request.
var serverStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// Start starts r's server span, a child of the trace context in r's headers (W3C
// traceparent, through the global propagator) when there is one, and returns ctx
// (r's context, or one derived from it) with the span in it. The span is named by
// the method until End names its route.
//
// Most requests are not sampled, and for them Start is the whole cost of tracing: the
// propagator's look-up of headers that are usually absent (see headerCarrier) and a
// span that records nothing but carries the trace context on, to the log lines and to
// what the request sends downstream (the outbox's traceparent). Attributes are worked
// out only for a span that records (one the sampler kept), by End.
func (s Server) Start(ctx context.Context, r *http.Request) (context.Context, Request) {
	ctx = otel.GetTextMapPropagator().Extract(ctx, headerCarrier(r.Header))
	method, known := requestMethod(r.Method)
	name := method
	if !known {
		name = "HTTP" // the specification's name when the method is not a known one
	}
	ctx, span := s.tracer.Start(ctx, name, serverStart...)
	q := Request{span: span, method: name}
	if span.IsRecording() {
		q.r = r
	}
	return ctx, q
}

// headerCarrier is propagation.HeaderCarrier without the cost of http.Header.Get on
// every request: Get canonicalizes its key, and the canonical form of a lower-case
// name such as "traceparent" is a new string each time. The server stores the
// headers of a request in canonical form, so the W3C propagators' fields are looked
// up by their canonical names directly; other keys go through http.Header.
type headerCarrier http.Header

// The Baggage propagator reads every baggage header through Values.
var _ interface {
	propagation.TextMapCarrier
	propagation.ValuesGetter
} = headerCarrier(nil)

// Values returns the values of the header key.
func (c headerCarrier) Values(key string) []string {
	switch key {
	case "traceparent":
		return c["Traceparent"]
	case "tracestate":
		return c["Tracestate"]
	case "baggage":
		return c["Baggage"]
	}
	return http.Header(c).Values(key)
}

// Get returns the first value of the header key, "" when there is none.
func (c headerCarrier) Get(key string) string {
	if v := c.Values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set sets the header key to value.
func (c headerCarrier) Set(key, value string) { http.Header(c).Set(key, value) }

// Keys returns the names of the headers.
func (c headerCarrier) Keys() []string { return propagation.HeaderCarrier(c).Keys() }

// Recording reports whether the span records (the sampler kept it): only then are
// the attributes worth working out.
func (q *Request) Recording() bool {
	return q.r != nil
}

// Identify records who sent the request: client is its address as the server sees it
// (behind trusted proxies, the forwarded one; "" when unknown), requestID its ID, as
// on the log lines. They become attributes of a recording span at End.
func (q *Request) Identify(client, requestID string) {
	q.client, q.requestID = client, requestID
}

// maxServerAttrs is the most attributes End sets on a server span.
const maxServerAttrs = 10

// End names the span by pattern, the route that served the request in ServeMux syntax
// ("/v1/items/{id}"; "" when no route matched), records status and ends the span. A
// 5xx status marks it failed; a 4xx is the client's error, not the server's.
func (q *Request) End(pattern string, status int) {
	if q.span == nil {
		return // the zero Request: no span was started (the probes)
	}
	if q.r == nil { // not recording
		q.span.End()
		return
	}
	if pattern != "" {
		q.span.SetName(q.method + " " + pattern)
	}
	q.span.SetAttributes(q.attributes(pattern, status)...)
	if status >= http.StatusInternalServerError {
		q.span.SetStatus(codes.Error, http.StatusText(status))
	}
	q.span.End()
}

// attributes are the semantic-convention attributes of the request's span.
func (q *Request) attributes(pattern string, status int) []attribute.KeyValue {
	r := q.r
	method, known := requestMethod(r.Method)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs := make([]attribute.KeyValue, 0, maxServerAttrs)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(method), semconv.URLScheme(scheme))
	if !known {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginal(r.Method))
	}
	if host, port, err := net.SplitHostPort(r.Host); err == nil {
		n, _ := strconv.Atoi(port)
		attrs = append(attrs, semconv.ServerAddress(host), semconv.ServerPort(n))
	} else if r.Host != "" {
		attrs = append(attrs, semconv.ServerAddress(r.Host))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if q.client != "" {
		attrs = append(attrs, semconv.ClientAddress(q.client))
	}
	if q.requestID != "" {
		attrs = append(attrs, requestIDKey.String(q.requestID))
	}
	if pattern != "" {
		attrs = append(attrs, semconv.HTTPRoute(pattern))
	}
	return append(attrs, semconv.HTTPResponseStatusCode(status))
}

// requestMethod returns the method as spans know it: one of the standard methods, or
// _OTHER (known false; the method as sent goes in http.request.method_original), so
// that clients cannot choose span names.
func requestMethod(method string) (string, bool) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method, true
	}
	return semconv.HTTPRequestMethodOther.Value.AsString(), false
}
