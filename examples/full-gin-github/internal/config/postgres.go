package config

import (
	"time"

	"github.com/acme/orders-api/internal/breaker"
)

// Postgres configures the PostgreSQL pool, queries and their circuit breaker.
type Postgres struct {
	// URL is the connection string (DATABASE_URL), e.g.
	// postgres://user:pass@host:5432/db?sslmode=require. It may hold a password: never log it.
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
	// Breaker guards every call to the database.
	Breaker breaker.Settings
}

// maxConns bounds the pool size: wide, it catches typos, not tuning.
const maxConns = 10_000

// postgres reads the PostgreSQL settings; DB_MIN_CONNS must not exceed DB_MAX_CONNS.
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
	}
	if !l.failed["DB_MIN_CONNS"] && !l.failed["DB_MAX_CONNS"] && p.MinConns > p.MaxConns {
		l.errorf("DB_MIN_CONNS (%d) must not exceed DB_MAX_CONNS (%d)", p.MinConns, p.MaxConns)
	}
	return p
}
