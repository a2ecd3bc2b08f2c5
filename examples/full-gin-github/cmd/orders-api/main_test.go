package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRunServesAndShutsDown runs the whole service on a free port, calls it, and
// stops it the way SIGTERM would.
//
// Its dependencies point at a port where nothing listens: the service must start
// anyway, pass liveness, report them failing in /readyz's body (ready all the same
// once start-up is done, which the dependencies away hold back: their outage is not the
// instance's), answer without hanging, and shut down cleanly.
func TestRunServesAndShutsDown(t *testing.T) {
	env := map[string]string{
		"PORT":             "0",
		"ADMIN_PORT":       "0",
		"SHUTDOWN_TIMEOUT": "5s",
		// Nothing listens on port 1: PostgreSQL is down from the start.
		"DATABASE_URL": "postgres://app:app@127.0.0.1:1/app?sslmode=disable",
		// Redis is down from the start too.
		"REDIS_URL": "redis://127.0.0.1:1/0",
		// No Kafka broker either; publishing gives up after 200ms. The consumer runs
		// too: it must neither stop the start nor hold up the shutdown.
		"KAFKA_BROKERS":          "127.0.0.1:1",
		"KAFKA_PUBLISH_TIMEOUT":  "200ms",
		"KAFKA_CONSUMER_ENABLED": "true",
	}
	// The readiness checks and circuit breakers of the dependencies away.
	away := []string{"postgres", "redis", "kafka"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, func(k string) string { return env[k] }, logW)
		_ = logW.CloseWithError(io.EOF)
		done <- err
	}()

	// Read the log: find the listen addresses, then keep draining so logging never blocks.
	addrc, adminc := make(chan string, 1), make(chan string, 1)
	stopped := make(chan []string, 1) // the shutdown log messages, in order
	go func() {
		sc := bufio.NewScanner(logR)
		var shutdown []string
		for sc.Scan() {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Errorf("log line %q is not JSON: %v", sc.Text(), err)
				continue
			}
			switch rec.Msg {
			case "listening":
				addrc <- rec.Addr
			case "admin listening":
				adminc <- rec.Addr
			case "shutting down", "stopped":
				shutdown = append(shutdown, rec.Msg)
			}
		}
		stopped <- shutdown
	}()

	local := func(addrs <-chan string) string {
		t.Helper()
		var addr string
		select {
		case addr = <-addrs:
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("service did not log its addresses")
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("bad address %q: %v", addr, err)
		}
		return "http://127.0.0.1:" + port
	}
	base, admin := local(addrc), local(adminc)

	client := &http.Client{Timeout: 5 * time.Second}
	getFrom := func(server, path string) (int, string) {
		t.Helper()
		resp, err := client.Get(server + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	get := func(path string) (int, string) { t.Helper(); return getFrom(base, path) }
	for path, want := range map[string]int{
		"/healthz":      200,
		"/readyz":       503,
		"/v1/items":     503,
		"/nope":         404,
		"/debug/pprof/": 404,
		"/metrics":      404,
	} {
		if code, body := get(path); code != want {
			t.Errorf("GET %s = %d, want %d: %s", path, code, want, body)
		}
	}
	if code, body := getFrom(admin, "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("admin GET /debug/pprof/ = %d, want the profiles' index", code)
	}
	_, ready := get("/readyz")
	for _, dep := range away {
		if !strings.Contains(ready, `"`+dep+`":[{"status":"fail"`) {
			t.Errorf("/readyz does not report %s failing: %s", dep, ready)
		}
	}
	// The start-up steps the dependencies away hold back.
	for _, gate := range []string{"migrations"} {
		if !strings.Contains(ready, `"`+gate+`":[{"status":"fail"`) {
			t.Errorf("/readyz does not name the pending %s: %s", gate, ready)
		}
	}
	start := time.Now()
	resp, err := client.Post(base+"/v1/items", "application/json", strings.NewReader(`{"name":"Widget","price":250}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if want := http.StatusServiceUnavailable; resp.StatusCode != want {
		t.Errorf("POST /v1/items = %d, want %d", resp.StatusCode, want)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("POST /v1/items took %s: a dependency that is away must not hold a request", elapsed)
	}
	code, metrics := getFrom(admin, "/metrics")
	counted := `http_requests_total{method="GET",route="/v1/items",status="503"} 1`
	if code != http.StatusOK || !strings.Contains(metrics, counted) || strings.Contains(metrics, `route="/healthz"`) {
		t.Errorf("GET /metrics = %d, want GET /v1/items counted and probes not:\n%s", code, metrics)
	}
	for _, dep := range away {
		if !strings.Contains(metrics, `circuit_breaker_state{dependency="`+dep+`"}`) {
			t.Errorf("GET /metrics lacks the %s breaker state", dep)
		}
	}
	// The dependency metrics the dashboard (deploy/observability) shows.
	for _, name := range []string{"db_pool_max_connections ", `cache_requests_total{result="bypass"} `, "go_goroutines ", "process_cpu_seconds_total "} {
		if !strings.Contains(metrics, name) {
			t.Errorf("GET /metrics lacks %s", name)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run = %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	if got := strings.Join(<-stopped, ", "); got != "shutting down, stopped" {
		t.Errorf("shutdown log messages = %q, want \"shutting down, stopped\"", got)
	}
}

// TestRunRequiresKnownReadinessChecks: READINESS_CHECKS may name only the service's
// own checks; a typo stops the start with the names it could have been.
func TestRunRequiresKnownReadinessChecks(t *testing.T) {
	env := map[string]string{
		"PORT":             "0",
		"ADMIN_PORT":       "0",
		"READINESS_CHECKS": "nope",
		// Nothing listens on port 1: PostgreSQL is down from the start.
		"DATABASE_URL": "postgres://app:app@127.0.0.1:1/app?sslmode=disable",
		// Redis is down from the start too.
		"REDIS_URL": "redis://127.0.0.1:1/0",
		// No Kafka broker either; publishing gives up after 200ms. The consumer runs
		// too: it must neither stop the start nor hold up the shutdown.
		"KAFKA_BROKERS":          "127.0.0.1:1",
		"KAFKA_PUBLISH_TIMEOUT":  "200ms",
		"KAFKA_CONSUMER_ENABLED": "true",
	}
	err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "READINESS_CHECKS") || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("run = %v, want a configuration error naming READINESS_CHECKS and nope", err)
	}
	for _, name := range []string{"postgres", "redis", "kafka"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name the check %s", err, name)
		}
	}
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	env := map[string]string{"PORT": "eighty"}
	err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("run = %v, want a configuration error naming PORT", err)
	}
}
