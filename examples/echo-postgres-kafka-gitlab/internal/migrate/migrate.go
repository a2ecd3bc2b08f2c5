// Package migrate runs the service's schema migrations, whatever the database:
// SQL files embedded in the binary, applied in version order, rolled back one step
// at a time, and checked against the SHA-256 recorded when each was applied.
//
// A database component supplies a Driver (how to lock, record and run SQL on its
// database); the rules every database gets the same live here:
//
//   - files are NNNN_description.up.sql with a NNNN_description.down.sql beside it;
//     two files of one version are an error, found after sorting, naming both;
//   - an applied migration whose file changed is refused, naming the file, before
//     anything runs; rows an older runner recorded without a checksum get the
//     file's checksum the first time up or down runs;
//   - up and down run inside one Driver session, which holds the database's
//     migration lock (runners take turns); a session that gives up waiting for a
//     table lock (ErrLockTimeout) is retried with backoff;
//   - status and Check only read: they take no lock and change nothing.
package migrate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migration is one schema change and its rollback.
type Migration struct {
	// Version orders the migrations; it is the NNNN of the file name.
	Version int64
	// Name is the file name without the direction and extension: 0001_create_items.
	Name string
	// Up and Down are the SQL of NNNN_description.up.sql and .down.sql.
	Up, Down string
	// Checksum is the hex SHA-256 of Up, recorded when the migration is applied.
	Checksum string
}

// File is the name of the migration's up file, the one its checksum covers.
func (m Migration) File() string { return m.Name + ".up.sql" }

// Record is what the database remembers of an applied migration.
type Record struct {
	Version   int64
	Name      string
	Checksum  string // empty when an older runner applied it
	AppliedAt time.Time
}

// Driver is what a database gives the runner.
type Driver interface {
	// Session calls fn with a Session that holds the database's migration lock,
	// so that runners of the same schema take turns, and whose schema table exists
	// in its current form (created, or upgraded in place). Where DDL is
	// transactional (PostgreSQL) the session is one transaction, kept only when fn
	// returns nil; where it is not (MySQL commits each DDL statement) the driver
	// runs each migration's file and record as close to atomically as it can, and
	// what ran before an error stays applied, as status then shows. A session that could not take a lock on a table in time returns an error
	// wrapping ErrLockTimeout, and is tried again.
	Session(ctx context.Context, fn func(context.Context, Session) error) error
	// Applied reads the records without taking a lock or changing anything (the
	// serving process may lack the rights to): none when there is no schema table
	// yet, empty checksums when an older runner's table has no such column.
	Applied(ctx context.Context) ([]Record, error)
}

// Session is a Driver's migration session.
type Session interface {
	// Applied returns the records, in any order.
	Applied(ctx context.Context) ([]Record, error)
	// Apply runs m.Up and records m, with its checksum.
	Apply(ctx context.Context, m Migration) error
	// Revert runs m.Down and deletes m's record.
	Revert(ctx context.Context, m Migration) error
	// Adopt records m's name and checksum on its row, applied by an older runner.
	Adopt(ctx context.Context, m Migration) error
}

// ErrLockTimeout marks a session that gave up waiting for a lock on a table (a
// long query of the service holds it): the runner tries the session again.
var ErrLockTimeout = errors.New("lock not obtained in time")

// ErrPending is Check's answer when migrations of the binary are not applied.
var ErrPending = errors.New("schema migrations pending")

// ChangedError is an applied migration whose file is no longer what was applied.
type ChangedError struct {
	File             string
	Recorded, Actual string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("migration %s was changed after it was applied (SHA-256 %s in the database, %s in this binary): restore the file and put the change in a new migration",
		e.File, short(e.Recorded), short(e.Actual))
}

func short(sum string) string { return sum[:min(len(sum), 12)] }

