package config

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/acme/orders-api/internal/breaker"
)

// Postgres configures the PostgreSQL pool, queries and their circuit breaker.
type Postgres struct {
	// URL is the connection string (DATABASE_URL), e.g.
	// postgres://user:pass@host:5432/db?sslmode=verify-full&sslrootcert=/etc/db/ca.pem.
	// Its TLS parameters (sslmode, sslrootcert, sslcert, sslkey) are libpq's, which
	// pgx applies as they are. It may hold a password: never log it.
	URL string
	// MaxConns and MinConns bound the pool; MinConns connections are kept open.
	MaxConns int32
	MinConns int32
	// ConnectTimeout bounds establishing one connection.
	ConnectTimeout time.Duration
	// QueryTimeout bounds every query, so a stuck database gives a 503 well before
	// the request deadline.
	QueryTimeout time.Duration
	// MaxConnLifetime and MaxConnIdleTime recycle connections, so that the pool
	// follows fail-overs and DNS changes and gives idle ones back.
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
	// StatementTimeout, LockTimeout and IdleInTransactionTimeout are the server's
	// statement_timeout, lock_timeout and idle_in_transaction_session_timeout of
	// every pooled connection: the database itself stops a statement, a lock wait or
	// an abandoned transaction the client has long given up on, instead of holding
	// a backend and its locks. 0 leaves the server's own setting.
	StatementTimeout         time.Duration
	LockTimeout              time.Duration
	IdleInTransactionTimeout time.Duration
	// Breaker guards every call to the database.
	Breaker breaker.Settings
	// MigrateOnStart (MIGRATE_ON_START, default true): serving applies the pending
	// migrations in the background. When false, `migrate up` (a Kubernetes Job)
	// applies them and serving only waits until the schema is at its version.
	MigrateOnStart bool
}

// maxConns bounds the pool size: wide, it catches typos, not tuning.
const maxConns = 10_000

// maxServerTimeout bounds the server-side timeouts: they catch typos, not tuning.
const maxServerTimeout = 24 * time.Hour

// postgres reads the PostgreSQL settings; DB_MIN_CONNS must not exceed DB_MAX_CONNS.
//
// The server-side timeouts follow the query budget unless set: a statement, and a
// transaction left idle, may take as long as DB_QUERY_TIMEOUT — the service has
// stopped waiting for them then — and a lock wait at most a second of it, since a
// lock held that long is a migration or a stuck transaction, and waiting behind it
// only piles up the pool.
func (l *loader) postgres() Postgres {
	p := Postgres{
		URL:             l.url("DATABASE_URL", "postgres", "postgresql"),
		MaxConns:        int32(l.int("DB_MAX_CONNS", 10, 1, maxConns)),
		MinConns:        int32(l.int("DB_MIN_CONNS", 0, 0, maxConns)),
		ConnectTimeout:  l.duration("DB_CONNECT_TIMEOUT", 3*time.Second, minTimeout, maxTimeout),
		QueryTimeout:    l.duration("DB_QUERY_TIMEOUT", 3*time.Second, minTimeout, maxTimeout),
		MaxConnLifetime: l.duration("DB_MAX_CONN_LIFETIME", 30*time.Minute, time.Second, 24*time.Hour),
		MaxConnIdleTime: l.duration("DB_MAX_CONN_IDLE_TIME", 5*time.Minute, time.Second, 24*time.Hour),
		Breaker:         l.breaker("DB"),
		MigrateOnStart:  l.bool("MIGRATE_ON_START", true),
	}
	p.StatementTimeout = l.serverTimeout("DB_STATEMENT_TIMEOUT", p.QueryTimeout)
	p.LockTimeout = l.serverTimeout("DB_LOCK_TIMEOUT", min(time.Second, p.QueryTimeout))
	p.IdleInTransactionTimeout = l.serverTimeout("DB_IDLE_IN_TRANSACTION_TIMEOUT", p.QueryTimeout)
	l.postgresTLS(p.URL)
	if !l.failed["DB_MIN_CONNS"] && !l.failed["DB_MAX_CONNS"] && p.MinConns > p.MaxConns {
		l.errorf("DB_MIN_CONNS (%d) must not exceed DB_MAX_CONNS (%d)", p.MinConns, p.MaxConns)
	}
	return p
}

// serverTimeout reads a timeout PostgreSQL enforces in whole milliseconds: 0 (the
// server's setting), or from 1ms, so that no value silently rounds to 0.
func (l *loader) serverTimeout(name string, def time.Duration) time.Duration {
	d := l.duration(name, def, 0, maxServerTimeout)
	if d > 0 && d < time.Millisecond {
		raw, _ := l.lookup(name)
		l.fail(name, "must be 0 (the server's setting) or at least 1ms, got %q", raw)
		return def
	}
	return d
}

// sslModes are libpq's values of sslmode, weakest first.
var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// postgresTLS checks DATABASE_URL's TLS parameters now: pgx would refuse a
// misspelt sslmode only as an unparsable URL, and read sslrootcert only at the
// first connection.
func (l *loader) postgresTLS(raw string) {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return // reported by url
	}
	q := u.Query()
	if mode := q.Get("sslmode"); mode != "" && !slices.Contains(sslModes, mode) {
		l.fail("DATABASE_URL", "sslmode must be one of %s, got %q", strings.Join(sslModes, ", "), mode)
	}
	if ca := q.Get("sslrootcert"); ca != "" && ca != "system" {
		l.validCAFile("DATABASE_URL's sslrootcert", ca)
	}
}
