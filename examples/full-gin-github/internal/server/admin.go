package server

import (
	"net/http"
	"net/http/pprof" //nolint:gosec // G108: the handlers are registered on the admin server's own mux, never on the public port
)

// Admin returns the handler of the admin server on ADMIN_PORT: the Prometheus scrape
// (GET /metrics) and net/http/pprof's profiles under /debug/pprof/. They are kept off the public
// port: a profile costs CPU for seconds and shows the service's internals, and the metrics
// are for the monitoring system, not for clients. The port is meant to be reachable only from
// inside the cluster (or the host).
func Admin(deps Deps) http.Handler {
	// A mux of its own: importing net/http/pprof also registers the handlers on
	// http.DefaultServeMux, which nothing in the service serves.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // the index and the named profiles (heap, goroutine, ...)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	if deps.Metrics != nil {
		mux.Handle("GET /metrics", deps.Metrics.Handler())
	}
	return mux
}
