package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/orders-api/internal/migrate"
)

// migrationFiles are the schema migrations, compiled into the binary so that the
// schema always matches the code that uses it: NNNN_description.up.sql and its
// rollback NNNN_description.down.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded migrations in version order.
func Migrations() ([]migrate.Migration, error) {
	return migrate.Load(migrationFiles, "migrations")
}

// migrationLockTimeout bounds how long a migration's statement waits for a lock
// on a table (lock_timeout). A long query of the service holding the lock would
// otherwise keep the migration waiting and every later query queued behind it;
// instead the migration gives up and the runner tries it again after a backoff.
const migrationLockTimeout = 5 * time.Second

// Migrator returns the runner of the embedded migrations on this database (the
// `migrate` command's up, down and status).
func (db *DB) Migrator() (*migrate.Runner, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	return migrate.New(driver{pool: db.pool, lockTimeout: migrationLockTimeout}, ms, db.logger), nil
}

// Migrate applies the pending migrations and returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	return db.migrate(ctx, math.MaxInt64)
}

// migrate applies the pending migrations up to and including version upTo (tests
// use it to build a database as an older release left it).
func (db *DB) migrate(ctx context.Context, upTo int64) (int, error) {
	r, err := db.Migrator()
	if err != nil {
		return 0, err
	}
	applied, err := r.UpTo(ctx, upTo)
	if err != nil {
		return 0, err
	}
	if upTo == math.MaxInt64 {
		db.migrated.Store(true)
	}
	return len(applied), nil
}

// driver is migrate.Driver on PostgreSQL. A session is one transaction, so the
// pending migrations of one `up` are applied all or none; it holds a
// transaction-scoped advisory lock (per schema), so runners — replicas starting
// together, a migration Job — take turns and the later ones find nothing to do.
type driver struct {
	pool        *pgxpool.Pool
	lockTimeout time.Duration
}

// schemaTable creates the table of applied migrations, or upgrades one an older
// runner created (without checksums) in place; the runner then records the
// checksums of the rows it finds without one.
const schemaTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    bigint PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	checksum   text NOT NULL DEFAULT ''
);
ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text NOT NULL DEFAULT ''`

// migrationLock takes the transaction-scoped advisory lock of the current
// schema's migrations.
const migrationLock = `SELECT pg_advisory_xact_lock(hashtext('schema_migrations:' || coalesce(current_schema(), '')))`

func (d driver) Session(ctx context.Context, fn func(context.Context, migrate.Session) error) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		// The pool's connections carry the service's statement and lock timeouts
		// (DB_STATEMENT_TIMEOUT, DB_LOCK_TIMEOUT), sized for queries: DDL on a big
		// table may take longer, and so may waiting for another runner.
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0"); err != nil {
			return err
		}
		// The advisory lock is waited for without a limit (other runners finish);
		// the lock timeout holds for the table locks taken after it.
		if _, err := tx.Exec(ctx, migrationLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = '%dms'", d.lockTimeout.Milliseconds())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, schemaTable); err != nil {
			return fmt.Errorf("schema_migrations: %w", err)
		}
		return fn(ctx, session{tx})
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == lockNotAvailable {
		return fmt.Errorf("%w: %w", migrate.ErrLockTimeout, err)
	}
	return err
}

func (d driver) Applied(ctx context.Context) ([]migrate.Record, error) {
	// to_jsonb reads the checksum when the column exists and NULL when an older
	// runner's table has none: no DDL, so the serving process needs no rights to it.
	rows, err := d.pool.Query(ctx, `SELECT version, name, coalesce(to_jsonb(s)->>'checksum', ''), applied_at FROM schema_migrations s`)
	var records []migrate.Record
	if err == nil {
		records, err = pgx.CollectRows(rows, scanRecord)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: nothing applied yet
		return nil, nil
	}
	return records, err
}

func scanRecord(row pgx.CollectableRow) (migrate.Record, error) {
	var r migrate.Record
	err := row.Scan(&r.Version, &r.Name, &r.Checksum, &r.AppliedAt)
	return r, err
}

// session is a migration session in its transaction.
type session struct{ tx pgx.Tx }

func (s session) Applied(ctx context.Context) ([]migrate.Record, error) {
	rows, err := s.tx.Query(ctx, `SELECT version, name, checksum, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanRecord)
}

