// Package config loads the service configuration from environment variables.
//
// Every setting has a production-safe default (except the addresses of the
// service's dependencies, which have none and must be given), and every value is
// validated up front: a typo in a deployment manifest should stop the process at start
// with a message naming the variable, not surface hours later as odd behaviour under
// load. A dependency that is merely unreachable never stops the process.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the validated service configuration.
type Config struct {
	// Port is the TCP port the HTTP server listens on; 0 picks a free port.
	Port int
	// AdminPort is the TCP port of the admin server (/debug/pprof/), which must
	// not be reachable from outside the cluster; 0 picks a free port.
	AdminPort int
	// ReadinessChecks names the dependency checks whose failure fails /readyz. By default
	// none does: readiness is the instance's own state (started, not draining), and a
	// shared dependency's outage must not take every instance out of service at once.
	ReadinessChecks []string
	// LogLevel is the minimum level written by the JSON logger.
	LogLevel slog.Level

	// HTTPReadHeaderTimeout bounds how long a client may take to send request headers
	// (the slowloris defence).
	HTTPReadHeaderTimeout time.Duration
	// HTTPReadTimeout bounds reading the whole request, body included.
	HTTPReadTimeout time.Duration
	// HTTPWriteTimeout bounds the time from the end of the request headers to the end of the response.
	HTTPWriteTimeout time.Duration
	// HTTPIdleTimeout is how long a keep-alive connection may sit idle.
	HTTPIdleTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may take to drain on SIGINT/SIGTERM.
	ShutdownTimeout time.Duration
	// ShutdownDelay is how long the server keeps serving after SIGINT/SIGTERM, not ready and
	// closing keep-alive connections, before it stops accepting (see app.WithDrainDelay).
	ShutdownDelay time.Duration
	// RequestTimeout is the deadline put on every request's context, so slow dependencies
	// turn into an error response instead of a pile of stuck goroutines.
	RequestTimeout time.Duration

	// BodyLimitBytes is the largest request body accepted; larger ones get 413.
	BodyLimitBytes int64

	// RateLimitRPS is the sustained request rate allowed per client IP; 0 disables rate limiting.
	RateLimitRPS float64
	// RateLimitBurst is how many requests a client IP may send at once above the sustained rate.
	RateLimitBurst int
	// RateLimitClients is how many clients the rate limiter remembers; when it is full,
	// the least recently seen one is forgotten (and starts again with a full burst).
	RateLimitClients int
	// TrustedProxies are the peers whose X-Forwarded-For is believed (see proxy.go).
	TrustedProxies []netip.Prefix
	// RetryAfterUnavailable is the Retry-After sent with 503 answers.
	RetryAfterUnavailable time.Duration

	// IdempotencyTTL is how long the Idempotency-Key of a create is remembered: a retry
	// within it gets the first answer again.
	IdempotencyTTL time.Duration

	// Postgres configures the database.
	Postgres Postgres

	// Kafka configures the message broker.
	Kafka Kafka

	// Outbox configures the relay that publishes the stored events to the broker.
	Outbox Outbox
}

// Addr is the listen address for net.Listen.
func (c Config) Addr() string {
	return ":" + strconv.Itoa(c.Port)
}

// AdminAddr is the admin server's listen address for net.Listen.
func (c Config) AdminAddr() string {
	return ":" + strconv.Itoa(c.AdminPort)
}

// Limits of the accepted ranges. They are wide on purpose: they catch typos such as a
// missing unit or an extra zero, not legitimate tuning.
const (
	minTimeout = time.Millisecond
	maxTimeout = time.Hour

	maxBodyLimit = 1 << 30 // 1 GiB
	maxRate      = 1_000_000
	maxBurst     = 1_000_000
)

