package config

import (
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"gitlab.com/acme/billing/internal/breaker"
	"gitlab.com/acme/billing/internal/tlstest"
)

// required holds the variables that have no default: the dependencies' addresses.
var required = map[string]string{
	// PostgreSQL's address.
	"DATABASE_URL": "postgres://app:s3cret@db.internal:5432/app?sslmode=require",
	// Kafka's brokers, a list with spaces that Load trims.
	"KAFKA_BROKERS": "kafka-0.internal:9092, kafka-1.internal:9092",
}

// env looks names up in vars, then in required; an explicit "" in vars unsets a
// required variable.
func env(vars map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return required[name]
	}
}

// withDependencyDefaults sets the dependency settings Load gives with only the
// required variables set.
func withDependencyDefaults(c Config) Config {
	defBreaker := breaker.Settings{Failures: 5, OpenTimeout: 5 * time.Second, HalfOpenRequests: 1}
	c.Postgres = Postgres{
		URL:             required["DATABASE_URL"],
		MaxConns:        10,
		ConnectTimeout:  3 * time.Second,
		QueryTimeout:    3 * time.Second,
		MaxConnLifetime: 30 * time.Minute,
		MaxConnIdleTime: 5 * time.Minute,
		MigrateOnStart:  true,
		// The server-side timeouts follow DB_QUERY_TIMEOUT; lock waits stop after a second.
		StatementTimeout:         3 * time.Second,
		LockTimeout:              time.Second,
		IdleInTransactionTimeout: 3 * time.Second,
		Breaker:                  defBreaker,
	}
	c.Kafka = Kafka{
		Brokers:              []string{"kafka-0.internal:9092", "kafka-1.internal:9092"},
		Topic:                "billing.items",
		ConsumerEnabled:      false,
		ConsumerGroup:        "billing",
		ConsumerMaxAttempts:  5,
		ConsumerRetryBackoff: 500 * time.Millisecond,
		DLQTopic:             "billing.items.dlq",
		PublishTimeout:       2 * time.Second,
		Breaker:              defBreaker,
	}
	c.Outbox = Outbox{
		PollInterval: time.Second,
		BatchSize:    100,
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load with empty environment: %v", err)
	}
	want := withDependencyDefaults(Config{
		Port:                  8080,
		AdminPort:             9090,
		LogLevel:              slog.LevelInfo,
		HTTPReadHeaderTimeout: 5 * time.Second,
		HTTPReadTimeout:       10 * time.Second,
		HTTPWriteTimeout:      15 * time.Second,
		HTTPIdleTimeout:       60 * time.Second,
		ShutdownTimeout:       20 * time.Second,
		ShutdownDelay:         time.Second,
		RequestTimeout:        10 * time.Second,
		BodyLimitBytes:        1 << 20,
		RateLimitRPS:          100,
		RateLimitBurst:        200,
		RateLimitClients:      100_000,
		RetryAfterUnavailable: 5 * time.Second,
		IdempotencyTTL:        24 * time.Hour,
	})
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
	if got := cfg.Addr(); got != ":8080" {
		t.Errorf("Addr() = %q, want %q", got, ":8080")
	}
	if got := cfg.AdminAddr(); got != ":9090" {
		t.Errorf("AdminAddr() = %q, want %q", got, ":9090")
	}
}