// Apply runs the up file. Without arguments pgx sends it with the simple
// protocol, so a file may hold several statements.
func (s session) Apply(ctx context.Context, m migrate.Migration) error {
	if _, err := s.tx.Exec(ctx, m.Up); err != nil {
		return err
	}
	_, err := s.tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, m.Version, m.Name, m.Checksum)
	return err
}

func (s session) Revert(ctx context.Context, m migrate.Migration) error {
	if _, err := s.tx.Exec(ctx, m.Down); err != nil {
		return err
	}
	_, err := s.tx.Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, m.Version)
	return err
}

func (s session) Adopt(ctx context.Context, m migrate.Migration) error {
	_, err := s.tx.Exec(ctx, `UPDATE schema_migrations SET name = $2, checksum = $3 WHERE version = $1`, m.Version, m.Name, m.Checksum)
	return err
}

// Backoff bounds of MigrateInBackground.
const (
	migrateFirstRetry = 250 * time.Millisecond
	migrateMaxRetry   = 10 * time.Second
	migrateAttempt    = 2 * time.Minute // one attempt, including waiting for the locks and their retries
)

// MigrateInBackground brings the schema to this binary's version in the
// background. With MIGRATE_ON_START=true (the default) it applies the pending
// migrations; with false it only waits for someone else (`migrate up`, a
// Kubernetes Job) to have applied them, checking without locking or writing. Either
// way it retries with capped exponential backoff (and jitter, so replicas do not
// retry in step) until the schema is in place or ctx ends. The service serves
// meanwhile: liveness passes, readiness says what is missing, and the repository
// answers 503. The returned channel is closed when the goroutine has finished, so
// the caller can wait for it before closing the pool.
func (db *DB) MigrateInBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runner, err := db.Migrator()
		if err != nil { // the embedded files are broken: no retry mends that
			msg := err.Error()
			db.notMigrated.Store(&msg)
			db.logger.Error("schema migrations", "error", err)
			return
		}
		wait := migrateFirstRetry
		for attempt := 1; ; attempt++ {
			actx, cancel := context.WithTimeout(ctx, migrateAttempt)
			msg, err := db.bringSchema(actx, runner)
			cancel()
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				return
			}
			db.notMigrated.Store(&msg)
			jittered := wait/2 + rand.N(wait/2+1) //nolint:gosec // G404: retry jitter, not a secret
			db.logger.Warn(msg+"; retrying", "error", err, "attempt", attempt, "retry_in", jittered.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(jittered):
			}
			wait = min(wait*2, migrateMaxRetry)
		}
	}()
	return done
}

// bringSchema makes one attempt of MigrateInBackground. On failure it returns
// the short message readiness shows (no driver errors: they name hosts and users).
func (db *DB) bringSchema(ctx context.Context, runner *migrate.Runner) (string, error) {
	var changed *migrate.ChangedError
	if !db.migrateOnStart {
		err := runner.Check(ctx)
		switch {
		case err == nil:
			db.migrated.Store(true)
			db.logger.Info("schema is at this release's version (MIGRATE_ON_START=false)")
			return "", nil
		case errors.As(err, &changed):
			return "migration " + changed.File + " was changed after it was applied", err
		case errors.Is(err, migrate.ErrPending):
			return err.Error() + " (MIGRATE_ON_START=false: run migrate up)", err
		}
		return "schema version not known yet", err
	}
	applied, err := runner.Up(ctx)
	switch {
	case err == nil:
		db.migrated.Store(true)
		db.logger.Info("schema migrations applied", "applied", len(applied))
		return "", nil
	case errors.As(err, &changed):
		return "migration " + changed.File + " was changed after it was applied", err
	}
	return "schema migrations not applied yet", err
}
