package kafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"gitlab.com/acme/billing/internal/breaker"
	"gitlab.com/acme/billing/internal/config"
	"gitlab.com/acme/billing/internal/outbox"
	"gitlab.com/acme/billing/internal/tlstest"
)

// secureCluster starts kfake listening with TLS — a certificate for 127.0.0.1
// from a CA of the test's — and requiring SASL as user svc with mechanism, and
// returns a configuration that reaches it.
func secureCluster(t *testing.T, mechanism string) (*tlstest.CA, config.Kafka) {
	t.Helper()
	ca := tlstest.NewCA(t)
	cluster := newCluster(t, kfake.TLS(ca.ServerConfig(t, "127.0.0.1")), kfake.EnableSASL(), kfake.Superuser(mechanism, "svc", "s3cret"))
	cfg := testConfig(cluster.ListenAddrs(), breaker.Settings{Failures: 100, OpenTimeout: time.Second})
	cfg.TLS, cfg.TLSCAFile = true, ca.File(t)
	cfg.SASLMechanism, cfg.SASLUsername, cfg.SASLPassword = mechanism, "svc", "s3cret"
	return ca, cfg
}

// TestTLSAndSASL publishes an event and consumes it through a cluster that
// listens with TLS only and requires SASL, once per mechanism: the publisher, the
// consumer and its dead-letter producer all connect through connOpts.
func TestTLSAndSASL(t *testing.T) {
	for _, mechanism := range config.SASLMechanisms {
		t.Run(mechanism, func(t *testing.T) {
			_, cfg := secureCluster(t, mechanism)
			e := testEvent("item.created", "secure-1", 1)
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			if err := newPublisher(t, cfg).Send(ctx, []outbox.Event{e}); err != nil {
				t.Fatalf("Send over TLS with %s: %v", mechanism, err)
			}
			got := make(chan string, 1)
			runConsumer(t, cfg, func(_ context.Context, ev outbox.Event) error {
				select {
				case got <- ev.ID:
				default:
				}
				return nil
			})
			select {
			case id := <-got:
				if id != e.ID {
					t.Errorf("consumed event %s, want %s", id, e.ID)
				}
			case <-ctx.Done():
				t.Fatalf("the consumer got no event over TLS with %s within %s", mechanism, waitFor)
			}
		})
	}
}

// TestTLSAndSASLRefusals checks that a client the cluster must not accept, or
// that must not trust the cluster, does not get a request through, and why.
func TestTLSAndSASLRefusals(t *testing.T) {
	_, good := secureCluster(t, "SCRAM-SHA-256")
	for _, tc := range []struct {
		name   string
		change func(c *config.Kafka)
		want   string // a fragment of the error; "" for any error (kfake just hangs up)
	}{
		{"wrong password", func(c *config.Kafka) { c.SASLPassword = "guess" }, ""},
		{"other mechanism", func(c *config.Kafka) { c.SASLMechanism = "SCRAM-SHA-512" }, ""},
		{"no SASL", func(c *config.Kafka) { c.SASLMechanism = "" }, "SASL"},
		{"no TLS", func(c *config.Kafka) { c.TLS = false }, "TLS"},
		{"system CAs, not the cluster's", func(c *config.Kafka) { c.TLSCAFile = "" }, "certificate signed by unknown authority"},
		{"another CA", func(c *config.Kafka) { c.TLSCAFile = tlstest.NewCA(t).File(t) }, "certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			opts, err := connOpts(cfg)
			if err != nil {
				t.Fatal(err)
			}
			client, err := kgo.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = client.Ping(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Ping = %v, want the connection refused (%q)", err, tc.want)
			}
		})
	}
}

func TestConnOptsRejectsWhatConfigRefuses(t *testing.T) {
	cfg := testConfig([]string{"127.0.0.1:1"}, breaker.Settings{})
	cfg.SASLMechanism = "GSSAPI"
	if _, err := connOpts(cfg); err == nil || !strings.Contains(err.Error(), "GSSAPI") {
		t.Errorf("connOpts with an unknown mechanism = %v, want an error naming it", err)
	}
	cfg.SASLMechanism, cfg.TLS, cfg.TLSCAFile = "", true, "/nonexistent/ca.pem"
	if _, err := NewPublisher(cfg, breaker.New("kafka", cfg.Breaker), nil); err == nil || !strings.Contains(err.Error(), "KAFKA_TLS_CA_FILE") {
		t.Errorf("NewPublisher with a missing CA file = %v, want an error naming KAFKA_TLS_CA_FILE", err)
	}
}
