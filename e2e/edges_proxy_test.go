package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEdgesProxiesAndRequestLogs is issue I's "Done when" for rate limiting behind proxies and
// for logs that carry the request, on a generated echo+postgres+redis+prometheus service run as
// a binary:
//   - with TRUSTED_PROXIES=127.0.0.1/32 and RATE_LIMIT_RPS=5, one forwarded client
//     (X-Forwarded-For: 203.0.113.7) gets 429 with Retry-After, also when it writes other
//     addresses on the left of the header, while another forwarded client still gets 200;
//   - without TRUSTED_PROXIES, rotating X-Forwarded-For from one peer still gets 429;
//   - a line the cache logs inside a POST /v1/items (Redis refusing connections, LOG_LEVEL=debug)
//     carries the request_id of the response's X-Request-ID.
func TestEdgesProxiesAndRequestLogs(t *testing.T) {
	l := generateLive(t, "proxies and request logs", "edge-svc", "--framework", "echo", "--database", "postgres",
		"--cache", "redis", "--broker", "none", "--metrics", "prometheus")
	// Later settings win (os/exec keeps the last of duplicate keys): the refused-Redis case
	// below overrides REDIS_URL.
	base := l.env("RATE_LIMIT_RPS=5", "RATE_LIMIT_BURST=5", "LOG_LEVEL=warn")

	t.Run("trusted proxy", func(t *testing.T) {
		s := startService(t, l.Dir, l.Name, append(base, "TRUSTED_PROXIES=127.0.0.1/32"))
		waitStorage(t, s)
		from := func(xff string) result {
			return call(s.URL, "GET", "/v1/items", "", map[string]string{"X-Forwarded-For": xff})
		}
		var limited result
		for i := range 20 { // the burst is 5, refilled at 5 per second: 20 at once run out
			if r := from("203.0.113.7"); r.status == 429 {
				limited = r
				break
			} else if r.status != 200 {
				t.Fatalf("request %d of the forwarded client = %d %s", i+1, r.status, r.body)
			}
		}
		if limited.status != 429 {
			t.Fatalf("20 requests of one forwarded client at once were never limited\nlogs:\n%s", tail(s.logs.String(), 20))
		}
		if secs, err := strconv.Atoi(limited.header.Get("Retry-After")); err != nil || secs < 1 {
			t.Errorf("429 Retry-After = %q, want whole seconds ≥ 1", limited.header.Get("Retry-After"))
		}
		if r := from("198.51.100.1, 198.51.100.2, 203.0.113.7"); r.status != 429 {
			t.Errorf("the limited client with spoofed entries on the left = %d, want 429", r.status)
		}
		if r := from("203.0.113.8"); r.status != 200 {
			t.Errorf("another forwarded client through the same proxy = %d %s, want 200", r.status, r.body)
		}
	})

	t.Run("no trusted proxy", func(t *testing.T) {
		s := startService(t, l.Dir, l.Name, base)
		waitStorage(t, s)
		limited := false
		for i := range 20 {
			r := call(s.URL, "GET", "/v1/items", "", map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", i+1)})
			if r.status == 429 {
				limited = true
				break
			}
		}
		if !limited {
			t.Errorf("20 requests from one peer with rotating X-Forwarded-For were never limited\nlogs:\n%s", tail(s.logs.String(), 20))
		}
	})

	t.Run("request logs", func(t *testing.T) {
		// Redis refuses connections: the cache logs, within an update, that it could not
		// invalidate the item's key (a create leaves the cache alone).
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		refused := ln.Addr().String()
		ln.Close()
		s := startService(t, l.Dir, l.Name, append(base, "REDIS_URL=redis://"+refused+"/0", "LOG_LEVEL=debug", "RATE_LIMIT_RPS=0"))
		r := call(s.URL, "POST", "/v1/items", `{"name":"logged","price":3}`, nil)
		for range 100 { // the schema may still be migrating: 503 until it is
			if r.status != 503 {
				break
			}
			time.Sleep(100 * time.Millisecond)
			r = call(s.URL, "POST", "/v1/items", `{"name":"logged","price":3}`, nil)
		}
		if r.status != 201 {
			t.Fatalf("POST /v1/items = %d %s", r.status, r.body)
		}
		r = call(s.URL, "PUT", r.header.Get("Location"), `{"name":"logged","price":4}`, nil)
		if r.status != 200 {
			t.Fatalf("PUT of the new item = %d %s", r.status, r.body)
		}
		id := r.header.Get("X-Request-ID")
		if id == "" {
			t.Fatal("no X-Request-ID on the response")
		}
		// The access line is written after the response has gone out, and the process's
		// output reaches the test through a pipe: wait for the lines rather than race them.
		var access bool
		var others []string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			access, others = false, nil
			for line := range strings.Lines(s.logs.String()) {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) != nil || rec["request_id"] != id {
					continue
				}
				if rec["msg"] == "request" {
					access = true
				} else {
					others = append(others, fmt.Sprint(rec["msg"]))
				}
			}
			if access && len(others) > 0 || time.Now().After(deadline) {
				break
			}
		}
		if !access {
			t.Errorf("no access line with request_id %s", id)
		}
		if len(others) == 0 {
			t.Errorf("no line other than the access line carries request_id %s\nlogs:\n%s", id, tail(s.logs.String(), 30))
		} else {
			t.Logf("lines of request %s besides the access line: %q", id, others)
		}
	})
}
