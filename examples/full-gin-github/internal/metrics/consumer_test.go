package metrics

import (
	"strings"
	"testing"
)

func TestConsumerMetrics(t *testing.T) {
	m := New()
	c := m.NewConsumer()
	c.Handled()
	c.Handled()
	c.Failed()
	c.DeadLettered()
	c.Lag("orders.items", 1, 7)
	out := scrape(t, m)
	for _, want := range []string{
		"kafka_consumer_events_handled_total 2",
		"kafka_consumer_handler_failures_total 1",
		"kafka_consumer_events_dead_lettered_total 1",
		`kafka_consumer_lag{partition="1",topic="orders.items"} 7`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
