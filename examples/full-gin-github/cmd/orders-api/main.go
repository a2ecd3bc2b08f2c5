// Command orders-api runs the orders-api HTTP service.
//
// It is configured by environment variables (see internal/config and .env.example)
// and logs JSON to stdout. SIGINT or SIGTERM starts a graceful shutdown: for
// SHUTDOWN_DELAY the service keeps serving while /readyz fails and every response
// closes its connection, so load balancers and keep-alive clients move away; then the
// server stops accepting connections, finishes in-flight requests within
// SHUTDOWN_TIMEOUT, and only then are clients of external dependencies closed
// (the outbox relay first makes a last attempt to publish what is pending, bounded
// by the broker's publish timeout).
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

	"github.com/acme/orders-api/internal/app"
	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/cache"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/health"
	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/kafka"
	"github.com/acme/orders-api/internal/logging"
	"github.com/acme/orders-api/internal/metrics"
	"github.com/acme/orders-api/internal/outbox"
	"github.com/acme/orders-api/internal/postgres"
	"github.com/acme/orders-api/internal/server"
	"github.com/acme/orders-api/internal/tracing"
)

// usage is the binary's help (-h), also printed with a command line it does not understand.
const usage = `usage: orders-api                 serve HTTP (configured by the environment: .env.example)
       orders-api -healthcheck    probe the running service's /healthz on 127.0.0.1:$PORT; exit 0 when alive
       orders-api migrate up      apply every pending schema migration
       orders-api migrate down    roll back the newest applied migration: one step ("down N": the newest N)
       orders-api migrate status  list every migration: applied (and when) or pending; flag changed files
`

func main() {
	probe := flag.Bool("healthcheck", false, "probe the running service's /healthz on 127.0.0.1:$PORT; exit 0 when alive, 1 otherwise")
	flag.Usage = func() { fmt.Fprint(flag.CommandLine.Output(), usage) }
	flag.Parse()
	if *probe {
		if err := healthcheck(context.Background(), os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "orders-api:", err)
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
		fmt.Fprintln(os.Stderr, "orders-api:", err)
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

	// Traces over OTLP, configured by the standard OTEL_* variables (README: Tracing).
	// The flush is deferred first, so it runs last, after the servers have drained and
	// the dependencies have closed; it gives up after its budget even when the
	// collector hangs, so it never holds the exit.
	shutdownTracing, err := tracing.Setup(ctx, logger)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(tracing.FlushTimeout, cfg.ShutdownTimeout))
		defer cancel()
		if err := shutdownTracing(flushCtx); err != nil {
			logger.Warn("tracing: spans not flushed at exit", "error", err.Error())
		}
	}()
	for _, c := range tracing.Counters() {
		m.RegisterCounterFunc(c.Name, c.Help, c.Value)
	}

	// Storage and events of the items resource. Clients of external dependencies are
	// created here, register their readiness checks, and are closed by deferred calls,
	// which run after app.Serve has drained the in-flight requests that use them.
	// None of them waits for its dependency: each connects on first use, behind a
	// circuit breaker.
	dbBreaker := breaker.New("postgres", cfg.Postgres.Breaker, breaker.WithLogger(logger))
	db, err := postgres.Open(cfg.Postgres, dbBreaker, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	// With MIGRATE_ON_START (the default) migrations are retried in the background
	// until the database is reachable; without it the service waits, read-only, for
	// `migrate up` to bring the schema to its version. Meanwhile the repository
	// answers 503 and /readyz says why. Expired idempotency keys are pruned in the
	// background too.
	migrateCtx, stopMigrations := context.WithCancel(ctx)
	migrated := db.MigrateInBackground(migrateCtx)
	pruned := db.PruneInBackground(migrateCtx)
	defer func() { stopMigrations(); <-migrated; <-pruned }()
	// Start-up is done once the schema is at this binary's version: until then
	// /readyz is 503.
	checks.Gate("migrations", db.Migrated)
	checks.Register("postgres", db.Check, health.WithState(dbBreaker.State))
	m.RegisterBreaker(dbBreaker.Name(), dbBreaker.StateValue)
	m.RegisterDBPool(func() metrics.PoolStats { return db.Stat() })

	kafkaBreaker := breaker.New("kafka", cfg.Kafka.Breaker, breaker.WithLogger(logger))
	publisher, err := kafka.NewPublisher(cfg.Kafka, kafkaBreaker, logger)
	if err != nil {
		return err
	}
	defer publisher.Close()
	publishTimeout := cfg.Kafka.PublishTimeout
	checks.Register("kafka", publisher.Check, health.WithState(kafkaBreaker.State))
	m.RegisterBreaker(kafkaBreaker.Name(), kafkaBreaker.StateValue)

	// The transactional outbox: every write stores its event with the change, and
	// the relay publishes stored events in the background, so no request waits for
	// the broker. The relay outlives the HTTP drain (its context is not the signal's) and
	// is stopped — with a last attempt bounded by the publish timeout — before the
	// publisher and the database close.
	store := db.Outbox()
	relay := outbox.NewRelay(store, publisher, outbox.Settings{
		PollInterval:   cfg.Outbox.PollInterval,
		BatchSize:      cfg.Outbox.BatchSize,
		PublishTimeout: publishTimeout,
	}, logger, outbox.WithObserver(m.RegisterOutbox()))
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	relayed := make(chan struct{})
	go func() { defer close(relayed); relay.Run(relayCtx) }()
	defer func() { stopRelay(); <-relayed }()

	if cfg.Kafka.ConsumerEnabled {
		consumer, err := kafka.NewConsumer(cfg.Kafka, logger, kafka.LogEvents(logger), kafka.WithConsumerMetrics(m.NewConsumer()))
		if err != nil {
			return err
		}
		consumeCtx, stopConsumer := context.WithCancel(ctx)
		consumed := make(chan struct{})
		go func() { defer close(consumed); consumer.Run(consumeCtx) }()
		defer func() { stopConsumer(); <-consumed }()
	}

	var repo items.Repository = db.Items().WithNotify(relay.Nudge)

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
