// Command catalog runs the catalog HTTP service.
//
// It is configured by environment variables (see internal/config and .env.example)
// and logs JSON to stdout. SIGINT or SIGTERM starts a graceful shutdown: for
// SHUTDOWN_DELAY the service keeps serving while /readyz fails and every response
// closes its connection, so load balancers and keep-alive clients move away; then the
// server stops accepting connections, finishes in-flight requests within
// SHUTDOWN_TIMEOUT, and only then are clients of external dependencies closed.
//
// With -healthcheck it instead probes a running instance (GET /healthz on
// 127.0.0.1:$PORT) and exits 0 when it is alive, 1 otherwise: the container image's
// HEALTHCHECK, since the image has no shell or curl.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/acme/catalog/internal/app"
	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/cache"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/health"
	"github.com/acme/catalog/internal/items"
	"github.com/acme/catalog/internal/metrics"
	"github.com/acme/catalog/internal/server"
)

func main() {
	probe := flag.Bool("healthcheck", false, "probe the running service's /healthz on 127.0.0.1:$PORT; exit 0 when alive, 1 otherwise")
	flag.Parse()
	if *probe {
		if err := healthcheck(context.Background(), os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "catalog:", err)
			os.Exit(1)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalog:", err)
		os.Exit(1)
	}
}

// run wires the service together and serves until ctx is cancelled. It takes its
// environment and output as arguments so that tests can run the whole service.
//
// A dependency that is down at start does not stop the service: it starts, reports
// not-ready on /readyz, answers 503 for the calls that need the dependency, and
// recovers when the dependency comes back.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(logger) // for libraries that log through the default logger

	checks := health.NewRegistry()
	// What the HTTP layer gets; components add to it (routes, metrics) as they are wired in.
	deps := server.Deps{
		Config: cfg,
		Logger: logger,
		Health: checks,
	}
	m := metrics.New()
	// RED metrics per route, served on /metrics with the breakers' states.
	deps.Metrics = m

	// Storage and events of the items resource. Clients of external dependencies are
	// created here, register their readiness checks, and are closed by deferred calls,
	// which run after app.Serve has drained the in-flight requests that use them.
	// None of them waits for its dependency: each connects on first use, behind a
	// circuit breaker.
	var repo items.Repository = items.NewMemoryRepository()

	cacheBreaker := breaker.New("redis", cfg.Redis.Breaker, breaker.WithLogger(logger))
	rdb, err := cache.Open(cfg.Redis, cacheBreaker, logger)
	if err != nil {
		return err
	}
	defer func() { _ = rdb.Close() }()
	// Cache-aside in front of the repository; with Redis away, reads go straight to it.
	repo = rdb.Items(repo)
	checks.Register("redis", rdb.Check, health.WithState(cacheBreaker.State))
	m.RegisterBreaker(cacheBreaker.Name(), cacheBreaker.StateValue)

	deps.Items = items.NewService(repo, items.WithIdempotencyTTL(cfg.IdempotencyTTL))

	srv := &http.Server{
		Handler:           server.New(deps),
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}

	if err := app.Serve(ctx, logger, srv, ln, cfg.ShutdownTimeout, app.WithDrainDelay(cfg.ShutdownDelay, checks.Drain)); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}
