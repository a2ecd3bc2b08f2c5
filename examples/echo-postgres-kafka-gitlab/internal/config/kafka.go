package config

import (
	"net"
	"strings"
	"time"

	"gitlab.com/acme/billing/internal/breaker"
)

// Kafka configures the event producer, the consumer and their circuit breaker.
type Kafka struct {
	// Brokers are the seed brokers (KAFKA_BROKERS, comma-separated host:port).
	Brokers []string
	// Topic receives an event for every item write and is what the consumer reads.
	Topic string
	// ConsumerEnabled runs the consumer skeleton; ConsumerGroup is its group.
	ConsumerEnabled bool
	ConsumerGroup   string
	// ConsumerMaxAttempts is how many times the consumer calls its handler for one
	// event before giving up on it and sending it to DLQTopic.
	ConsumerMaxAttempts int
	// ConsumerRetryBackoff is the pause after the first failed attempt; it doubles
	// after each further one.
	ConsumerRetryBackoff time.Duration
	// DLQTopic receives the events the consumer gave up on, with the error in a header.
	DLQTopic string
	// PublishTimeout bounds one attempt of the outbox relay to publish a batch; an
	// attempt the brokers do not acknowledge in time is abandoned and retried later.
	PublishTimeout time.Duration
	// Breaker guards publishing; while it is open the relay's attempts fail at once
	// and its events wait in the outbox.
	Breaker breaker.Settings
}

// kafka reads the Kafka settings. The dead-letter topic follows the events topic
// unless it is set, and must differ from it: dead-lettered events would be
// consumed, and fail, again and again.
func (l *loader) kafka() Kafka {
	k := Kafka{
		Brokers:              l.brokers("KAFKA_BROKERS"),
		Topic:                l.str("KAFKA_TOPIC", "billing.items"),
		ConsumerEnabled:      l.bool("KAFKA_CONSUMER_ENABLED", false),
		ConsumerGroup:        l.str("KAFKA_CONSUMER_GROUP", "billing"),
		ConsumerMaxAttempts:  l.int("KAFKA_CONSUMER_MAX_ATTEMPTS", 5, 1, 100),
		ConsumerRetryBackoff: l.duration("KAFKA_CONSUMER_RETRY_BACKOFF", 500*time.Millisecond, minTimeout, time.Minute),
		DLQTopic:             l.str("KAFKA_DLQ_TOPIC", ""),
		PublishTimeout:       l.duration("KAFKA_PUBLISH_TIMEOUT", 2*time.Second, minTimeout, time.Minute),
		Breaker:              l.breaker("KAFKA"),
	}
	if k.DLQTopic == "" {
		k.DLQTopic = k.Topic + ".dlq"
	}
	if k.DLQTopic == k.Topic {
		l.fail("KAFKA_DLQ_TOPIC", "must differ from KAFKA_TOPIC (%q)", k.Topic)
	}
	return k
}

// brokers reads a required comma-separated list of host:port addresses.
func (l *loader) brokers(name string) []string {
	raw, ok := l.lookup(name)
	if !ok {
		l.fail(name, "is required (comma-separated host:port, e.g. localhost:9092)")
		return nil
	}
	var out []string
	for b := range strings.SplitSeq(raw, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if host, port, err := net.SplitHostPort(b); err != nil || host == "" || port == "" {
			l.fail(name, "must be comma-separated host:port addresses, got %q", raw)
			return nil
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		l.fail(name, "must name at least one host:port, got %q", raw)
	}
	return out
}
