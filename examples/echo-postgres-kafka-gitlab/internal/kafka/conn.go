package kafka

import (
	"crypto/tls"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"gitlab.com/acme/billing/internal/config"
)

// connOpts are the options every client of the package reaches the cluster with:
// the seed brokers, TLS and SASL. The publisher, the consumer and its dead-letter
// producer all take them from here, so they cannot disagree about it.
func connOpts(cfg config.Kafka) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}
	if cfg.TLS {
		// No ServerName: kgo sets it to the host of each broker it dials, so every
		// broker's certificate must name the address the cluster advertises for it.
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSCAFile != "" {
			roots, err := config.RootCAs(cfg.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("KAFKA_TLS_CA_FILE: %w", err)
			}
			tc.RootCAs = roots
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch cfg.SASLMechanism {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: cfg.SASLUsername, Pass: cfg.SASLPassword}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASLUsername, Pass: cfg.SASLPassword}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASLUsername, Pass: cfg.SASLPassword}.AsSha512Mechanism()))
	default: // config.Load refuses others; a Kafka built by hand may still hold one
		return nil, fmt.Errorf("KAFKA_SASL_MECHANISM %q is not one of %v", cfg.SASLMechanism, config.SASLMechanisms)
	}
	return opts, nil
}
