package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestRunWithHungCollector: an OTLP collector that accepts connections and never
// answers holds neither the requests nor the exit: run returns within the shutdown
// budget, its last spans given up.
func TestRunWithHungCollector(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read from or answered
			mu.Unlock()
		}
	}()
	defer func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	}()
	// The SDK reads the OTEL_* variables from the process environment.
	t.Setenv("OTEL_SDK_DISABLED", "false")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+ln.Addr().String())
	t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "10") // export at once: the exporter is stuck when the shutdown comes

	env := map[string]string{
		"PORT":             "0",
		"ADMIN_PORT":       "0",
		"SHUTDOWN_DELAY":   "0s",
		"SHUTDOWN_TIMEOUT": "1s",
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, func(k string) string { return env[k] }, logW)
		_ = logW.CloseWithError(io.EOF)
		done <- err
	}()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logR)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addrc <- rec.Addr
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("service did not log its address")
	}
	_, port, _ := net.SplitHostPort(addr)

	client := &http.Client{Timeout: 5 * time.Second}
	for range 3 {
		start := time.Now()
		resp, err := client.Get("http://127.0.0.1:" + port + "/v1/items")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if d := time.Since(start); d > time.Second {
			t.Errorf("GET /v1/items took %s with the collector hung", d)
		}
		time.Sleep(50 * time.Millisecond) // each span's batch goes out, and hangs
	}

	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return with the collector hung")
	}
	// SHUTDOWN_TIMEOUT bounds the flush (1s); the rest is the other components' own stops.
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("shutdown took %s with the collector hung; the flush budget is 1s", d)
	}
}