func TestLoadOverrides(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"PORT":                     "9091",
		"ADMIN_PORT":               "9191",
		"READINESS_CHECKS":         " postgres , redis,",
		"LOG_LEVEL":                " DEBUG ",
		"HTTP_READ_HEADER_TIMEOUT": "2s",
		"HTTP_READ_TIMEOUT":        "3s",
		"HTTP_WRITE_TIMEOUT":       "4s",
		"HTTP_IDLE_TIMEOUT":        "5m",
		"SHUTDOWN_TIMEOUT":         "30s",
		"SHUTDOWN_DELAY":           "0s",
		"REQUEST_TIMEOUT":          "1500ms",
		"BODY_LIMIT_BYTES":         "2048",
		"RATE_LIMIT_RPS":           "0.5",
		"RATE_LIMIT_BURST":         "3",
		"RATE_LIMIT_CLIENTS":       "500",
		"TRUSTED_PROXIES":          "10.0.0.0/8, 192.168.1.10,2001:db8::/32",
		"RETRY_AFTER_UNAVAILABLE":  "2s",
		"IDEMPOTENCY_TTL":          "1h",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := withDependencyDefaults(Config{
		Port:                  9091,
		AdminPort:             9191,
		ReadinessChecks:       []string{"postgres", "redis"},
		LogLevel:              slog.LevelDebug,
		HTTPReadHeaderTimeout: 2 * time.Second,
		HTTPReadTimeout:       3 * time.Second,
		HTTPWriteTimeout:      4 * time.Second,
		HTTPIdleTimeout:       5 * time.Minute,
		ShutdownTimeout:       30 * time.Second,
		RequestTimeout:        1500 * time.Millisecond,
		BodyLimitBytes:        2048,
		RateLimitRPS:          0.5,
		RateLimitBurst:        3,
		RateLimitClients:      500,
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("192.168.1.10/32"),
			netip.MustParsePrefix("2001:db8::/32"),
		},
		RetryAfterUnavailable: 2 * time.Second,
		IdempotencyTTL:        time.Hour,
	})
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("overrides:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadLogLevels(t *testing.T) {
	for raw, want := range map[string]slog.Level{
		"debug": slog.LevelDebug,
		"info":  slog.LevelInfo,
		"warn":  slog.LevelWarn,
		"error": slog.LevelError,
	} {
		cfg, err := Load(env(map[string]string{"LOG_LEVEL": raw}))
		if err != nil {
			t.Fatalf("LOG_LEVEL=%s: %v", raw, err)
		}
		if cfg.LogLevel != want {
			t.Errorf("LOG_LEVEL=%s: got %v, want %v", raw, cfg.LogLevel, want)
		}
	}
}

