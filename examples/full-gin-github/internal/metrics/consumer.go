package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Consumer counts what the Kafka consumer does with the events it reads (it
// implements kafka.ConsumerMetrics).
type Consumer struct {
	handled      prometheus.Counter
	failed       prometheus.Counter
	deadLettered prometheus.Counter
	lag          *prometheus.GaugeVec
}

// NewConsumer registers the consumer's metrics. Call it once per registry.
func (m *Metrics) NewConsumer() *Consumer {
	c := &Consumer{
		handled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_consumer_events_handled_total",
			Help: "Events the consumer's handler accepted.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_consumer_handler_failures_total",
			Help: "Handler calls that returned an error or panicked (each retry counts).",
		}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_consumer_events_dead_lettered_total",
			Help: "Events the consumer gave up on and wrote to the dead-letter topic.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kafka_consumer_lag",
			Help: "Records of a partition behind the last one the consumer finished with, as of its last fetch.",
		}, []string{"topic", "partition"}),
	}
	m.registry.MustRegister(c.handled, c.failed, c.deadLettered, c.lag)
	return c
}

// Handled counts an event the handler accepted.
func (c *Consumer) Handled() { c.handled.Inc() }

// Failed counts a failed handler call.
func (c *Consumer) Failed() { c.failed.Inc() }

// DeadLettered counts an event written to the dead-letter topic.
func (c *Consumer) DeadLettered() { c.deadLettered.Inc() }

// Lag sets a partition's lag.
func (c *Consumer) Lag(topic string, partition int32, lag int64) {
	c.lag.WithLabelValues(topic, strconv.Itoa(int(partition))).Set(float64(lag))
}
