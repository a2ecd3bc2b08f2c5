package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gitlab.com/acme/billing/internal/breaker"
	"gitlab.com/acme/billing/internal/config"
	"gitlab.com/acme/billing/internal/items"
)

// unreachableURL points at a port where nothing listens: connections are refused at once.
const unreachableURL = "postgres://app:app@127.0.0.1:1/app?sslmode=disable"

// databaseURL returns DATABASE_URL, or skips the test without it. Under CI=true a
// skipped integration test would hide a broken pipeline, so it fails instead.
func databaseURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("DATABASE_URL is not set; with CI=true the PostgreSQL integration tests must run")
		}
		t.Skip("DATABASE_URL is not set: skipping the PostgreSQL integration test")
	}
	return u
}

func testConfig(rawURL string, set breaker.Settings) config.Postgres {
	return config.Postgres{
		URL: rawURL, MaxConns: 4, ConnectTimeout: 5 * time.Second, QueryTimeout: 5 * time.Second,
		MaxConnLifetime: time.Hour, MaxConnIdleTime: time.Minute, Breaker: set, MigrateOnStart: true,
	}
}

func open(t *testing.T, cfg config.Postgres) *DB {
	t.Helper()
	db, err := Open(cfg, breaker.New("postgres", cfg.Breaker), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// openTestDB opens a DB whose connections use a fresh schema of their own, dropped
// when the test ends, so that concurrent test packages — of this service or of
// another one — can share a database without seeing each other's tables.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	return open(t, testConfig(testSchemaURL(t), breaker.Settings{Failures: 5, OpenTimeout: time.Second}))
}

// testSchemaURL returns DATABASE_URL pointed at a fresh schema of the test's own,
// dropped when the test ends.
func testSchemaURL(t *testing.T) string {
	t.Helper()
	base := databaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := "test_" + strings.ToLower(rand.Text())
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to DATABASE_URL: %v", err)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema) // a run-time parameter of every pooled connection
	u.RawQuery = q.Encode()
	return u.String()
}

func TestMigrationsAreEmbeddedInOrder(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || !strings.Contains(ms[0].Up, "CREATE TABLE items") || !strings.Contains(ms[0].Down, "DROP TABLE items") {
		t.Fatalf("migrations = %+v", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migrations out of order: %s after %s", ms[i].Name, ms[i-1].Name)
		}
	}
}

func TestMigrateIsIdempotentAndSafeToRunConcurrently(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	ms, _ := Migrations()
	var wg sync.WaitGroup
	results := make([]int, 3)
	errs := make([]error, 3)
	for i := range 3 { // replicas starting at the same moment
		wg.Go(func() { results[i], errs[i] = db.Migrate(ctx) })
	}
	wg.Wait()
	total := 0
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("Migrate %d: %v", i, errs[i])
		}
		total += results[i]
	}
	if total != len(ms) {
		t.Errorf("applied %d migrations in total, want %d (each exactly once)", total, len(ms))
	}
	if n, err := db.Migrate(ctx); err != nil || n != 0 {
		t.Errorf("Migrate again = %d, %v; want 0, nil", n, err)
	}
	if !db.Migrated() {
		t.Error("Migrated() = false after Migrate")
	}
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check on a healthy, migrated database: %v", err)
	}
}

func TestItemRepository(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	repo := db.Items()
	now := time.Now().UTC().Truncate(time.Microsecond)
	// A name that would break out of a string-built statement: parameters keep it data.
	evil := `Robert'); DROP TABLE items; -- ✓`
	for i, name := range []string{"Widget", evil, "Gadget", "Gizmo", "Doohickey"} {
		item := items.Item{ID: fmt.Sprintf("ID%02d", i), Name: name, Price: int64(100 * i), CreatedAt: now, UpdatedAt: now}
		if _, _, err := repo.Create(ctx, item, items.Idempotency{}); err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
	}
	got, err := repo.Get(ctx, "ID01")
	if err != nil || got.Name != evil || got.Price != 100 || !got.CreatedAt.Equal(now) || got.CreatedAt.Location() != time.UTC || got.Version != 1 {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := repo.Get(ctx, "nope"); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Get of a missing id = %v, want ErrNotFound", err)
	}

	page, err := repo.List(ctx, "", 2)
	if err != nil || len(page) != 2 || page[0].ID != "ID00" || page[1].ID != "ID01" {
		t.Fatalf("List first page = %+v, %v", page, err)
	}
	page, err = repo.List(ctx, "ID03", 10)
	if err != nil || len(page) != 1 || page[0].ID != "ID04" {
		t.Fatalf("List after ID03 = %+v, %v", page, err)
	}

	later := now.Add(time.Minute)
	updated, err := repo.Update(ctx, items.Item{ID: "ID00", Name: "Widget 2", Price: 5, UpdatedAt: later}, items.AnyVersion)
	if err != nil || updated.Name != "Widget 2" || updated.Price != 5 || !updated.UpdatedAt.Equal(later) || !updated.CreatedAt.Equal(now) || updated.Version != 2 {
		t.Fatalf("Update = %+v, %v", updated, err)
	}
	if _, err := repo.Update(ctx, items.Item{ID: "nope", Name: "x", UpdatedAt: later}, items.AnyVersion); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("Update of a missing id = %v, want ErrNotFound", err)
	}
	if err := repo.Delete(ctx, "ID00", items.AnyVersion); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := repo.Delete(ctx, "ID00", items.AnyVersion); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if all, _ := repo.List(ctx, "", 100); len(all) != 4 {
		t.Errorf("%d items left, want 4", len(all))
	}
}

