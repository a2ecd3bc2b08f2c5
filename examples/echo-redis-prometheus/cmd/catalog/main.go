// Command catalog runs the catalog HTTP service.
//
// It is configured by environment variables (see internal/config and .env.example)
// and logs JSON to stdout. SIGINT or SIGTERM starts a graceful shutdown: for
// SHUTDOWN_DELAY the service keeps serving while /readyz fails and every response
// closes its connection, so load balancers and keep-alive clients move away; then the
// server stops accepting connections, finishes in-flight requests within
// SHUTDOWN_TIMEOUT, and only then are clients of external dependencies closed.
//
// Besides the public port (PORT) it serves an admin port (ADMIN_PORT, default 9090)
// with /metrics and /debug/pprof/, which must be reachable only from inside the
// cluster.
//
// With "migrate up|down|status" it instead runs the schema migrations (see
// migrate.go). With -healthcheck it probes a running instance (GET /healthz on
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
	"runtime/debug"
	"syscall"

	"github.com/acme/catalog/internal/app"
	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/cache"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/health"
	"github.com/acme/catalog/internal/items"
	"github.com/acme/catalog/internal/logging"
	"github.com/acme/catalog/internal/metrics"
	"github.com/acme/catalog/internal/server"
)

// usage is the binary's help (-h), also printed with a command line it does not understand.
const usage = `usage: catalog                 serve HTTP (configured by the environment: .env.example)
       catalog -healthcheck    probe the running service's /healthz on 127.0.0.1:$PORT; exit 0 when alive
       catalog migrate up      apply every pending schema migration
       catalog migrate down    roll back the newest applied migration: one step ("down N": the newest N)
       catalog migrate status  list every migration: applied (and when) or pending; flag changed files
       (this service has no database: migrate says there is nothing to migrate)
`

func main() {
	probe := flag.Bool("healthcheck", false, "probe the running service's /healthz on 127.0.0.1:$PORT; exit 0 when alive, 1 otherwise")
	flag.Usage = func() { fmt.Fprint(flag.CommandLine.Output(), usage) }
	flag.Parse()
	if *probe {
		if err := healthcheck(context.Background(), os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "catalog:", err)
			os.Exit(1)
		}
		return
	}

	// The garbage collector runs when the heap has grown by GOGC % since the last
	// collection: Go's 100 by default. A service like this one keeps a small live heap
	// and allocates a little per request, so under load it collects many times a
	// second, some tenth of its CPU and a share of its tail latency; at 200 it collects
	// half as often, its heap peaking at three times the live data instead of two.
	// GOGC in the environment still decides, and GOMEMLIMIT (set from the container's
	// limit by deploy/k8s, when generated) makes it collect sooner when memory is short.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch cmd := flag.Arg(0); cmd {
	case "":
		err = run(ctx, os.Getenv, os.Stdout)
	case "migrate":
		err = migrateCommand(ctx, flag.Args()[1:], os.Getenv, os.Stdout)
	default:
		err = usageErrorf("unknown command %q: the commands are migrate up|down|status (none: serve)", cmd)
	}
	stop()
	if code := exitCode(err); code != 0 {
		fmt.Fprintln(os.Stderr, "catalog:", err)
		if code == 2 {
			flag.Usage()
		}
		os.Exit(code)
	}
}

// run wires the service together and serves until ctx is cancelled. It takes its
// environment and output as arguments so that tests can run the whole service.
//
// A dependency that is down does not stop the service: it starts, reports the
// dependency failing in /readyz's body (not-ready only until its start-up work is done,
// or when READINESS_CHECKS lists it), answers 503 for the calls that need the
// dependency, and recovers when the dependency comes back.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// Log lines go out in batches, one write per millisecond at most rather than one
	// per line (see logging.BatchWriter); deferred first, the last flush runs last.
	out := logging.NewBatchWriter(stdout)
	defer func() { _ = out.Close() }()
	logger := logging.New(out, cfg.LogLevel) // JSON; request_id on every line logged with a request's context
	slog.SetDefault(logger)                  // for libraries that log through the default logger

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
	rdb, err := cache.Open(cfg.Redis, cacheBreaker, logger, cache.WithMetrics(m.RegisterCache()))
	if err != nil {
		return err
	}
	defer func() { _ = rdb.Close() }()
	// Cache-aside in front of the repository; with Redis away, reads go straight to it.
	repo = rdb.Items(repo)
	checks.Register("redis", rdb.Check, health.WithState(cacheBreaker.State))
	m.RegisterBreaker(cacheBreaker.Name(), cacheBreaker.StateValue)

	deps.Items = items.NewService(repo, items.WithIdempotencyTTL(cfg.IdempotencyTTL))

	// Readiness is the instance's own state; the operator may make dependencies part of it.
	if err := checks.Require(cfg.ReadinessChecks...); err != nil {
		return fmt.Errorf("invalid configuration: READINESS_CHECKS: %w", err)
	}

	srv := &http.Server{
		Handler:           server.New(deps),
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// The admin server: metrics and profiles, off the public port. It has no write
	// timeout, since a CPU profile or trace streams for as long as its ?seconds= asks.
	admin := &http.Server{
		Handler:           server.Admin(deps),
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	adminLn, err := lc.Listen(ctx, "tcp", cfg.AdminAddr())
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("listen on %s (ADMIN_PORT): %w", cfg.AdminAddr(), err)
	}

	if err := app.Serve(ctx, logger, srv, ln, cfg.ShutdownTimeout,
		app.WithDrainDelay(cfg.ShutdownDelay, checks.Drain), app.WithAdmin(admin, adminLn)); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}