// Load reads the migrations in dir of fsys and returns them in version order.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Migration{}
	for _, e := range entries {
		file := e.Name()
		stem, direction, ok := cutDirection(file)
		num, _, _ := strings.Cut(stem, "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || version <= 0 || !strings.Contains(stem, "_") {
			return nil, fmt.Errorf("migration %s: name it NNNN_description.up.sql (and NNNN_description.down.sql)", file)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, file))
		if err != nil {
			return nil, err
		}
		m := byName[stem]
		if m == nil {
			m = &Migration{Version: version, Name: stem}
			byName[stem] = m
		}
		if direction == "up" {
			m.Up = string(body)
			sum := sha256.Sum256(body)
			m.Checksum = hex.EncodeToString(sum[:])
		} else {
			m.Down = string(body)
		}
	}
	out := make([]Migration, 0, len(byName))
	for _, m := range byName {
		switch {
		case m.Checksum == "":
			return nil, fmt.Errorf("migration %s.down.sql has no %s.up.sql", m.Name, m.Name)
		case m.Down == "":
			return nil, fmt.Errorf("migration %s has no %s.down.sql: every migration needs its rollback", m.File(), m.Name)
		}
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Migration) int {
		return cmp.Or(cmp.Compare(a.Version, b.Version), strings.Compare(a.Name, b.Name))
	})
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s have the same version %d", out[i-1].File(), out[i].File(), out[i].Version)
		}
	}
	return out, nil
}

// cutDirection splits "0001_x.up.sql" into "0001_x" and "up".
func cutDirection(file string) (stem, direction string, ok bool) {
	for _, d := range []string{"up", "down"} {
		if s, found := strings.CutSuffix(file, "."+d+".sql"); found {
			return s, d, true
		}
	}
	return "", "", false
}

// Runner applies, rolls back and reports one set of migrations through a Driver.
type Runner struct {
	driver     Driver
	migrations []Migration
	logger     *slog.Logger
	attempts   int           // sessions tried when a lock times out
	firstWait  time.Duration // before the second attempt; doubling, capped at maxWait
	maxWait    time.Duration
}

// Option adjusts a Runner.
type Option func(*Runner)

// WithLockRetries sets how many sessions a lock timeout may cost (attempts, at
// least 1) and the wait before the second one, doubling up to 16 times that.
func WithLockRetries(attempts int, firstWait time.Duration) Option {
	return func(r *Runner) { r.attempts, r.firstWait, r.maxWait = max(attempts, 1), firstWait, 16*firstWait }
}

