package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFullStackService generates a service with PostgreSQL, Redis and Prometheus for each
// framework, runs its tests against the real servers (DATABASE_URL, REDIS_URL), then runs it and
// checks the stack end to end: an item is stored in PostgreSQL, a second read is a cache hit in
// Redis, and the admin port's /metrics shows the requests and the breaker states.
func TestFullStackService(t *testing.T) {
	if testing.Short() {
		t.Skip("full stack: skipped with -short")
	}
	env := integrationEnv(t) // fails under CI=true without the servers
	if os.Getenv("DATABASE_URL") == "" || os.Getenv("REDIS_URL") == "" {
		t.Skip("full stack: DATABASE_URL and REDIS_URL are not both set; start the servers with scripts/services.sh")
	}
	redisURL := os.Getenv("REDIS_URL")
	for _, fw := range []string{"gin", "echo", "stdlib", "chi"} {
		t.Run(fw, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "stack-svc")
			svcgen(t, "new", "stack-svc", "--module", "example.com/stack-svc", "--framework", fw,
				"--database", "postgres", "--cache", "redis", "--broker", "none", "--metrics", "prometheus",
				"--ci", "none", "--deploy", "none", "-o", dir)
			checkManifestHashes(t, dir)
			checkService(t, dir, env)

			prefix := "e2e-" + strings.ToLower(rand.Text()) + ":"
			svcEnv := append([]string{"REDIS_KEY_PREFIX=" + prefix}, env...)
			t.Cleanup(func() {
				redisDo(t, redisURL, "EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", prefix+"*")
			})

			s := startService(t, dir, "stack-svc", svcEnv)
			waitReady(t, s)
			code, _, body := s.do(t, "POST", "/v1/items", `{"name":"stacked pen","price":250}`)
			if code != 201 {
				t.Fatalf("create = %d %s", code, body)
			}
			var item struct{ ID, Name string }
			if err := json.Unmarshal([]byte(body), &item); err != nil || item.ID == "" {
				t.Fatalf("create body %s: %v", body, err)
			}
			key := prefix + "items:" + item.ID
			for i := range 2 {
				if code, _, body := s.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 || !strings.Contains(body, "stacked pen") {
					t.Fatalf("get %d = %d %s", i+1, code, body)
				}
			}
			// The first read filled the cache; the second was served from it.
			if got := redisDo(t, redisURL, "EXISTS", key); got != ":1" {
				t.Fatalf("EXISTS %s = %s, want :1 (the read was not cached)", key, got)
			}

			code, _, metrics := s.doAt(t, s.AdminURL, "GET", "/metrics", "")
			for _, want := range []string{
				`http_requests_total{method="POST",route="/v1/items",status="201"} 1`,
				`http_requests_total{method="GET",route="/v1/items/:id",status="200"} 2`,
				`http_request_duration_seconds_count{method="GET",route="/v1/items/:id"} 2`,
				`circuit_breaker_state{dependency="postgres"} 0`,
				`circuit_breaker_state{dependency="redis"} 0`,
			} {
				if code != 200 || !strings.Contains(metrics, want) {
					t.Errorf("/metrics (%d) lacks %s", code, want)
				}
			}

			// Stored in PostgreSQL: a new process with an empty cache still has the item.
			s.stop(t)
			redisDo(t, redisURL, "DEL", key)
			s2 := startService(t, dir, "stack-svc", svcEnv)
			waitReady(t, s2)
			if code, _, body := s2.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 || !strings.Contains(body, "stacked pen") {
				t.Fatalf("get after restart = %d %s: the item did not persist", code, body)
			}
			// Invalidation on write: an update is seen by the next read, not the cached copy.
			if code, _, body := s2.do(t, "PUT", "/v1/items/"+item.ID, `{"name":"renamed pen","price":300}`); code != 200 {
				t.Fatalf("update = %d %s", code, body)
			}
			if code, _, body := s2.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 || !strings.Contains(body, "renamed pen") {
				t.Fatalf("get after update = %d %s, want the new name", code, body)
			}
			if code, _, body := s2.do(t, "DELETE", "/v1/items/"+item.ID, ""); code != 204 {
				t.Fatalf("delete = %d %s", code, body)
			}
		})
	}
}

// waitReady polls /readyz until it passes: migrations run in the background after start.
func waitReady(t *testing.T, s *runningService) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, body := s.do(t, "GET", "/readyz", "")
		if code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s after 30s\nlogs:\n%s", code, body, s.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// redisDo sends one command to the Redis at rawURL and returns the first line of the reply. It
// speaks just enough RESP for the checks here, so the harness needs no Redis client module.
func redisDo(t *testing.T, rawURL string, args ...string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("redis %s: %v", u.Host, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	send := func(args ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimRight(line, "\r\n")
	}
	if pass, ok := u.User.Password(); ok {
		if reply := send("AUTH", pass); reply != "+OK" {
			t.Fatalf("redis AUTH: %s", reply)
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" && db != "0" {
		if reply := send("SELECT", db); reply != "+OK" {
			t.Fatalf("redis SELECT: %s", reply)
		}
	}
	return send(args...)
}