func TestRejectedStatementIsNotAnOutage(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	repo := db.Items()
	item := items.Item{ID: "dup", Name: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, _, err := repo.Create(ctx, item, items.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_, _, err := repo.Create(ctx, item, items.Idempotency{}) // unique violation: the database is fine
		if err == nil || errors.Is(err, items.ErrUnavailable) {
			t.Fatalf("duplicate Create = %v, want a plain error (500), not ErrUnavailable", err)
		}
	}
	for range 10 {
		_, _ = repo.Get(ctx, "missing")
	}
	if s := db.breaker.State(); s != "closed" {
		t.Errorf("breaker %s after answers from a healthy database, want closed", s)
	}
}

func TestRepositoryAnswersUnavailableUntilMigrated(t *testing.T) {
	db := open(t, testConfig(unreachableURL, breaker.Settings{Failures: 1, OpenTimeout: time.Hour}))
	_, err := db.Items().Get(context.Background(), "x")
	if !errors.Is(err, items.ErrUnavailable) || !strings.Contains(err.Error(), "migrations") {
		t.Fatalf("Get before migrations = %v, want ErrUnavailable naming the migrations", err)
	}
	if s := db.breaker.State(); s != "closed" {
		t.Errorf("breaker %s: the gate must not call (or count against) the database", s)
	}
}

// TestUnreachableDatabaseOpensBreaker injects a failing dependency — a database
// address where nothing listens — and checks that calls fail with 503 semantics,
// the breaker opens, and from then on calls fail at once without touching the network.
func TestUnreachableDatabaseOpensBreaker(t *testing.T) {
	db := open(t, testConfig(unreachableURL, breaker.Settings{Failures: 2, OpenTimeout: time.Hour}))
	db.migrated.Store(true) // as if migrations had run before the database went away
	ctx := context.Background()
	repo := db.Items()
	for i := range 2 {
		if _, err := repo.Get(ctx, "x"); !errors.Is(err, items.ErrUnavailable) {
			t.Fatalf("call %d = %v, want ErrUnavailable", i+1, err)
		}
	}
	if s := db.breaker.State(); s != "open" {
		t.Fatalf("breaker %s after 2 failures, want open", s)
	}
	start := time.Now()
	_, _, err := repo.Create(ctx, items.Item{ID: "x", Name: "x"}, items.Idempotency{})
	if !errors.Is(err, items.ErrUnavailable) || !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("call with the breaker open = %v, want ErrUnavailable and ErrOpen", err)
	}
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond {
		t.Errorf("call with the breaker open took %s, want immediate", elapsed)
	}
	if err := db.Check(ctx); err == nil || err.Error() != "circuit breaker open" {
		t.Errorf("Check = %v, want \"circuit breaker open\"", err)
	}
}

func TestCheckHidesConnectionDetails(t *testing.T) {
	db := open(t, testConfig(unreachableURL, breaker.Settings{Failures: 5, OpenTimeout: time.Hour}))
	err := db.Check(context.Background())
	if err == nil || strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "app") {
		t.Errorf("Check = %v, want a short error without host or user", err)
	}
}

func TestMigrateInBackgroundStopsWithContext(t *testing.T) {
	db := open(t, testConfig(unreachableURL, breaker.Settings{Failures: 5, OpenTimeout: time.Hour}))
	ctx, cancel := context.WithCancel(context.Background())
	done := db.MigrateInBackground(ctx)
	time.Sleep(300 * time.Millisecond) // a failed attempt or two
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("MigrateInBackground did not stop after its context was cancelled")
	}
	if db.Migrated() {
		t.Error("Migrated() = true without a database")
	}
}

func TestMigrateInBackgroundApplies(t *testing.T) {
	db := openTestDB(t)
	select {
	case <-db.MigrateInBackground(context.Background()):
	case <-time.After(30 * time.Second):
		t.Fatal("migrations not applied within 30s")
	}
	if !db.Migrated() {
		t.Fatal("Migrated() = false after MigrateInBackground finished")
	}
	if _, _, err := db.Items().Create(context.Background(), items.Item{ID: "a", Name: "a", CreatedAt: time.Now(), UpdatedAt: time.Now()}, items.Idempotency{}); err != nil {
		t.Errorf("Create after background migrations: %v", err)
	}
}

