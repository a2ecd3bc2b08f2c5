// Package kafka publishes item events to Kafka (franz-go) and holds a consumer
// skeleton for the same topic.
//
// Events are JSON, keyed by item ID, so all events of one item land in one
// partition and are consumed in order. The franz-go client connects lazily: the
// service starts and serves with the brokers away, reports not-ready for kafka,
// and a write never waits longer than KAFKA_PUBLISH_TIMEOUT for its event — once
// the breaker is open, not at all. A lost event is logged; where every event must
// arrive, use a transactional outbox instead.
package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/items"
)

// Publisher sends item events to the configured topic. It implements items.Publisher.
type Publisher struct {
	client  *kgo.Client
	breaker *breaker.Breaker
	logger  *slog.Logger
	topic   string
	timeout time.Duration
}

var _ items.Publisher = (*Publisher)(nil)

// NewPublisher configures a producer client; it does not contact the brokers.
func NewPublisher(cfg config.Kafka, b *breaker.Breaker, logger *slog.Logger, opts ...kgo.Opt) (*Publisher, error) {
	client, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		// Ask for the topic to be created if the cluster allows it; a cluster that
		// does not needs it created beforehand.
		kgo.AllowAutoTopicCreation(),
		// Publish's context fails a record that has not been sent in time; this fails
		// one that was sent but not acknowledged (franz-go allows no less than 1s).
		kgo.RecordDeliveryTimeout(max(cfg.PublishTimeout, time.Second)),
		kgo.DialTimeout(min(cfg.PublishTimeout, 10*time.Second)),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return &Publisher{client: client, breaker: b, logger: logger, topic: cfg.Topic, timeout: cfg.PublishTimeout}, nil
}

// Publish sends e and waits for the brokers to acknowledge it, at most the publish
// timeout. While the breaker is open it fails at once.
func (p *Publisher) Publish(ctx context.Context, e items.Event) error {
	value, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	rec := &kgo.Record{
		Key:   []byte(e.Item.ID),
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: "type", Value: []byte(e.Type)},
		},
	}
	// The write this event announces has happened: a client hanging up now must not
	// cancel the event, only the timeout bounds it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	err = p.breaker.Do(func() error { return p.client.ProduceSync(ctx, rec).FirstErr() })
	if err != nil {
		return fmt.Errorf("kafka: publish %s to %s: %w", e.Type, p.topic, err)
	}
	return nil
}

// Check is the readiness check: a broker answers a metadata request, through the
// breaker so that a check after the open timeout is the trial that closes it again.
func (p *Publisher) Check(ctx context.Context) error {
	err := p.breaker.Do(func() error { return p.client.Ping(ctx) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, breaker.ErrOpen):
		return errors.New("circuit breaker open")
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("no broker answered in time")
	default:
		p.logger.DebugContext(ctx, "kafka readiness check failed", "error", err)
		return errors.New("no broker reachable")
	}
}

// Close flushes nothing (every Publish waits for its record) and closes the client.
func (p *Publisher) Close() { p.client.Close() }
