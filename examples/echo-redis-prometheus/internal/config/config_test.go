package config

import (
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/breaker"
	"github.com/acme/catalog/internal/tlstest"
)

// required holds the variables that have no default: the dependencies' addresses.
var required = map[string]string{
	// Redis's address.
	"REDIS_URL": "redis://:s3cret@cache.internal:6379/0",
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
	c.Redis = Redis{
		URL:       required["REDIS_URL"],
		Timeout:   250 * time.Millisecond,
		TTL:       5 * time.Minute,
		KeyPrefix: "catalog:",
		Breaker:   defBreaker,
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
		// Redis's timeout and the cache.
		"REDIS_TIMEOUT":    "100ms",
		"CACHE_TTL":        "1m",
		"REDIS_KEY_PREFIX": "blue:",
		// TLS with a private CA.
		"REDIS_URL":         "rediss://:s3cret@cache.internal:6380/0",
		"REDIS_TLS_CA_FILE": caFile,
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if r := cfg.Redis; r.Timeout != 100*time.Millisecond || r.TTL != time.Minute || r.KeyPrefix != "blue:" ||
		r.URL != "rediss://:s3cret@cache.internal:6380/0" || r.TLSCAFile != caFile {
		t.Errorf("Redis = %+v", r)
	}
	// A CA file beside a plain redis:// URL would be ignored: refused.
	if _, err := Load(env(map[string]string{"REDIS_TLS_CA_FILE": caFile})); err == nil || !strings.Contains(err.Error(), "REDIS_TLS_CA_FILE needs a rediss:// REDIS_URL") {
		t.Errorf("Load with REDIS_TLS_CA_FILE and a redis:// URL = %v, want the rediss:// error", err)
	}
}

func TestLoadDependencyErrors(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"REDIS_URL", "", "REDIS_URL is required"},
		{"REDIS_URL", "http://:s3cret@cache:6379", "REDIS_URL must be a URL with scheme redis or rediss"},
		{"CACHE_TTL", "0s", "CACHE_TTL must be a duration"},
		{"REDIS_TLS_CA_FILE", "/nonexistent/ca.pem", "REDIS_TLS_CA_FILE must name a readable PEM file of CA certificates"},
		{"REDIS_TLS_CA_FILE", "/dev/null", "REDIS_TLS_CA_FILE must name a readable PEM file of CA certificates: /dev/null holds no PEM certificate"},
		{"REDIS_BREAKER_HALF_OPEN_REQUESTS", "0", "REDIS_BREAKER_HALF_OPEN_REQUESTS must be an integer between 1 and 1000000"},
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
