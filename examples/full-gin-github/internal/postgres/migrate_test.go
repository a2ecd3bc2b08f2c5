package postgres

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/items"
	"github.com/acme/orders-api/internal/migrate"
)

// schemaOf describes the test schema's tables, columns, indexes and constraints
// (schema_migrations aside), so that a rollback can be compared with the schema
// before the migration it rolls back.
func schemaOf(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.pool.Query(context.Background(), `
		SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
		  FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
		UNION ALL
		SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'
		UNION ALL
		SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		 WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text <> 'schema_migrations'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestEveryMigrationRollsBack applies the migrations one at a time on an empty
// schema, then rolls them back one at a time: each down must leave the schema as
// it was before its up. Then everything is applied again (up, down, up).
func TestEveryMigrationRollsBack(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	runner, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	ms := runner.Migrations()
	before := [][]string{nil} // before[i]: the schema with the first i migrations applied
	for _, m := range ms {
		applied, err := runner.UpTo(ctx, m.Version)
		if err != nil || len(applied) != 1 || applied[0].Name != m.Name {
			t.Fatalf("up to %s = %v, %v", m.Name, applied, err)
		}
		before = append(before, schemaOf(t, db))
	}
	statuses, err := runner.Status(ctx)
	if err != nil || len(statuses) != len(ms) {
		t.Fatalf("Status = %+v, %v", statuses, err)
	}
	for _, s := range statuses {
		if !s.Applied || s.Changed || s.AppliedAt.IsZero() {
			t.Errorf("status of %s = %+v, want applied with a time", s.Name, s)
		}
	}
	for i := len(ms) - 1; i >= 0; i-- {
		reverted, err := runner.Down(ctx, 1)
		if err != nil || len(reverted) != 1 || reverted[0].Name != ms[i].Name {
			t.Fatalf("down from %s = %v, %v", ms[i].Name, reverted, err)
		}
		if got := schemaOf(t, db); !slices.Equal(got, before[i]) {
			t.Errorf("after rolling back %s the schema is\n%s\nwant, as before it was applied,\n%s",
				ms[i].Name, strings.Join(got, "\n"), strings.Join(before[i], "\n"))
		}
		if err := runner.Check(ctx); !errors.Is(err, migrate.ErrPending) || !strings.Contains(err.Error(), ms[i].Name) {
			t.Errorf("Check after rolling back %s = %v, want it pending", ms[i].Name, err)
		}
	}
	if reverted, err := runner.Down(ctx, 1); err != nil || len(reverted) != 0 {
		t.Errorf("down with nothing applied = %v, %v", reverted, err)
	}
	if n, err := db.Migrate(ctx); err != nil || n != len(ms) {
		t.Fatalf("up again = %d, %v; want %d", n, err, len(ms))
	}
	if got := schemaOf(t, db); !slices.Equal(got, before[len(ms)]) {
		t.Errorf("schema after up, down, up differs from after the first up:\n%s", strings.Join(got, "\n"))
	}
	if _, _, err := db.Items().Create(ctx, newItem("again"), items.Idempotency{}); err != nil {
		t.Errorf("Create after up, down, up: %v", err)
	}
}

// TestOldSchemaTableIsUpgraded starts from the schema_migrations table of the
// runner before checksums (services deployed with it have one): the table gains
// the column in place and the rows applied then get their files' checksums.
func TestOldSchemaTableIsUpgraded(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.pool.Exec(ctx, `CREATE TABLE schema_migrations (
		version    bigint PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, ms[0].Up); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (1, '0001_create_items.sql')`); err != nil {
		t.Fatal(err)
	}
	runner, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	// status only reads: the old table is reported as it is.
	if st, err := runner.Status(ctx); err != nil || !st[0].Applied || st[0].Changed || st[1].Applied {
		t.Fatalf("Status of the old table = %+v, %v; want 0001 applied, the rest pending", st, err)
	}
	if n, err := db.Migrate(ctx); err != nil || n != len(ms)-1 {
		t.Fatalf("Migrate over the old table = %d, %v; want the %d later migrations", n, err, len(ms)-1)
	}
	var name, sum string
	if err := db.pool.QueryRow(ctx, `SELECT name, checksum FROM schema_migrations WHERE version = 1`).Scan(&name, &sum); err != nil {
		t.Fatal(err)
	}
	if name != ms[0].Name || sum != ms[0].Checksum {
		t.Errorf("row of 0001 = %q, %q; want %q with the file's checksum %q", name, sum, ms[0].Name, ms[0].Checksum)
	}
}

func TestChangedMigrationIsRefused(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 2`); err != nil {
		t.Fatal(err)
	}
	runner, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	var changed *migrate.ChangedError
	if _, err := runner.Up(ctx); !errors.As(err, &changed) || !strings.Contains(err.Error(), "0002_item_version.up.sql") {
		t.Errorf("Up = %v, want a refusal naming 0002_item_version.up.sql", err)
	}
	if _, err := runner.Down(ctx, 1); !errors.As(err, &changed) {
		t.Errorf("Down = %v, want a refusal", err)
	}
	st, err := runner.Status(ctx)
	if !errors.As(err, &changed) || len(st) < 2 || !st[1].Changed || st[0].Changed {
		t.Errorf("Status = %+v, %v; want 0002 flagged and the error", st, err)
	}
}

