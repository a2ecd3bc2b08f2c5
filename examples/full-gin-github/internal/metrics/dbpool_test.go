package metrics

import (
	"strings"
	"testing"
	"time"
)

// poolStats is a PoolStats with fixed values.
type poolStats struct{ acquired int32 }

func (s poolStats) AcquiredConns() int32                { return s.acquired }
func (s poolStats) IdleConns() int32                    { return 3 }
func (s poolStats) TotalConns() int32                   { return s.acquired + 3 }
func (s poolStats) MaxConns() int32                     { return 10 }
func (s poolStats) AcquireCount() int64                 { return 42 }
func (s poolStats) AcquireDuration() time.Duration      { return 1500 * time.Millisecond }
func (s poolStats) EmptyAcquireCount() int64            { return 5 }
func (s poolStats) EmptyAcquireWaitTime() time.Duration { return 250 * time.Millisecond }
func (s poolStats) CanceledAcquireCount() int64         { return 2 }
func (s poolStats) NewConnsCount() int64                { return 7 }

func TestDBPoolMetrics(t *testing.T) {
	m := New()
	stats := poolStats{acquired: 4}
	m.RegisterDBPool(func() PoolStats { return stats })
	out := scrape(t, m)
	for _, want := range []string{
		"db_pool_acquired_connections 4",
		"db_pool_idle_connections 3",
		"db_pool_total_connections 7",
		"db_pool_max_connections 10",
		"db_pool_acquires_total 42",
		"db_pool_acquire_duration_seconds_total 1.5",
		"db_pool_empty_acquires_total 5",
		"db_pool_empty_acquire_wait_seconds_total 0.25",
		"db_pool_canceled_acquires_total 2",
		"db_pool_new_connections_total 7",
		"# TYPE db_pool_acquires_total counter",
		"# TYPE db_pool_acquired_connections gauge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	stats = poolStats{acquired: 9} // read at scrape time
	if out := scrape(t, m); !strings.Contains(out, "db_pool_acquired_connections 9") {
		t.Error("db_pool_acquired_connections did not follow the pool")
	}
}
