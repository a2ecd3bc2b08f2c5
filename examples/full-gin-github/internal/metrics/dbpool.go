package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is what the pool collector reads of a connection pool's statistics:
// *pgxpool.Stat implements it, so this package needs no database driver.
type PoolStats interface {
	AcquiredConns() int32
	IdleConns() int32
	TotalConns() int32
	MaxConns() int32
	AcquireCount() int64
	AcquireDuration() time.Duration
	EmptyAcquireCount() int64
	EmptyAcquireWaitTime() time.Duration
	CanceledAcquireCount() int64
	NewConnsCount() int64
}

// RegisterDBPool exports the database connection pool's statistics as db_pool_*,
// read from stat at scrape time (pgxpool keeps them; nothing is counted twice).
// In use against max is the pool's saturation; empty acquires and their wait say
// requests queued for a connection: raise DB_MAX_CONNS or look for slow queries.
func (m *Metrics) RegisterDBPool(stat func() PoolStats) {
	m.registry.MustRegister(&dbPool{stat: stat})
}

// dbPool is a collector: one Stat call per scrape yields a consistent set.
type dbPool struct{ stat func() PoolStats }

var (
	dbPoolAcquired = prometheus.NewDesc("db_pool_acquired_connections",
		"Connections of the pool in use by a query or transaction.", nil, nil)
	dbPoolIdle = prometheus.NewDesc("db_pool_idle_connections",
		"Open connections of the pool waiting to be used.", nil, nil)
	dbPoolTotal = prometheus.NewDesc("db_pool_total_connections",
		"Connections of the pool: acquired, idle and being opened.", nil, nil)
	dbPoolMax = prometheus.NewDesc("db_pool_max_connections",
		"The most connections the pool opens (DB_MAX_CONNS).", nil, nil)
	dbPoolAcquires = prometheus.NewDesc("db_pool_acquires_total",
		"Connections acquired from the pool.", nil, nil)
	dbPoolAcquireSeconds = prometheus.NewDesc("db_pool_acquire_duration_seconds_total",
		"Time spent acquiring connections from the pool, waits for a free one included.", nil, nil)
	dbPoolEmptyAcquires = prometheus.NewDesc("db_pool_empty_acquires_total",
		"Acquires that found no idle connection and waited for one to be freed or opened.", nil, nil)
	dbPoolEmptyWaitSeconds = prometheus.NewDesc("db_pool_empty_acquire_wait_seconds_total",
		"Time acquires spent waiting because the pool had no idle connection.", nil, nil)
	dbPoolCanceledAcquires = prometheus.NewDesc("db_pool_canceled_acquires_total",
		"Acquires given up because the request's context ended first (timeouts while queued).", nil, nil)
	dbPoolNewConns = prometheus.NewDesc("db_pool_new_connections_total",
		"Connections the pool opened; a fast rise means connections are being closed and reopened.", nil, nil)
)

func (p *dbPool) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbPoolAcquired, dbPoolIdle, dbPoolTotal, dbPoolMax, dbPoolAcquires,
		dbPoolAcquireSeconds, dbPoolEmptyAcquires, dbPoolEmptyWaitSeconds, dbPoolCanceledAcquires, dbPoolNewConns} {
		ch <- d
	}
}

func (p *dbPool) Collect(ch chan<- prometheus.Metric) {
	s := p.stat()
	for _, v := range []struct {
		desc  *prometheus.Desc
		kind  prometheus.ValueType
		value float64
	}{
		{dbPoolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns())},
		{dbPoolIdle, prometheus.GaugeValue, float64(s.IdleConns())},
		{dbPoolTotal, prometheus.GaugeValue, float64(s.TotalConns())},
		{dbPoolMax, prometheus.GaugeValue, float64(s.MaxConns())},
		{dbPoolAcquires, prometheus.CounterValue, float64(s.AcquireCount())},
		{dbPoolAcquireSeconds, prometheus.CounterValue, s.AcquireDuration().Seconds()},
		{dbPoolEmptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount())},
		{dbPoolEmptyWaitSeconds, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds()},
		{dbPoolCanceledAcquires, prometheus.CounterValue, float64(s.CanceledAcquireCount())},
		{dbPoolNewConns, prometheus.CounterValue, float64(s.NewConnsCount())},
	} {
		ch <- prometheus.MustNewConstMetric(v.desc, v.kind, v.value)
	}
}
