package outbox

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrFull is returned by Memory.Add when the queue holds its limit of events: the
// broker has been away for long enough that accepting more writes would mean
// holding their events in memory without bound.
var ErrFull = errors.New("outbox: in-memory queue is full")

// Memory is the Store of a service without a database: a bounded FIFO queue in
// process memory. The events in it are lost when the process dies before the
// relay has published them — the price of having no database to store them in.
type Memory struct {
	mu      sync.Mutex
	events  []Event
	addedAt []time.Time // when each event was added, for the oldest-pending age
	claimed int         // events[:claimed] are being sent by Claim
	limit   int
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty queue holding at most limit events.
func NewMemory(limit int) *Memory {
	return &Memory{limit: max(limit, 1)}
}

// Add appends events in order, or none of them when they do not fit (ErrFull).
// Callers that must keep their own state in step with the queue (the in-memory
// item repository) call it under their own lock, before changing that state.
func (m *Memory) Add(events ...Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events)+len(events) > m.limit {
		return ErrFull
	}
	now := time.Now()
	for range events {
		m.addedAt = append(m.addedAt, now)
	}
	m.events = append(m.events, events...)
	return nil
}

// Claim implements Store. Only one Claim runs at a time; a second concurrent one
// finds nothing to do, which keeps the events of an item in order.
func (m *Memory) Claim(ctx context.Context, limit int, send func(context.Context, []Event) error) (int, error) {
	m.mu.Lock()
	if m.claimed > 0 || len(m.events) == 0 {
		m.mu.Unlock()
		return 0, nil
	}
	n := min(max(limit, 1), len(m.events))
	batch := make([]Event, n)
	copy(batch, m.events[:n])
	m.claimed = n
	m.mu.Unlock()

	err := send(ctx, batch)

	m.mu.Lock()
	defer m.mu.Unlock()
	m.claimed = 0
	if err != nil {
		return 0, err
	}
	// Drop the sent events; clearing them first lets their data be collected before
	// append moves the queue to a new array.
	clear(m.events[:n])
	m.events, m.addedAt = m.events[n:], m.addedAt[n:]
	return n, nil
}

// Pending implements Store.
func (m *Memory) Pending(context.Context) (int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events) == 0 {
		return 0, time.Time{}, nil
	}
	return len(m.events), m.addedAt[0], nil
}