func TestOpenRejectsBadURLWithoutEchoingIt(t *testing.T) {
	_, err := Open(testConfig("postgres://app:s3cret@host:notaport/db", breaker.Settings{}), breaker.New("postgres", breaker.Settings{}), slog.New(slog.DiscardHandler))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open = %v, want an error that does not show the password", err)
	}
}

// TestServerEnforcesTimeouts checks, against a real server, that every pooled
// connection carries the configured statement_timeout, lock_timeout and
// idle_in_transaction_session_timeout, and that PostgreSQL itself ends what
// overruns them: work the service gave up on stops on the server too.
func TestServerEnforcesTimeouts(t *testing.T) {
	cfg := testConfig(databaseURL(t), breaker.Settings{Failures: 5, OpenTimeout: time.Second})
	cfg.StatementTimeout = 300 * time.Millisecond
	cfg.LockTimeout = 200 * time.Millisecond
	cfg.IdleInTransactionTimeout = 500 * time.Millisecond
	db := open(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquiring a pooled connection: %v", err)
	}
	defer conn.Release()
	for name, want := range map[string]time.Duration{
		"statement_timeout":                   cfg.StatementTimeout,
		"lock_timeout":                        cfg.LockTimeout,
		"idle_in_transaction_session_timeout": cfg.IdleInTransactionTimeout,
	} {
		var shown string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&shown); err != nil {
			t.Fatal(err)
		}
		var ms int64 // SHOW's value in the setting's unit, milliseconds
		if err := conn.QueryRow(ctx, "SELECT setting::bigint FROM pg_settings WHERE name = $1", name).Scan(&ms); err != nil {
			t.Fatal(err)
		}
		if got := time.Duration(ms) * time.Millisecond; got != want {
			t.Errorf("SHOW %s = %s, want %s", name, shown, want)
		}
	}

	t.Run("statement", func(t *testing.T) {
		start := time.Now()
		_, err := conn.Exec(ctx, "SELECT pg_sleep(5)")
		requireCode(t, err, "57014") // query_canceled: canceling statement due to statement timeout
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("the server cancelled the statement after %s, want about %s", elapsed, cfg.StatementTimeout)
		}
		if !unavailable(err) {
			t.Errorf("unavailable(%v) = false: a statement the server cut short must answer 503", err)
		}
	})

	t.Run("lock", func(t *testing.T) {
		key := time.Now().UnixNano()
		holder, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = holder.Rollback(ctx) }()
		if _, err := holder.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key)
		requireCode(t, err, lockNotAvailable)
		if !unavailable(err) {
			t.Errorf("unavailable(%v) = false: a lock wait that ran out must answer 503", err)
		}
	})

	t.Run("idle in transaction", func(t *testing.T) {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		time.Sleep(cfg.IdleInTransactionTimeout + 500*time.Millisecond) // a client that stopped mid-transaction
		if _, err := tx.Exec(ctx, "SELECT 1"); err == nil {
			t.Fatal("a transaction idle past idle_in_transaction_session_timeout went on; want the server to have ended it")
		}
	})
}

// TestMigrationsAreNotBoundByTheServiceLimits migrates through a pool whose
// connections carry short statement and lock timeouts while another runner holds
// the migration lock for longer than both: the migration waits its turn and is
// applied, since neither waiting for a runner nor DDL on a big table is a query.
func TestMigrationsAreNotBoundByTheServiceLimits(t *testing.T) {
	u := testSchemaURL(t)
	other := open(t, testConfig(u, breaker.Settings{Failures: 5, OpenTimeout: time.Second}))
	cfg := testConfig(u, breaker.Settings{Failures: 5, OpenTimeout: time.Second})
	cfg.StatementTimeout, cfg.LockTimeout = 100*time.Millisecond, 100*time.Millisecond
	db := open(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	held, err := other.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec(ctx, migrationLock); err != nil {
		t.Fatal(err)
	}
	const hold = 600 * time.Millisecond
	released := make(chan struct{})
	go func() { defer close(released); time.Sleep(hold); _ = held.Rollback(ctx) }()
	defer func() { <-released }()
	start := time.Now()
	n, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate behind another runner, with 100ms statement and lock timeouts: %v", err)
	}
	if elapsed := time.Since(start); elapsed < hold-100*time.Millisecond {
		t.Errorf("Migrate returned after %s, before the other runner let go (%s)", elapsed, hold)
	}
	if ms, _ := Migrations(); n != len(ms) {
		t.Errorf("applied %d migrations, want %d", n, len(ms))
	}
}

// requireCode fails unless err is a PostgreSQL error with SQLSTATE code.
func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		t.Fatalf("error = %v, want SQLSTATE %s from the server", err, code)
	}
}
