package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Store holds the events waiting to be published.
type Store interface {
	// Claim passes up to limit pending events, oldest first, to send, and removes
	// them when send returns nil; on an error they stay pending. Events it passes
	// are not passed to another Claim (of this process or another replica) until
	// this one returns, and an event is never passed while an earlier event of the
	// same item is still pending, so each item's events are published in order.
	// It returns how many events were published.
	Claim(ctx context.Context, limit int, send func(context.Context, []Event) error) (int, error)
	// Pending reports how many events wait and when the oldest of them was stored.
	Pending(ctx context.Context) (n int, oldest time.Time, err error)
}

// Observer is told how the relay is doing; the metrics package implements it.
type Observer interface {
	// Pending is the number of events waiting and the age of the oldest of them.
	Pending(n int, oldestAge time.Duration)
	// PublishFailed counts a batch the broker did not acknowledge in time.
	PublishFailed()
}

// Settings tune the Relay.
type Settings struct {
	// PollInterval is how often the relay looks for events when nothing wakes it.
	PollInterval time.Duration
	// BatchSize is the most events sent in one batch.
	BatchSize int
	// PublishTimeout bounds one attempt to send a batch.
	PublishTimeout time.Duration
}

// Backoff bounds after a failed batch.
const (
	firstRetry = 100 * time.Millisecond
	maxRetry   = 30 * time.Second
	// statsEvery limits how often the relay asks the store for its backlog.
	statsEvery = time.Second
)

// Relay publishes the events of a Store through a Sender. Several relays (one
// per replica) may work on the same database: the Store hands each event to one of
// them at a time, and an item's events in order.
type Relay struct {
	store    Store
	sender   Sender
	settings Settings
	logger   *slog.Logger
	observer Observer
	wake     chan struct{}
}

// Option configures a Relay.
type Option func(*Relay)

// WithObserver reports the backlog and failures to o (metrics).
func WithObserver(o Observer) Option {
	return func(r *Relay) { r.observer = o }
}

// NewRelay returns a relay from store to sender; Run starts it.
func NewRelay(store Store, sender Sender, settings Settings, logger *slog.Logger, opts ...Option) *Relay {
	settings.BatchSize = max(settings.BatchSize, 1)
	if settings.PollInterval <= 0 {
		settings.PollInterval = time.Second
	}
	if settings.PublishTimeout <= 0 {
		settings.PublishTimeout = 5 * time.Second
	}
	r := &Relay{store: store, sender: sender, settings: settings, logger: logger, wake: make(chan struct{}, 1)}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Nudge tells the relay that an event was stored, so it publishes it now rather
// than at the next poll. It never blocks; writers call it after they commit.
func (r *Relay) Nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes events until ctx is cancelled: at once when nudged, else every
// PollInterval, straight on while full batches keep coming, and after a failure
// with capped exponential backoff and jitter (nudges do not cut a backoff short, so
// a busy service does not hammer a broker that is down). When ctx ends it makes
// one last attempt to publish what is pending, bounded by PublishTimeout, and returns.
func (r *Relay) Run(ctx context.Context) {
	defer r.drain(ctx)
	var lastStats time.Time
	backoff := firstRetry
	for {
		n, err := r.publishBatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if r.observer != nil && time.Since(lastStats) >= statsEvery {
			r.observe(ctx)
			lastStats = time.Now()
		}
		var wait time.Duration
		switch {
		case err != nil:
			wait = backoff/2 + rand.N(backoff/2+1) //nolint:gosec // G404: retry jitter, not a secret
			backoff = min(backoff*2, maxRetry)
			r.logger.WarnContext(ctx, "outbox: publishing failed; retrying", "error", err, "retry_in", wait.String())
		case n == r.settings.BatchSize:
			backoff = firstRetry
			continue // more are likely waiting
		default:
			backoff = firstRetry
			wait = r.settings.PollInterval
		}
		if !r.sleep(ctx, wait, err == nil) {
			return
		}
	}
}

// sleep waits for d, or for a nudge when wakeable, and reports whether ctx is still live.
func (r *Relay) sleep(ctx context.Context, d time.Duration, wakeable bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	wake := r.wake
	if !wakeable {
		wake = nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
	case <-wake:
	}
	return true
}

// drain makes the last attempt of Run: whatever the memory queue holds now is lost
// at exit unless it goes out, and a database's rows are only delayed to the next start.
func (r *Relay) drain(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.settings.PublishTimeout)
	defer cancel()
	for ctx.Err() == nil {
		n, err := r.publishBatch(ctx)
		if err != nil {
			r.logger.Warn("outbox: events left unpublished at shutdown", "error", err)
			return
		}
		if n == 0 {
			return
		}
	}
}

func (r *Relay) publishBatch(ctx context.Context) (int, error) {
	return r.store.Claim(ctx, r.settings.BatchSize, r.send)
}

// send hands batch to the Sender with the attempt's deadline. A Sender that
// overruns its deadline is abandoned, not waited for: the batch counts as failed
// and is sent again later, and the relay (and shutdown) goes on.
func (r *Relay) send(ctx context.Context, batch []Event) error {
	err := r.attempt(ctx, batch)
	if err != nil && r.observer != nil {
		r.observer.PublishFailed()
	}
	return err
}

func (r *Relay) attempt(ctx context.Context, batch []Event) error {
	ctx, cancel := context.WithTimeout(ctx, r.settings.PublishTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.sender.Send(ctx, batch) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done: // it finished as the deadline passed: take its answer
		default:
			return fmt.Errorf("outbox: send %d events: abandoned at the deadline: %w", len(batch), ctx.Err())
		}
	}
	if err != nil {
		return fmt.Errorf("outbox: send %d events: %w", len(batch), err)
	}
	return nil
}

func (r *Relay) observe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.settings.PublishTimeout)
	defer cancel()
	n, oldest, err := r.store.Pending(ctx)
	if err != nil {
		r.logger.DebugContext(ctx, "outbox: reading the backlog failed", "error", err)
		return
	}
	var age time.Duration
	if n > 0 {
		age = max(time.Since(oldest), 0)
	}
	r.observer.Pending(n, age)
}
