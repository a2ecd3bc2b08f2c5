// Package app runs the HTTP servers for the life of the process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Option adjusts how Serve shuts down.
type Option func(*options)

type options struct {
	drainDelay time.Duration
	onDrain    func()
	admin      *http.Server
	adminLn    net.Listener
}

// WithAdmin serves srv on ln besides the main server for as long as it: the admin
// endpoints (metrics, profiling) start with the service, keep answering while it
// drains, and are shut down together with it within the same budget.
func WithAdmin(srv *http.Server, ln net.Listener) Option {
	return func(o *options) { o.admin, o.adminLn = srv, ln }
}

// WithDrainDelay makes Serve keep serving for d after the signal before it shuts down, calling
// onDrain first (main makes readiness fail there). During the delay every response asks the
// client to close its connection, so keep-alive clients leave one by one after a completed
// request instead of having an idle connection closed under a request they are just sending —
// a race Server.Shutdown alone cannot avoid.
func WithDrainDelay(d time.Duration, onDrain func()) Option {
	return func(o *options) { o.drainDelay, o.onDrain = d, onDrain }
}

// Serve serves HTTP on ln until ctx is cancelled (SIGINT/SIGTERM in main), then shuts
// down gracefully: it stops accepting connections, lets in-flight requests finish
// within shutdownTimeout, and only then returns, so the caller can close database
// pools and other clients that those requests may still be using.
//
// When the requests do not finish in time, the remaining connections are closed and
// the error says so. An error from the listener itself is returned at once.
func Serve(ctx context.Context, logger *slog.Logger, srv *http.Server, ln net.Listener, shutdownTimeout time.Duration, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var draining atomic.Bool
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close") // net/http closes the connection after this response
		}
		next.ServeHTTP(w, r)
	})

	servers := []*http.Server{srv}
	serveErr := make(chan error, 2)
	logger.Info("listening", "addr", ln.Addr().String())
	go func() { serveErr <- srv.Serve(ln) }()
	if o.admin != nil {
		servers = append(servers, o.admin)
		logger.Info("admin listening", "addr", o.adminLn.Addr().String())
		go func() { serveErr <- o.admin.Serve(o.adminLn) }()
	}
	// failed closes every server when one of them cannot serve: the process is going down.
	failed := func(err error) error {
		for _, s := range servers {
			_ = s.Close()
		}
		return fmt.Errorf("http server: %w", err)
	}

	select {
	case err := <-serveErr:
		return failed(err)
	case <-ctx.Done():
	}
	if o.drainDelay > 0 {
		logger.Info("draining", "delay", o.drainDelay.String())
		draining.Store(true)
		if o.onDrain != nil {
			o.onDrain()
		}
		select {
		case <-time.After(o.drainDelay):
		case err := <-serveErr:
			return failed(err)
		}
	}
	logger.Info("shutting down", "drain_timeout", shutdownTimeout.String())

	// The parent context is already cancelled; the drain gets a fresh deadline, shared
	// by the servers, which drain at the same time.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errs[i] = s.Shutdown(shutdownCtx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		// Requests still running past the deadline are cut off rather than left to
		// hold the process (and its orchestrator's termination grace period).
		closed := []error{fmt.Errorf("graceful shutdown did not finish within %s: %w", shutdownTimeout, err)}
		for _, s := range servers {
			closed = append(closed, s.Close())
		}
		return errors.Join(closed...)
	}
	for range servers {
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
	}
	return nil
}