// New returns a Runner of migrations (in version order, as Load returns them).
func New(driver Driver, migrations []Migration, logger *slog.Logger, opts ...Option) *Runner {
	r := &Runner{driver: driver, migrations: migrations, logger: logger}
	WithLockRetries(6, 500*time.Millisecond)(r)
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Migrations returns the runner's migrations in version order.
func (r *Runner) Migrations() []Migration { return slices.Clone(r.migrations) }

// Up applies every pending migration in version order and returns those it applied.
func (r *Runner) Up(ctx context.Context) ([]Migration, error) {
	return r.UpTo(ctx, math.MaxInt64)
}

// UpTo applies the pending migrations up to and including version upTo (tests use
// it to build a database as an older release left it). On an error it returns
// none: the error names the migration that failed (status shows what is applied).
func (r *Runner) UpTo(ctx context.Context, upTo int64) ([]Migration, error) {
	var applied []Migration
	err := r.session(ctx, func(ctx context.Context, s Session) error {
		applied = nil // a retried session starts over
		done, err := r.verified(ctx, s)
		if err != nil {
			return err
		}
		for _, m := range r.migrations {
			if _, ok := done[m.Version]; ok || m.Version > upTo {
				continue
			}
			if err := s.Apply(ctx, m); err != nil {
				return fmt.Errorf("migration %s: %w", m.File(), err)
			}
			applied = append(applied, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// Down rolls back the newest n applied migrations, newest first, and returns them
// (none on an error, which names the migration that failed).
func (r *Runner) Down(ctx context.Context, n int) ([]Migration, error) {
	var reverted []Migration
	err := r.session(ctx, func(ctx context.Context, s Session) error {
		reverted = nil
		done, err := r.verified(ctx, s)
		if err != nil {
			return err
		}
		versions := slices.Sorted(maps.Keys(done))
		for i := len(versions) - 1; i >= 0 && len(reverted) < n; i-- {
			m, ok := r.find(versions[i])
			if !ok {
				rec := done[versions[i]]
				return fmt.Errorf("migration %s (version %d) is applied but this binary does not have it: roll it back with the release that applied it", rec.Name, rec.Version)
			}
			if err := s.Revert(ctx, m); err != nil {
				return fmt.Errorf("rolling back migration %s: %w", m.Name+".down.sql", err)
			}
			reverted = append(reverted, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reverted, nil
}

// verified reads the session's records, refuses a changed migration, adopts rows
// recorded without a checksum, and returns the records by version.
func (r *Runner) verified(ctx context.Context, s Session) (map[int64]Record, error) {
	records, err := s.Applied(ctx)
	if err != nil {
		return nil, err
	}
	done := make(map[int64]Record, len(records))
	for _, rec := range records {
		done[rec.Version] = rec
	}
	if err := r.changed(done); err != nil {
		return nil, err
	}
	for _, m := range r.migrations {
		if rec, ok := done[m.Version]; ok && rec.Checksum == "" {
			if err := s.Adopt(ctx, m); err != nil {
				return nil, fmt.Errorf("recording the checksum of %s: %w", m.File(), err)
			}
		}
	}
	return done, nil
}

// changed returns a ChangedError for the first applied migration whose checksum differs.
func (r *Runner) changed(done map[int64]Record) error {
	for _, m := range r.migrations {
		if rec, ok := done[m.Version]; ok && rec.Checksum != "" && rec.Checksum != m.Checksum {
			return &ChangedError{File: m.File(), Recorded: rec.Checksum, Actual: m.Checksum}
		}
	}
	return nil
}

func (r *Runner) find(version int64) (Migration, bool) {
	i := slices.IndexFunc(r.migrations, func(m Migration) bool { return m.Version == version })
	if i < 0 {
		return Migration{}, false
	}
	return r.migrations[i], true
}

// session runs fn in a Driver session, again after a backoff when a lock timed out.
func (r *Runner) session(ctx context.Context, fn func(context.Context, Session) error) error {
	wait := r.firstWait
	for attempt := 1; ; attempt++ {
		err := r.driver.Session(ctx, fn)
		if !errors.Is(err, ErrLockTimeout) || attempt >= r.attempts {
			return err
		}
		r.logger.WarnContext(ctx, "schema migration could not lock a table in time; retrying",
			"error", err, "attempt", attempt, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, r.maxWait)
	}
}

// Status is one line of the status report.
type Status struct {
	// Migration is the binary's migration; only Version and Name are set for one
	// the database has and the binary does not (a newer release applied it).
	Migration
	Applied   bool
	AppliedAt time.Time
	// Changed: applied, and the file's checksum is not the one recorded.
	Changed bool
	// Unknown: applied, but not one of this binary's migrations.
	Unknown bool
}

// Status reports every migration of the binary and every one the database has
// recorded, in version order. Its error is a *ChangedError when an applied
// migration has changed (the report is returned with it).
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	records, err := r.driver.Applied(ctx)
	if err != nil {
		return nil, err
	}
	done := make(map[int64]Record, len(records))
	for _, rec := range records {
		done[rec.Version] = rec
	}
	var out []Status
	for _, m := range r.migrations {
		rec, ok := done[m.Version]
		out = append(out, Status{Migration: m, Applied: ok, AppliedAt: rec.AppliedAt,
			Changed: ok && rec.Checksum != "" && rec.Checksum != m.Checksum})
	}
	for _, rec := range records {
		if _, ok := r.find(rec.Version); !ok {
			out = append(out, Status{Migration: Migration{Version: rec.Version, Name: rec.Name}, Applied: true, AppliedAt: rec.AppliedAt, Unknown: true})
		}
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Version, b.Version) })
	return out, r.changed(done)
}

// Check returns nil when the schema is at the binary's version: every migration
// applied, none changed. Otherwise its error says what is missing or changed (the
// serving process with MIGRATE_ON_START=false reports it as not ready).
func (r *Runner) Check(ctx context.Context) error {
	statuses, err := r.Status(ctx)
	if err != nil {
		return err
	}
	var pending []string
	for _, s := range statuses {
		if !s.Applied {
			pending = append(pending, s.Name)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("%w: %s", ErrPending, strings.Join(pending, ", "))
	}
	return nil
}
