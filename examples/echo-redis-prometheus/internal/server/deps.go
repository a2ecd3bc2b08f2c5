// Package server builds the HTTP handler: routes, middleware and the adapters
// between HTTP and the items service.
//
// The framework-specific parts (router, middleware, handlers) live in server.go,
// middleware.go and items.go; everything both frameworks share — error mapping,
// request decoding, rate limiting, security headers, access log fields — lives in
// the other files, so the HTTP behaviour is the same whichever framework is used,
// and server_test.go checks it through the plain http.Handler that New returns.
package server

import (
	"log/slog"

	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/health"
	"github.com/acme/catalog/internal/items"
	"github.com/acme/catalog/internal/metrics"
)

// Deps is what the HTTP layer needs from the rest of the service.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	Items  *items.Service
	Health *health.Registry
	// Routes are the routes components add (main.wiring); each is served inside the
	// middleware chain.
	Routes []Route
	// Metrics, when set, records RED metrics of every request and serves GET /metrics.
	Metrics *metrics.Metrics
}

// Paths of the probe endpoints and of the metrics scrape. Orchestrators and Prometheus call them
// every few seconds, so they are exempt from rate limiting, the request timeout (they do no I/O
// of their own; readiness checks carry per-check timeouts) and the RED metrics, and logged
// only at debug level. They still get a request ID, security headers and panic recovery.
const (
	livenessPath  = "/healthz"
	readinessPath = "/readyz"
	metricsPath   = "/metrics"
)

func isProbe(path string) bool {
	return path == livenessPath || path == readinessPath || path == metricsPath
}