func TestLoadRateLimitDisabled(t *testing.T) {
	cfg, err := Load(env(map[string]string{"RATE_LIMIT_RPS": "0", "RATE_LIMIT_BURST": "0"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.RateLimitRPS != 0 {
		t.Errorf("RateLimitRPS = %v, want 0", cfg.RateLimitRPS)
	}
}

func TestLoadPortZeroPicksFreePort(t *testing.T) {
	// Both at 0 do not collide: each listener gets a port of its own.
	cfg, err := Load(env(map[string]string{"PORT": "0", "ADMIN_PORT": "0"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Addr() != ":0" {
		t.Errorf("Addr() = %q, want %q", cfg.Addr(), ":0")
	}
}

func TestLoadValidationErrors(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string // every fragment must appear in the error
	}{
		{"PORT", "http", "PORT must be an integer between 0 and 65535"},
		{"PORT", "-1", "PORT must be an integer between 0 and 65535"},
		{"PORT", "65536", "PORT must be an integer between 0 and 65535"},
		{"ADMIN_PORT", "metrics", "ADMIN_PORT must be an integer between 0 and 65535"},
		{"ADMIN_PORT", "65536", "ADMIN_PORT must be an integer between 0 and 65535"},
		{"ADMIN_PORT", "8080", "ADMIN_PORT must differ from PORT (8080)"},
		{"LOG_LEVEL", "verbose", "LOG_LEVEL must be one of debug, info, warn, error"},
		{"HTTP_READ_HEADER_TIMEOUT", "5", "HTTP_READ_HEADER_TIMEOUT must be a duration between 1ms and 1h0m0s"},
		{"HTTP_READ_TIMEOUT", "0s", "HTTP_READ_TIMEOUT must be a duration between 1ms and 1h0m0s"},
		{"HTTP_WRITE_TIMEOUT", "2h", "HTTP_WRITE_TIMEOUT must be a duration between 1ms and 1h0m0s"},
		{"HTTP_IDLE_TIMEOUT", "-1s", "HTTP_IDLE_TIMEOUT must be a duration between 1ms and 1h0m0s"},
		{"SHUTDOWN_TIMEOUT", "soon", "SHUTDOWN_TIMEOUT must be a duration between 1ms and 1h0m0s"},
		{"REQUEST_TIMEOUT", "0", "REQUEST_TIMEOUT must be a duration between 1ms and 1h0m0s"},
		{"BODY_LIMIT_BYTES", "0", "BODY_LIMIT_BYTES must be an integer between 1 and 1073741824"},
		{"BODY_LIMIT_BYTES", "1MiB", "BODY_LIMIT_BYTES must be an integer between 1 and 1073741824"},
		{"RATE_LIMIT_RPS", "-1", "RATE_LIMIT_RPS must be a number between 0 and 1e+06"},
		{"RATE_LIMIT_RPS", "NaN", "RATE_LIMIT_RPS must be a number between 0 and 1e+06"},
		{"RATE_LIMIT_BURST", "1.5", "RATE_LIMIT_BURST must be an integer between 0 and 1000000"},
		{"RATE_LIMIT_BURST", "0", "RATE_LIMIT_BURST must be between 1 and 1000000 when RATE_LIMIT_RPS is above 0"},
		{"RATE_LIMIT_CLIENTS", "0", "RATE_LIMIT_CLIENTS must be an integer between 1 and 10000000"},
		{"TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES must be a comma-separated list of CIDRs"},
		{"TRUSTED_PROXIES", "10.0.0.0/8;172.16.0.0/12", "TRUSTED_PROXIES must be a comma-separated list of CIDRs"},
		{"TRUSTED_PROXIES", "proxy.internal", "TRUSTED_PROXIES must be a comma-separated list of CIDRs"},
		{"RETRY_AFTER_UNAVAILABLE", "500ms", "RETRY_AFTER_UNAVAILABLE must be a duration between 1s and 1h0m0s"},
		{"IDEMPOTENCY_TTL", "1s", "IDEMPOTENCY_TTL must be a duration between 1m0s and 720h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := Load(env(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatalf("Load accepted %s=%q", tt.name, tt.value)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.Contains(tt.want, " when ") && !strings.Contains(tt.want, " differ ") && !strings.Contains(err.Error(), `"`+tt.value+`"`) {
				t.Errorf("error %q does not quote the bad value %q", err, tt.value)
			}
		})
	}
}

func TestLoadRequestTimeoutMustNotExceedWriteTimeout(t *testing.T) {
	_, err := Load(env(map[string]string{"REQUEST_TIMEOUT": "20s", "HTTP_WRITE_TIMEOUT": "15s"}))
	if err == nil || !strings.Contains(err.Error(), "REQUEST_TIMEOUT (20s) must not exceed HTTP_WRITE_TIMEOUT (15s)") {
		t.Fatalf("got %v, want the REQUEST_TIMEOUT/HTTP_WRITE_TIMEOUT error", err)
	}
}

func TestLoadReportsAllErrors(t *testing.T) {
	_, err := Load(env(map[string]string{"PORT": "x", "LOG_LEVEL": "y", "SHUTDOWN_TIMEOUT": "z"}))
	if err == nil {
		t.Fatal("Load accepted three bad values")
	}
	for _, name := range []string{"PORT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestLoadDependencies(t *testing.T) {
	caFile := tlstest.NewCA(t).File(t) // a CA file to name in *_CA_FILE variables
	cfg, err := Load(env(map[string]string{
		// PostgreSQL's pool, query timeout and breaker.
		"DB_MAX_CONNS":                   "20",
		"DB_MIN_CONNS":                   "2",
		"DATABASE_URL":                   "postgres://app:s3cret@db.internal:5432/app?sslmode=verify-full&sslrootcert=" + caFile,
		"DB_QUERY_TIMEOUT":               "500ms",
		"DB_STATEMENT_TIMEOUT":           "0",
		"DB_IDLE_IN_TRANSACTION_TIMEOUT": "1m",
		"DB_BREAKER_FAILURES":            "3",
		"DB_BREAKER_OPEN_TIMEOUT":        "2s",
		"DB_BREAKER_HALF_OPEN_REQUESTS":  "4",
		"MIGRATE_ON_START":               "false",
		// Kafka; an empty consumer group takes the default.
		"KAFKA_BROKERS":                "k1:9092",
		"KAFKA_TOPIC":                  "orders",
		"KAFKA_CONSUMER_GROUP":         "",
		"KAFKA_CONSUMER_ENABLED":       "on",
		"KAFKA_CONSUMER_MAX_ATTEMPTS":  "3",
		"KAFKA_CONSUMER_RETRY_BACKOFF": "50ms",
		"KAFKA_PUBLISH_TIMEOUT":        "300ms",
		// TLS with a private CA, SASL (the mechanism in any case).
		"KAFKA_TLS":            "true",
		"KAFKA_TLS_CA_FILE":    caFile,
		"KAFKA_SASL_MECHANISM": "scram-sha-512",
		"KAFKA_SASL_USERNAME":  "svc",
		"KAFKA_SASL_PASSWORD":  "s3cret",
		// The outbox relay.
		"OUTBOX_POLL_INTERVAL": "250ms",
		"OUTBOX_BATCH_SIZE":    "7",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if p := cfg.Postgres; p.MaxConns != 20 || p.MinConns != 2 || p.QueryTimeout != 500*time.Millisecond ||
		p.Breaker != (breaker.Settings{Failures: 3, OpenTimeout: 2 * time.Second, HalfOpenRequests: 4}) || p.MigrateOnStart {
		t.Errorf("Postgres = %+v", p)
	}
	if u := cfg.Postgres.URL; !strings.HasSuffix(u, "sslmode=verify-full&sslrootcert="+caFile) {
		t.Errorf("Postgres.URL = %q, want its TLS parameters kept", u)
	}
	// 0 leaves the server's statement_timeout; an unset DB_LOCK_TIMEOUT follows a short DB_QUERY_TIMEOUT.
	if p := cfg.Postgres; p.StatementTimeout != 0 || p.LockTimeout != 500*time.Millisecond || p.IdleInTransactionTimeout != time.Minute {
		t.Errorf("Postgres server-side timeouts = %s, %s, %s; want 0, 500ms, 1m", p.StatementTimeout, p.LockTimeout, p.IdleInTransactionTimeout)
	}
	if k := cfg.Kafka; !reflect.DeepEqual(k.Brokers, []string{"k1:9092"}) || k.Topic != "orders" || k.ConsumerGroup != "billing" || !k.ConsumerEnabled || k.PublishTimeout != 300*time.Millisecond ||
		k.ConsumerMaxAttempts != 3 || k.ConsumerRetryBackoff != 50*time.Millisecond || k.DLQTopic != "orders.dlq" {
		t.Errorf("Kafka = %+v (an empty KAFKA_CONSUMER_GROUP takes the default; the dead-letter topic follows KAFKA_TOPIC)", k)
	}
	if k := cfg.Kafka; !k.TLS || k.TLSCAFile != caFile || k.SASLMechanism != "SCRAM-SHA-512" || k.SASLUsername != "svc" || k.SASLPassword != "s3cret" {
		t.Errorf("Kafka TLS and SASL = %v %q %q %q, password set: %v", k.TLS, k.TLSCAFile, k.SASLMechanism, k.SASLUsername, k.SASLPassword == "s3cret")
	}
	// A CA file without TLS would be ignored: refused.
	if _, err := Load(env(map[string]string{"KAFKA_TLS_CA_FILE": caFile})); err == nil || !strings.Contains(err.Error(), "KAFKA_TLS_CA_FILE needs KAFKA_TLS=true") {
		t.Errorf("Load with KAFKA_TLS_CA_FILE and no KAFKA_TLS = %v, want the KAFKA_TLS error", err)
	}
	if o := cfg.Outbox; o.PollInterval != 250*time.Millisecond || o.BatchSize != 7 {
		t.Errorf("Outbox = %+v", o)
	}
}

func TestLoadDependencyErrors(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"DATABASE_URL", "", "DATABASE_URL is required"},
		{"DATABASE_URL", "mysql://root:s3cret@db/app", "DATABASE_URL must be a URL with scheme postgres or postgresql"},
		{"DB_MAX_CONNS", "0", "DB_MAX_CONNS must be an integer between 1 and 10000"},
		{"DB_MIN_CONNS", "11", "DB_MIN_CONNS (11) must not exceed DB_MAX_CONNS (10)"},
		{"DB_BREAKER_FAILURES", "0", "DB_BREAKER_FAILURES must be an integer between 1 and 1000000"},
		{"DB_BREAKER_OPEN_TIMEOUT", "soon", "DB_BREAKER_OPEN_TIMEOUT must be a duration"},
		{"MIGRATE_ON_START", "later", `MIGRATE_ON_START must be true or false, got "later"`},
		{"DATABASE_URL", "postgres://app:s3cret@db/app?sslmode=verify", "DATABASE_URL sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got \"verify\""},
		{"DATABASE_URL", "postgres://app:s3cret@db/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "DATABASE_URL's sslrootcert must name a readable PEM file of CA certificates"},
		{"DATABASE_URL", "postgres://app:s3cret@db/app?sslmode=verify-full&sslrootcert=/dev/null", "holds no PEM certificate"},
		{"DB_STATEMENT_TIMEOUT", "5", "DB_STATEMENT_TIMEOUT must be a duration between 0s and 24h0m0s"},
		{"DB_LOCK_TIMEOUT", "-1s", "DB_LOCK_TIMEOUT must be a duration between 0s and 24h0m0s"},
		{"DB_IDLE_IN_TRANSACTION_TIMEOUT", "500us", "DB_IDLE_IN_TRANSACTION_TIMEOUT must be 0 (the server's setting) or at least 1ms"},
		{"KAFKA_BROKERS", "", "KAFKA_BROKERS is required"},
		{"KAFKA_BROKERS", "k1:9092,k2", "KAFKA_BROKERS must be comma-separated host:port addresses"},
		{"KAFKA_BROKERS", " , ", "KAFKA_BROKERS must name at least one host:port"},
		{"KAFKA_PUBLISH_TIMEOUT", "2h", "KAFKA_PUBLISH_TIMEOUT must be a duration"},
		{"KAFKA_CONSUMER_ENABLED", "maybe", "KAFKA_CONSUMER_ENABLED must be true or false"},
		{"KAFKA_CONSUMER_MAX_ATTEMPTS", "0", "KAFKA_CONSUMER_MAX_ATTEMPTS must be an integer between 1 and 100"},
		{"KAFKA_CONSUMER_RETRY_BACKOFF", "5", "KAFKA_CONSUMER_RETRY_BACKOFF must be a duration"},
		{"KAFKA_DLQ_TOPIC", "billing.items", "KAFKA_DLQ_TOPIC must differ from KAFKA_TOPIC"},
		{"KAFKA_TLS", "yes please", "KAFKA_TLS must be true or false"},
		{"KAFKA_TLS_CA_FILE", "/nonexistent/ca.pem", "KAFKA_TLS_CA_FILE must name a readable PEM file of CA certificates"},
		{"KAFKA_SASL_MECHANISM", "GSSAPI", "KAFKA_SASL_MECHANISM must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (or empty for none), got \"GSSAPI\""},
		{"KAFKA_SASL_MECHANISM", "PLAIN", "KAFKA_SASL_MECHANISM PLAIN needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"},
		{"KAFKA_SASL_PASSWORD", "s3cret", "KAFKA_SASL_MECHANISM must be set (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is"},
		{"OUTBOX_POLL_INTERVAL", "1ms", "OUTBOX_POLL_INTERVAL must be a duration between 10ms and 1h0m0s"},
		{"OUTBOX_BATCH_SIZE", "0", "OUTBOX_BATCH_SIZE must be an integer between 1 and 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := Load(env(map[string]string{tt.name: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load(%s=%q) = %v, want an error containing %q", tt.name, tt.value, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}
