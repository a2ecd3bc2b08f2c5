package config

import "time"

// Outbox configures the outbox relay.
type Outbox struct {
	// PollInterval is how often the relay looks for events nobody told it about
	// (written by another replica); this replica's own writes wake it at once.
	PollInterval time.Duration
	// BatchSize is the most events published in one batch.
	BatchSize int
}

// Limits of the outbox settings: wide, they catch typos, not tuning.
const (
	maxOutboxBatch  = 10_000
	maxOutboxMemory = 10_000_000
)

// outbox reads the outbox relay's settings.
func (l *loader) outbox() Outbox {
	return Outbox{
		PollInterval: l.duration("OUTBOX_POLL_INTERVAL", time.Second, 10*time.Millisecond, time.Hour),
		BatchSize:    l.int("OUTBOX_BATCH_SIZE", 100, 1, maxOutboxBatch),
	}
}
