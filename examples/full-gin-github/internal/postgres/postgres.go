// Package postgres stores items in PostgreSQL through a pgx connection pool, and
// runs the service's SQL migrations (through internal/migrate).
//
// The pool connects lazily: the service starts, serves liveness and reports
// not-ready while the database is unreachable, and recovers on its own when it
// returns. Every call goes through a circuit breaker and a query timeout, so a
// database that is down or stuck turns into fast 503s instead of hung requests.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/items"
)

// DB is the service's database: a pool, the breaker in front of it, and whether
// the schema migrations have been applied.
type DB struct {
	pool         *pgxpool.Pool
	breaker      *breaker.Breaker
	logger       *slog.Logger
	queryTimeout time.Duration
	// migrateOnStart: MigrateInBackground applies the migrations (else it waits for them).
	migrateOnStart bool
	migrated       atomic.Bool
	// notMigrated is what readiness says until migrated (nil: the default message).
	notMigrated atomic.Pointer[string]
}

// Open configures a pool from cfg without connecting: no call here waits for the
// database. It fails only on a connection string pgx cannot parse.
func Open(cfg config.Postgres, b *breaker.Breaker, logger *slog.Logger) (*DB, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's parse errors can quote the connection string; say only what is wrong.
		return nil, errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	pc.MaxConns = cfg.MaxConns
	pc.MinConns = cfg.MinConns
	pc.MaxConnLifetime = cfg.MaxConnLifetime
	pc.MaxConnIdleTime = cfg.MaxConnIdleTime
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
		pc.ConnConfig.RuntimeParams["application_name"] = "orders-api"
	}
	// Sent in every connection's start-up message, so they hold from its first
	// statement on, pooled or not. A value in DATABASE_URL gives way to them.
	for name, d := range map[string]time.Duration{
		"statement_timeout":                   cfg.StatementTimeout,
		"lock_timeout":                        cfg.LockTimeout,
		"idle_in_transaction_session_timeout": cfg.IdleInTransactionTimeout,
	} {
		if d > 0 {
			pc.ConnConfig.RuntimeParams[name] = strconv.FormatInt(d.Milliseconds(), 10)
		}
	}
	pc.ConnConfig.Tracer = newQueryTracer(pc.ConnConfig)
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("postgres pool: %w", err)
	}
	return &DB{pool: pool, breaker: b, logger: logger, queryTimeout: cfg.QueryTimeout, migrateOnStart: cfg.MigrateOnStart}, nil
}

// Close closes the pool, waiting for connections in use to be released.
func (db *DB) Close() { db.pool.Close() }

// Stat returns the pool's statistics (connections in use, idle, waits for one),
// which the metrics export.
func (db *DB) Stat() *pgxpool.Stat { return db.pool.Stat() }

// Migrated reports whether the schema migrations have been applied.
func (db *DB) Migrated() bool { return db.migrated.Load() }

// Check is the readiness check: the database answers a ping (through the
// breaker, so a ping after the open timeout is the trial that closes it again)
// and the schema is in place. Its messages are short on purpose: /readyz is often
// reachable from outside, and driver errors name hosts and users.
func (db *DB) Check(ctx context.Context) error {
	err := db.breaker.Do(func() error { return db.pool.Ping(ctx) })
	switch {
	case errors.Is(err, breaker.ErrOpen):
		return errors.New("circuit breaker open")
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("ping timed out")
	case err != nil:
		db.logger.DebugContext(ctx, "postgres readiness ping failed", "error", err)
		return errors.New("ping failed")
	case !db.Migrated():
		if msg := db.notMigrated.Load(); msg != nil {
			return errors.New(*msg)
		}
		return errors.New("schema migrations not applied yet")
	}
	return nil
}

// call runs fn against the pool under the query timeout and the breaker, and
// turns what went wrong into the errors of the items package: ErrUnavailable when
// the database cannot be used, ErrNotFound and the other answers of the items
// package when fn says so; anything else (a
// statement the database rejected) is passed on and answered with 500.
func (db *DB) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if !db.Migrated() {
		return fmt.Errorf("postgres: %w: schema migrations not applied yet", items.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, db.queryTimeout)
	defer cancel()
	err := db.breaker.Do(func() error {
		err := fn(ctx)
		if err != nil && !unavailable(err) {
			return breaker.Harmless(err) // the database answered: it is up
		}
		return err
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, items.ErrNotFound), errors.Is(err, pgx.ErrNoRows):
		return items.ErrNotFound
	case answer(err):
		return err
	case unavailable(err):
		return fmt.Errorf("postgres: %w: %w", items.ErrUnavailable, err)
	default:
		return fmt.Errorf("postgres: %w", err)
	}
}

// inTx runs fn in one transaction through call: committed when fn returns nil,
// rolled back otherwise.
func (db *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return db.call(ctx, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
	})
}

// answer reports whether err is one of the items package's answers about the data
// (not found, a version or idempotency conflict) rather than a failure.
func answer(err error) bool {
	for _, target := range []error{pgx.ErrNoRows, items.ErrNotFound, items.ErrVersionMismatch,
		items.ErrIdempotencyKeyReused, items.ErrIdempotencyKeyInFlight} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// lockNotAvailable is the SQLSTATE of a lock wait that ran out of lock_timeout.
const lockNotAvailable = "55P03"

// unavailable reports whether err means the database could not be used, as
// opposed to an answer from it. Errors from the server count only in the SQLSTATE
// classes of connection problems (08), exhausted resources (53), operator
// intervention such as a shutdown or a statement timeout (57) and system errors (58),
// and a lock wait that ran out of lock_timeout (55P03): the row is busy, a retry
// may well succeed.
func unavailable(err error) bool {
	if answer(err) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 {
		if pgErr.Code == lockNotAvailable {
			return true
		}
		switch pgErr.Code[:2] {
		case "08", "53", "57", "58":
			return true
		}
		return false
	}
	return true // network errors, timeouts, a closed pool, an open breaker
}
