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

	"gitlab.com/acme/billing/internal/config"
	"gitlab.com/acme/billing/internal/health"
	"gitlab.com/acme/billing/internal/items"
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
}

// Paths of the probe endpoints. Orchestrators call them
// every few seconds, so they are exempt from rate limiting, the request timeout (they do no I/O
// of their own; readiness checks carry per-check timeouts), and logged
// only at debug level. They still get a request ID, security headers and panic recovery.
const (
	livenessPath  = "/healthz"
	readinessPath = "/readyz"
)

func isProbe(path string) bool {
	return path == livenessPath || path == readinessPath
}