// Load reads the configuration through getenv (os.Getenv in production, a map lookup
// in tests) and validates it. All problems are reported at once, joined in one error.
// An unset or empty variable takes its default.
func Load(getenv func(string) string) (Config, error) {
	l := loader{getenv: getenv}
	cfg := Config{
		Port:      l.port(),
		AdminPort: l.int("ADMIN_PORT", 9090, 0, 65535),
		LogLevel:  l.level("LOG_LEVEL", slog.LevelInfo),

		ReadinessChecks: l.names("READINESS_CHECKS"),

		HTTPReadHeaderTimeout: l.duration("HTTP_READ_HEADER_TIMEOUT", 5*time.Second, minTimeout, maxTimeout),
		HTTPReadTimeout:       l.duration("HTTP_READ_TIMEOUT", 10*time.Second, minTimeout, maxTimeout),
		HTTPWriteTimeout:      l.duration("HTTP_WRITE_TIMEOUT", 15*time.Second, minTimeout, maxTimeout),
		HTTPIdleTimeout:       l.duration("HTTP_IDLE_TIMEOUT", 60*time.Second, minTimeout, maxTimeout),
		ShutdownTimeout:       l.duration("SHUTDOWN_TIMEOUT", 20*time.Second, minTimeout, maxTimeout),
		ShutdownDelay:         l.duration("SHUTDOWN_DELAY", time.Second, 0, time.Minute),
		RequestTimeout:        l.duration("REQUEST_TIMEOUT", 10*time.Second, minTimeout, maxTimeout),

		BodyLimitBytes: int64(l.int("BODY_LIMIT_BYTES", 1<<20, 1, maxBodyLimit)),

		RateLimitRPS:   l.float("RATE_LIMIT_RPS", 100, 0, maxRate),
		RateLimitBurst: l.int("RATE_LIMIT_BURST", 200, 0, maxBurst),

		RateLimitClients:      l.int("RATE_LIMIT_CLIENTS", 100_000, 1, maxRateLimitClients),
		TrustedProxies:        l.prefixes("TRUSTED_PROXIES"),
		RetryAfterUnavailable: l.duration("RETRY_AFTER_UNAVAILABLE", 5*time.Second, time.Second, time.Hour),

		IdempotencyTTL: l.duration("IDEMPOTENCY_TTL", 24*time.Hour, time.Minute, 30*24*time.Hour),

		Postgres: l.postgres(),

		Kafka: l.kafka(),

		Outbox: l.outbox(),
	}

	// Cross-field rules, checked only when the fields themselves parsed.
	if !l.failed["PORT"] && !l.failed["ADMIN_PORT"] && cfg.Port != 0 && cfg.AdminPort == cfg.Port {
		l.errorf("ADMIN_PORT must differ from PORT (%d): the admin endpoints must not be served on the public port", cfg.Port)
	}
	if !l.failed["REQUEST_TIMEOUT"] && !l.failed["HTTP_WRITE_TIMEOUT"] && cfg.RequestTimeout > cfg.HTTPWriteTimeout {
		// The write deadline closes the connection without a response; the request
		// timeout must fire first so the client gets a proper error.
		l.errorf("REQUEST_TIMEOUT (%s) must not exceed HTTP_WRITE_TIMEOUT (%s)", cfg.RequestTimeout, cfg.HTTPWriteTimeout)
	}
	if !l.failed["RATE_LIMIT_RPS"] && !l.failed["RATE_LIMIT_BURST"] && cfg.RateLimitRPS > 0 && cfg.RateLimitBurst < 1 {
		l.errorf("RATE_LIMIT_BURST must be between 1 and %d when RATE_LIMIT_RPS is above 0, got %d", maxBurst, cfg.RateLimitBurst)
	}

	if len(l.errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(l.errs...))
	}
	return cfg, nil
}

// loader collects parse errors so that Load can report all of them together.
type loader struct {
	getenv func(string) string
	errs   []error
	failed map[string]bool
}

func (l *loader) lookup(name string) (string, bool) {
	v := strings.TrimSpace(l.getenv(name))
	return v, v != ""
}

func (l *loader) errorf(format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf(format, args...))
}

func (l *loader) fail(name, format string, args ...any) {
	if l.failed == nil {
		l.failed = make(map[string]bool)
	}
	l.failed[name] = true
	l.errorf(name+" "+format, args...)
}

func (l *loader) int(name string, def, lo, hi int) int {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		l.fail(name, "must be an integer between %d and %d, got %q", lo, hi, raw)
		return def
	}
	return v
}

func (l *loader) float(name string, def, lo, hi float64) float64 {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || v < lo || v > hi {
		l.fail(name, "must be a number between %g and %g, got %q", lo, hi, raw)
		return def
	}
	return v
}

func (l *loader) duration(name string, def, lo, hi time.Duration) time.Duration {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	v, err := time.ParseDuration(raw)
	if err != nil || v < lo || v > hi {
		l.fail(name, "must be a duration between %s and %s (e.g. \"5s\", \"250ms\"), got %q", lo, hi, raw)
		return def
	}
	return v
}

// names reads a comma-separated list of names ("postgres,redis"); empty entries are
// skipped. Which names exist is known only once the service is wired (see
// health.Registry.Require).
func (l *loader) names(name string) []string {
	raw, ok := l.lookup(name)
	if !ok {
		return nil
	}
	var names []string
	for n := range strings.SplitSeq(raw, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func (l *loader) level(name string, def slog.Level) slog.Level {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	switch strings.ToLower(raw) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	l.fail(name, "must be one of debug, info, warn, error, got %q", raw)
	return def
}

// url reads a required connection URL and checks its scheme. The value is never
// quoted in errors: it may hold a password.
func (l *loader) url(name string, schemes ...string) string {
	raw, ok := l.lookup(name)
	if !ok {
		l.fail(name, "is required (e.g. %s://host/...)", schemes[0])
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !slices.Contains(schemes, u.Scheme) {
		l.fail(name, "must be a URL with scheme %s and a host (value not shown: it may hold a password)", strings.Join(schemes, " or "))
		return ""
	}
	return raw
}

// bool reads true/false (also 1/0, yes/no, on/off).
func (l *loader) bool(name string, def bool) bool {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	switch strings.ToLower(raw) {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	l.fail(name, "must be true or false, got %q", raw)
	return def
}

// str reads a string that has a default.
func (l *loader) str(name, def string) string {
	if raw, ok := l.lookup(name); ok {
		return raw
	}
	return def
}

// caFile reads the optional path of a PEM file of CA certificates that a
// dependency's server certificate is verified against. The file is read now, so
// that a wrong path stops the service at start, not at its first connection.
func (l *loader) caFile(name string) string {
	path, ok := l.lookup(name)
	if !ok || !l.validCAFile(name, path) {
		return ""
	}
	return path
}

// validCAFile reports whether path holds CA certificates, and fails name if not.
func (l *loader) validCAFile(name, path string) bool {
	if _, err := RootCAs(path); err != nil {
		l.fail(name, "must name a readable PEM file of CA certificates: %v", err)
		return false
	}
	return true
}

// RootCAs loads the PEM CA certificates in path: the roots a TLS connection to a
// dependency trusts instead of the system's, for servers with a private CA.
func RootCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
