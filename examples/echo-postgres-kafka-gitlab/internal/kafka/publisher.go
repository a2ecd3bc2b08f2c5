// Package kafka publishes the service's events to Kafka (franz-go) and holds a
// consumer skeleton for the same topic.
//
// Nothing on a request path waits for Kafka: writes store their events in the
// outbox, and the outbox's relay sends them here in batches. A batch is bounded by
// its context and KAFKA_PUBLISH_TIMEOUT even when a broker accepts connections and
// never answers, a timed-out batch counts as a failure of the circuit breaker, and
// the relay sends it again later. Records are keyed by item ID, so all events of
// one item land in one partition in order; the wire format is documented in
// api/asyncapi.yaml.
package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"gitlab.com/acme/billing/internal/breaker"
	"gitlab.com/acme/billing/internal/config"
	"gitlab.com/acme/billing/internal/outbox"
)

// Record headers of every event. The values repeat envelope fields so that
// consumers can route and deduplicate without decoding the value.
const (
	headerEventID     = "event_id"
	headerEventType   = "event_type"
	headerContentType = "content-type"
	headerTraceparent = "traceparent"
)

// Publisher sends events to the configured topic. It implements outbox.Sender.
type Publisher struct {
	producer *producer
	breaker  *breaker.Breaker
	logger   *slog.Logger
	topic    string
	timeout  time.Duration
}

var _ outbox.Sender = (*Publisher)(nil)

// NewPublisher configures a producer client; it does not contact the brokers.
// opts are appended to the client's options (tests use them).
func NewPublisher(cfg config.Kafka, b *breaker.Breaker, logger *slog.Logger, opts ...kgo.Opt) (*Publisher, error) {
	base, err := clientOpts(cfg)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	prod, err := newProducer(append(base, opts...))
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return &Publisher{producer: prod, breaker: b, logger: logger, topic: cfg.Topic, timeout: cfg.PublishTimeout}, nil
}

// clientOpts are the options of every producer the package creates: connOpts and
// what producing needs.
func clientOpts(cfg config.Kafka) ([]kgo.Opt, error) {
	opts, err := connOpts(cfg)
	if err != nil {
		return nil, err
	}
	return append(opts,
		kgo.DefaultProduceTopic(cfg.Topic),
		// Ask for topics to be created if the cluster allows it; a cluster that does
		// not needs the topic and its dead-letter topic created beforehand.
		kgo.AllowAutoTopicCreation(),
		kgo.DialTimeout(min(cfg.PublishTimeout, 10*time.Second)),
	), nil
}

// Send publishes batch in order and waits until the brokers acknowledged all of
// it, at most until ctx's deadline or the publish timeout, whichever comes first.
// While the breaker is open it fails at once.
func (p *Publisher) Send(ctx context.Context, batch []outbox.Event) error {
	if len(batch) == 0 {
		return nil
	}
	records := make([]*kgo.Record, len(batch))
	for i, e := range batch {
		r, err := record(e)
		if err != nil {
			return err
		}
		records[i] = r
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	err := p.breaker.Do(func() error { return p.producer.produce(ctx, records) })
	if err != nil {
		return fmt.Errorf("kafka: send %d events to %s: %w", len(batch), p.topic, err)
	}
	return nil
}

// record encodes e as the API documents it: key the item ID, value the JSON
// envelope, the id and type repeated as headers, and the trace context it kept.
func record(e outbox.Event) (*kgo.Record, error) {
	value, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("kafka: encode event %s: %w", e.ID, err)
	}
	headers := []kgo.RecordHeader{
		{Key: headerEventID, Value: []byte(e.ID)},
		{Key: headerEventType, Value: []byte(e.Type)},
		{Key: headerContentType, Value: []byte("application/json")},
	}
	if e.Traceparent != "" {
		headers = append(headers, kgo.RecordHeader{Key: headerTraceparent, Value: []byte(e.Traceparent)})
	}
	return &kgo.Record{Key: []byte(e.Key), Value: value, Headers: headers}, nil
}

// Check is the readiness check: a broker answers a metadata request, through the
// breaker so that a check after the open timeout is the trial that closes it again.
func (p *Publisher) Check(ctx context.Context) error {
	err := p.breaker.Do(func() error { return p.producer.ping(ctx) })
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

// Close closes the client; a Send still waiting fails at once. Every Send waits for
// its records, so there is nothing to flush.
func (p *Publisher) Close() { p.producer.close() }
