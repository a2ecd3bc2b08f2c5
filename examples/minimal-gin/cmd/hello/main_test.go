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
func TestRunServesAndShutsDown(t *testing.T) {
	env := map[string]string{
		"PORT":             "0",
		"ADMIN_PORT":       "0",
		"SHUTDOWN_TIMEOUT": "5s",
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
		"/readyz":       200,
		"/v1/items":     200,
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
	start := time.Now()
	resp, err := client.Post(base+"/v1/items", "application/json", strings.NewReader(`{"name":"Widget","price":250}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if want := http.StatusCreated; resp.StatusCode != want {
		t.Errorf("POST /v1/items = %d, want %d", resp.StatusCode, want)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("POST /v1/items took %s: a dependency that is away must not hold a request", elapsed)
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

func TestRunRejectsInvalidConfig(t *testing.T) {
	env := map[string]string{"PORT": "eighty"}
	err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("run = %v, want a configuration error naming PORT", err)
	}
}
