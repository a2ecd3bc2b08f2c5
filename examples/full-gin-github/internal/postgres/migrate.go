package postgres

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrationFiles are the schema migrations, compiled into the binary so that the
// schema always matches the code that uses it.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one forward-only schema change: migrations/NNNN_description.sql.
type Migration struct {
	Version int64
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || version <= 0 || path.Ext(name) != ".sql" {
			return nil, fmt.Errorf("migration %s: name it NNNN_description.sql", name)
		}
		if len(out) > 0 && out[len(out)-1].Version == version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", out[len(out)-1].Name, name)
		}
		body, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: name, SQL: string(body)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	return out, nil
}

// Migrate applies the pending migrations in one transaction: either all of them
// are applied or none is. A transaction-scoped advisory lock (per schema) makes
// replicas that start together take turns; the later ones find nothing to do.
// It returns how many migrations it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	return db.migrate(ctx, math.MaxInt64)
}

// migrate applies the pending migrations up to and including version upTo (tests
// use it to build a database as an older release left it).
func (db *DB) migrate(ctx context.Context, upTo int64) (int, error) {
	migrations, err := Migrations()
	if err != nil {
		return 0, err
	}
	applied := 0
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('schema_migrations:' || coalesce(current_schema(), '')))`); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    bigint PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		done, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if m.Version > upTo || slices.Contains(done, m.Version) {
				continue
			}
			// No arguments: pgx sends the file with the simple protocol, so it may hold
			// several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return err
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if upTo == math.MaxInt64 {
		db.migrated.Store(true)
	}
	return applied, nil
}

// Backoff bounds of MigrateInBackground.
const (
	migrateFirstRetry = 250 * time.Millisecond
	migrateMaxRetry   = 10 * time.Second
	migrateAttempt    = time.Minute // one attempt, including waiting for the lock
)

// MigrateInBackground applies the migrations, retrying with capped exponential
// backoff (and jitter, so replicas do not retry in step) until they succeed or ctx
// ends. The service serves meanwhile: liveness passes, readiness names the
// pending migrations, and the repository answers 503. The returned channel is
// closed when the goroutine has finished, so the caller can wait for it before
// closing the pool.
func (db *DB) MigrateInBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait := migrateFirstRetry
		for attempt := 1; ; attempt++ {
			actx, cancel := context.WithTimeout(ctx, migrateAttempt)
			n, err := db.Migrate(actx)
			cancel()
			if err == nil {
				db.logger.Info("schema migrations applied", "applied", n, "attempts", attempt)
				return
			}
			if ctx.Err() != nil {
				return
			}
			jittered := wait/2 + rand.N(wait/2+1) //nolint:gosec // G404: retry jitter, not a secret
			db.logger.Warn("schema migrations failed; retrying", "error", err, "attempt", attempt, "retry_in", jittered.String())
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
