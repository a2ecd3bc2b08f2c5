package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"gitlab.com/acme/billing/internal/config"
	"gitlab.com/acme/billing/internal/items"
)

// Handler processes one event. An error is logged and the event skipped: this
// skeleton has no dead-letter topic; add one (or retries) where an event must not
// be lost.
type Handler func(ctx context.Context, e items.Event) error

// LogEvents is a Handler that logs each event: the place to start your own.
func LogEvents(logger *slog.Logger) Handler {
	return func(ctx context.Context, e items.Event) error {
		logger.InfoContext(ctx, "item event", "type", string(e.Type), "item_id", e.Item.ID)
		return nil
	}
}

// stopTimeout bounds committing offsets and leaving the group on shutdown, so that
// unreachable brokers cannot hold the process past its termination grace period.
const stopTimeout = 5 * time.Second

// Consumer reads the events topic as a member of a consumer group. Offsets are
// committed automatically after records are polled, and once more on stop, so a
// restart resumes where the group left off (at-least-once: handlers must be
// idempotent).
type Consumer struct {
	client  *kgo.Client
	handler Handler
	logger  *slog.Logger
}

// NewConsumer configures a group consumer of cfg.Topic; it does not contact the brokers.
func NewConsumer(cfg config.Kafka, logger *slog.Logger, handler Handler, opts ...kgo.Opt) (*Consumer, error) {
	client, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.ConsumerGroup),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	return &Consumer{client: client, handler: handler, logger: logger}, nil
}

// Run polls and handles records until ctx is cancelled, then commits what was
// handled, leaves the group and closes the client. It returns when all of that is
// done (bounded by stopTimeout).
func (c *Consumer) Run(ctx context.Context) {
	defer c.stop()
	for {
		fetches := c.client.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				c.logger.WarnContext(ctx, "kafka fetch failed", "topic", topic, "partition", partition, "error", err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			var e items.Event
			if err := json.Unmarshal(r.Value, &e); err != nil {
				c.logger.ErrorContext(ctx, "skipping undecodable event", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "error", err)
				return
			}
			if err := c.handler(ctx, e); err != nil {
				c.logger.ErrorContext(ctx, "event handler failed; skipping the event", "topic", r.Topic, "offset", r.Offset, "item_id", e.Item.ID, "error", err)
			}
		})
	}
}

func (c *Consumer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := c.client.CommitUncommittedOffsets(ctx); err != nil {
		c.logger.Warn("committing kafka offsets on stop", "error", err)
	}
	if err := c.client.LeaveGroupContext(ctx); err != nil {
		c.logger.Warn("leaving the kafka consumer group", "error", err)
	}
	c.client.Close()
}
