// Package server builds the HTTP handler: the middleware chain, the routes, and the
// handlers between HTTP and the items service.
//
// Everything is written once on net/http: middleware.go (request ID, access log,
// recovery, rate limit, timeout, body limit, security headers, RED metrics), items.go
// (the handlers), api.go, conditional.go and common.go (decoding, conditional requests,
// problems). router.go, the only file that differs between HTTP frameworks, registers
// the route table (routes.go) with the framework and answers unknown routes and methods
// with core's problems, so the HTTP behaviour is the same whichever framework is used,
// and server_test.go checks it through the plain http.Handler that New returns. admin.go
// is the handler of the admin port (metrics, profiles), which never serves the API.
package server

import (
	"log/slog"
	"net/http"

	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/health"
	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/metrics"
)

// Deps is what the HTTP layer needs from the rest of the service.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	Items  *items.Service
	Health *health.Registry
	// Metrics, when set, records RED metrics of every request; the admin server (Admin)
	// serves them on GET /metrics.
	Metrics *metrics.Metrics
	// Routes are served besides the API's own: the routes of components wired in main.
	Routes []Route
	// Guards wrap every route but the probes, first one outermost, inside the rate limit and
	// the request timeout (so a guard's own I/O is bounded by it): an auth component's
	// token check, wired in main.
	Guards []func(http.Handler) http.Handler
}

// New returns the service's HTTP handler: the middleware chain in front of the
// framework's router, which serves Routes(deps).
func New(deps Deps) http.Handler {
	return chain(deps, newRouter(bind(Routes(deps))))
}

// Paths of the probe endpoints. Orchestrators call them every few seconds, so they are exempt
// from rate limiting, the request timeout (they do no I/O of their own; readiness checks carry
// per-check timeouts) and the RED metrics, and logged only at debug level. They still get a
// request ID, security headers and panic recovery.
const (
	livenessPath  = "/healthz"
	readinessPath = "/readyz"
)

func isProbe(path string) bool {
	return path == livenessPath || path == readinessPath
}