// TestMigrationRetriesWhenATableIsLocked holds a lock on items from another
// transaction, as a long query of the service would: dropping the table waits at
// most the lock timeout, and the runner tries again until the lock is gone.
func TestMigrationRetriesWhenATableIsLocked(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	fast := driver{pool: db.pool, lockTimeout: 100 * time.Millisecond}

	holder, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `LOCK TABLE items IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	// Never released within the attempts: the runner gives up, saying why.
	_, err = migrate.New(fast, ms, logger, migrate.WithLockRetries(2, 10*time.Millisecond)).Down(ctx, len(ms))
	if !errors.Is(err, migrate.ErrLockTimeout) {
		t.Fatalf("Down with items locked throughout = %v, want ErrLockTimeout", err)
	}
	// Released after a while: a later attempt succeeds.
	go func() {
		time.Sleep(500 * time.Millisecond)
		_ = holder.Rollback(context.WithoutCancel(ctx))
	}()
	reverted, err := migrate.New(fast, ms, logger, migrate.WithLockRetries(50, 50*time.Millisecond)).Down(ctx, len(ms))
	if err != nil || len(reverted) != len(ms) {
		t.Fatalf("Down while items is locked for 500ms = %v, %v; want every migration rolled back", reverted, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry logged:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestServingWaitsForMigrationsWhenNotMigratingOnStart is MIGRATE_ON_START=false:
// the serving process applies nothing, reports the pending migrations, and is
// ready once another process (the migrate Job) has applied them.
func TestServingWaitsForMigrationsWhenNotMigratingOnStart(t *testing.T) {
	url := testSchemaURL(t)
	cfg := testConfig(url, breaker.Settings{Failures: 5, OpenTimeout: time.Second})
	cfg.MigrateOnStart = false
	db := open(t, cfg)
	ctx := context.Background()
	done := db.MigrateInBackground(ctx)
	time.Sleep(time.Second)
	err := db.Check(ctx)
	if db.Migrated() || err == nil || !strings.Contains(err.Error(), "schema migrations pending: 0001_create_items") || !strings.Contains(err.Error(), "MIGRATE_ON_START=false") {
		t.Fatalf("Check while nothing is applied = %v, want the pending migrations named", err)
	}
	if tables := schemaOfTables(t, db); len(tables) != 0 {
		t.Fatalf("the serving process created tables %v with MIGRATE_ON_START=false", tables)
	}
	if _, err := open(t, testConfig(url, cfg.Breaker)).Migrate(ctx); err != nil { // the Job
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the serving process did not notice the applied migrations within 30s")
	}
	if err := db.Check(ctx); err != nil || !db.Migrated() {
		t.Errorf("Check after the Job = %v, want ready", err)
	}
}

// schemaOfTables lists the tables of the test schema.
func schemaOfTables(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.pool.Query(context.Background(), `SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}
