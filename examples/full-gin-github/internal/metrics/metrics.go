// Package metrics holds the service's Prometheus metrics, served on the admin port's
// GET /metrics.
//
// It uses a registry of its own rather than the global default one, so that only
// what this service registers is exported and tests can create as many as they
// like. It holds RED metrics of the HTTP API (rate, errors and duration, by route
// template, method and status), the Go runtime and process collectors, and one
// circuit breaker state gauge per dependency.
package metrics

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
)

// unmatchedRoute labels requests that matched no route, so that scans of random
// paths cannot create a series per path.
const unmatchedRoute = "unmatched"

// otherMethod labels requests with a method outside the standard set: clients choose
// the method, and must not be able to create series at will.
const otherMethod = "OTHER"

// methodLabel is the method's label value: the method itself when it is one of
// RFC 9110's (case-sensitive, as HTTP methods are) or PATCH, otherwise OTHER.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return otherMethod
}

// Metrics is the service's registry and the collectors the HTTP layer feeds.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series caches the children of requests and duration by seriesKey, so that a
	// request costs one map lookup instead of hashing its labels in both vectors.
	series sync.Map
}

type seriesKey struct {
	method, route string
	status        int
}

// exemplarObserver is what a histogram's child is: an Observer that takes exemplars.
type exemplarObserver interface {
	prometheus.Observer
	prometheus.ExemplarObserver
}

// exemplarInterval is the least time between two exemplars of one bucket of one
// series. An observation with an exemplar costs about ten plain ones (client_golang
// builds the exemplar's labels, timestamp and protobuf each time, nine allocations),
// and a bucket keeps only its latest exemplar, of which a scrape sees one: so a
// bucket's first sampled observation gets its exemplar at once, later ones at most
// one per interval, shorter than any scrape interval.
const exemplarInterval = 5 * time.Second

// exemplarClock is when each bucket of a series (+Inf last) last got an exemplar, in
// Unix nanoseconds (0: never).
type exemplarClock []atomic.Int64

// due reports whether an observation of seconds may carry an exemplar now, and if so
// counts it as the bucket's latest: one atomic load on most sampled requests.
func (c exemplarClock) due(seconds float64) bool {
	bucket := &c[sort.SearchFloat64s(durationBuckets, seconds)] // the histogram's own rule: the first upper bound >= seconds
	last, now := bucket.Load(), time.Now().UnixNano()
	if last != 0 && now-last < int64(exemplarInterval) {
		return false
	}
	return bucket.CompareAndSwap(last, now) // of concurrent observations, one gets it
}

// durationBuckets are the upper bounds of the latency histogram's buckets.
var durationBuckets = prometheus.DefBuckets

type series struct {
	requests prometheus.Counter
	// duration takes exemplars: the trace IDs of sampled requests.
	duration exemplarObserver
	// exemplars limits them to one per bucket and exemplarInterval.
	exemplars exemplarClock
}

// New returns a registry with the HTTP, Go runtime and process metrics registered.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests handled, by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to handle an HTTP request, by route template and method.",
			Buckets: durationBuckets,
		}, []string{"route", "method"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests,
		m.duration,
	)
	return m
}

// Registry is the registry behind Handler, for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Observe records one handled request. route is the route template; "" (no route
// matched) is recorded as "unmatched", and a method outside the standard set as OTHER.
// When ctx carries a sampled span, its trace ID is the duration's exemplar, so that a
// latency spike on a dashboard leads to traces of requests in it (the first in its
// bucket, then at most one per exemplarInterval).
func (m *Metrics) Observe(ctx context.Context, method, route string, status int, elapsed time.Duration) {
	if route == "" {
		route = unmatchedRoute
	}
	method = methodLabel(method)
	key := seriesKey{method: method, route: route, status: status}
	v, ok := m.series.Load(key)
	if !ok {
		v, _ = m.series.LoadOrStore(key, series{
			requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route, method).(exemplarObserver),
			// One clock per bucket, +Inf included.
			exemplars: make(exemplarClock, len(durationBuckets)+1),
		})
	}
	s := v.(series)
	s.requests.Inc()
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() && s.exemplars.due(elapsed.Seconds()) {
		s.duration.ObserveWithExemplar(elapsed.Seconds(), prometheus.Labels{"trace_id": sc.TraceID().String()})
		return
	}
	s.duration.Observe(elapsed.Seconds())
}

// RegisterBreaker exports the state of a dependency's circuit breaker, read at
// scrape time from state (0 closed, 1 half-open, 2 open).
// Reading at scrape time keeps the gauge exact without hooking state changes, and
// lets the breaker move from open to half-open when its timeout has passed.
func (m *Metrics) RegisterBreaker(dependency string, state func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "circuit_breaker_state",
		Help:        "State of the circuit breaker in front of a dependency: 0 closed, 1 half-open, 2 open.",
		ConstLabels: prometheus.Labels{"dependency": dependency},
	}, state))
}

// RegisterCounterFunc exports a counter kept elsewhere (the tracing's span counts),
// read at scrape time from value.
func (m *Metrics) RegisterCounterFunc(name, help string, value func() float64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, value))
}

// Outbox holds the metrics of the outbox relay; it implements outbox.Observer.
type Outbox struct {
	pending   prometheus.Gauge
	oldestAge prometheus.Gauge
	failures  prometheus.Counter
}

// RegisterOutbox registers the outbox relay's metrics: the backlog, the age of its
// oldest event (the delay consumers see; alert when it grows) and failed batches.
func (m *Metrics) RegisterOutbox() *Outbox {
	o := &Outbox{
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "outbox_pending_events",
			Help: "Events stored in the outbox and not yet acknowledged by the broker.",
		}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "outbox_oldest_pending_event_age_seconds",
			Help: "Age of the oldest event waiting in the outbox; 0 when none waits.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outbox_publish_failures_total",
			Help: "Batches of outbox events the broker did not acknowledge in time; they are retried.",
		}),
	}
	m.registry.MustRegister(o.pending, o.oldestAge, o.failures)
	return o
}

// Pending records the backlog the relay last saw.
func (o *Outbox) Pending(n int, oldestAge time.Duration) {
	o.pending.Set(float64(n))
	o.oldestAge.Set(oldestAge.Seconds())
}

// PublishFailed counts a failed batch.
func (o *Outbox) PublishFailed() { o.failures.Inc() }

// Handler serves the registry in the Prometheus exposition formats, OpenMetrics to a
// scraper that asks for it (the format that carries exemplars).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry, EnableOpenMetrics: true})
}
