package config

import (
	"net"
	"slices"
	"strings"
	"time"

	"gitlab.com/acme/billing/internal/breaker"
)

// Kafka configures the event producer, the consumer and their circuit breaker.
type Kafka struct {
	// Brokers are the seed brokers (KAFKA_BROKERS, comma-separated host:port).
	Brokers []string
	// TLS encrypts the connections to the brokers (KAFKA_TLS) and verifies that
	// each broker's certificate names its host, against the system's CAs or those
	// in TLSCAFile (KAFKA_TLS_CA_FILE, for a private CA).
	TLS       bool
	TLSCAFile string
	// SASLMechanism is how the client authenticates (KAFKA_SASL_MECHANISM: PLAIN,
	// SCRAM-SHA-256 or SCRAM-SHA-512; empty for none), as SASLUsername with
	// SASLPassword (KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD). The password is a
	// secret: never log it.
	SASLMechanism string
	SASLUsername  string
	SASLPassword  string
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
		TLS:                  l.bool("KAFKA_TLS", false),
		TLSCAFile:            l.caFile("KAFKA_TLS_CA_FILE"),
		SASLMechanism:        l.saslMechanism("KAFKA_SASL_MECHANISM"),
		SASLUsername:         l.str("KAFKA_SASL_USERNAME", ""),
		SASLPassword:         l.str("KAFKA_SASL_PASSWORD", ""),
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
	l.kafkaSecurity(k)
	return k
}

// SASLMechanisms are the values of KAFKA_SASL_MECHANISM, besides empty for none.
var SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// saslMechanism reads an optional SASL mechanism, in any case.
func (l *loader) saslMechanism(name string) string {
	raw, ok := l.lookup(name)
	if !ok {
		return ""
	}
	if m := strings.ToUpper(raw); slices.Contains(SASLMechanisms, m) {
		return m
	}
	l.fail(name, "must be one of %s (or empty for none), got %q", strings.Join(SASLMechanisms, ", "), raw)
	return ""
}

// kafkaSecurity checks that the TLS and SASL settings go together: credentials
// without a mechanism, or a CA file without TLS, would be ignored while the
// operator believes them in use.
func (l *loader) kafkaSecurity(k Kafka) {
	if k.TLSCAFile != "" && !k.TLS && !l.failed["KAFKA_TLS"] {
		l.fail("KAFKA_TLS_CA_FILE", "needs KAFKA_TLS=true")
	}
	switch {
	case l.failed["KAFKA_SASL_MECHANISM"]:
	case k.SASLMechanism != "" && (k.SASLUsername == "" || k.SASLPassword == ""):
		l.fail("KAFKA_SASL_MECHANISM", "%s needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD", k.SASLMechanism)
	case k.SASLMechanism == "" && (k.SASLUsername != "" || k.SASLPassword != ""):
		l.fail("KAFKA_SASL_MECHANISM", "must be set (%s) when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is", strings.Join(SASLMechanisms, ", "))
	}
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
