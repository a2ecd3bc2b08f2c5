package e2e

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEdgesReadinessAdminAndCardinality checks issue I's readiness, admin-port and
// metric-cardinality promises on a running echo+postgres+redis+prometheus service, with a Redis
// of the test's own that it hangs with SIGSTOP:
//   - /metrics and /debug/pprof/ answer 404 on the public port and 200 on ADMIN_PORT;
//   - 30 invented HTTP methods add at most one method label value to http_requests_total;
//   - Redis hung after start leaves /readyz 200 with redis reported failing in its body; with
//     READINESS_CHECKS=redis the same outage makes it 503; an unknown name stops the start;
//   - SIGTERM makes /readyz 503 while the service drains (SHUTDOWN_DELAY).
func TestEdgesReadinessAdminAndCardinality(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a service: skipped with -short")
	}
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but DATABASE_URL is not set: start the servers with scripts/services.sh")
		}
		t.Skip("DATABASE_URL is not set; start the servers with scripts/services.sh")
	}
	redis := startRedis(t)

	dir := filepath.Join(t.TempDir(), "edge-svc")
	svcgen(t, "new", "edge-svc", "--module", "example.com/edge-svc", "--framework", "echo",
		"--database", "postgres", "--cache", "redis", "--broker", "none", "--metrics", "prometheus",
		"--ci", "none", "--deploy", "none", "-o", dir)
	env := []string{
		"DATABASE_URL=" + dbURL,
		"REDIS_URL=redis://" + redis.addr + "/0",
		"REDIS_KEY_PREFIX=e2e-edges-" + strings.ToLower(rand.Text()) + ":",
		"REDIS_TIMEOUT=200ms",
		"SHUTDOWN_DELAY=2s",
	}
	s := startService(t, dir, "edge-svc", env)
	waitReady(t, s)

	t.Run("admin port", func(t *testing.T) {
		for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
			if code, _, body := s.do(t, "GET", path, ""); code != 404 {
				t.Errorf("public GET %s = %d, want 404: %.200s", path, code, body)
			}
		}
		for path, want := range map[string]string{
			"/metrics":                       "http_requests_total",
			"/debug/pprof/":                  "goroutine",
			"/debug/pprof/goroutine?debug=1": "goroutine profile",
		} {
			if code, _, body := s.doAt(t, s.AdminURL, "GET", path, ""); code != 200 || !strings.Contains(body, want) {
				t.Errorf("admin GET %s = %d, want 200 with %q", path, code, want)
			}
		}
	})

	t.Run("invented methods", func(t *testing.T) {
		before := methodLabels(t, s)
		for i := range 30 {
			s.do(t, fmt.Sprintf("BREW%02d", i), "/v1/items", "")
		}
		after := methodLabels(t, s)
		var added []string
		for m := range after {
			if !before[m] {
				added = append(added, m)
			}
		}
		if len(added) > 1 {
			t.Errorf("30 invented methods added the method labels %v, want at most one", added)
		}
		if len(added) == 1 && added[0] != "OTHER" {
			t.Errorf("the invented methods are counted as %q, want OTHER", added[0])
		}
	})

	// The opted-in instance is started while Redis still answers, so that it gets past its
	// start-up (migrations) the same way the first one did.
	strict := startBinary(t, s.Bin, append(env, "READINESS_CHECKS=redis"))
	waitReady(t, strict)

	t.Run("unknown readiness check", func(t *testing.T) {
		cmd := exec.Command(s.Bin)
		cmd.Env = append(os.Environ(), append(env, "PORT=0", "ADMIN_PORT=0", "READINESS_CHECKS=redis,postgress")...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "READINESS_CHECKS") || !strings.Contains(string(out), `"postgress"`) ||
			!strings.Contains(string(out), "postgres, redis") {
			t.Errorf("READINESS_CHECKS=redis,postgress: %v, want a start-up error naming postgress and the checks postgres, redis:\n%s", err, out)
		}
	})

	t.Run("redis hung after start", func(t *testing.T) {
		redis.signal(t, syscall.SIGSTOP)
		defer redis.signal(t, syscall.SIGCONT)
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, _, body := s.do(t, "GET", "/readyz", "")
			if code != 200 {
				t.Fatalf("/readyz = %d with Redis hung, want 200: %s", code, body)
			}
			if strings.Contains(body, `"redis":[{"status":"fail"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz does not report redis failing 10s after SIGSTOP: %s", body)
			}
			time.Sleep(200 * time.Millisecond)
		}
		deadline = time.Now().Add(10 * time.Second)
		for {
			code, _, body := strict.do(t, "GET", "/readyz", "")
			if code == 503 && strings.Contains(body, `"redis":[{"status":"fail"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("with READINESS_CHECKS=redis, /readyz = %d %s 10s after SIGSTOP, want 503 naming redis", code, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("SIGTERM drains", func(t *testing.T) {
		if code, _, body := s.do(t, "GET", "/readyz", ""); code != 200 {
			t.Fatalf("/readyz before SIGTERM = %d %s", code, body)
		}
		sent := time.Now()
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for {
			code, _, body := s.do(t, "GET", "/readyz", "")
			if code == 503 && strings.Contains(body, "shutting down") {
				break
			}
			if time.Since(sent) > time.Second {
				t.Fatalf("/readyz = %d %s 1s after SIGTERM, want 503 while draining", code, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Still serving during the drain delay: the API answers, readiness keeps failing.
		if code, _, body := s.do(t, "GET", "/v1/items", ""); code != 200 {
			t.Errorf("GET /v1/items while draining = %d %s", code, body)
		}
		s.stop(t) // waits for exit 0
	})
}

// methodLabels is the set of method label values of http_requests_total on the admin port.
func methodLabels(t *testing.T, s *runningService) map[string]bool {
	t.Helper()
	code, _, body := s.doAt(t, s.AdminURL, "GET", "/metrics", "")
	if code != 200 {
		t.Fatalf("admin GET /metrics = %d", code)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "http_requests_total{")
		if !ok {
			continue
		}
		_, after, _ := strings.Cut(rest, `method="`)
		method, _, _ := strings.Cut(after, `"`)
		seen[method] = true
	}
	return seen
}

// testRedis is a redis-server of the test's own on a free loopback port, without persistence.
type testRedis struct {
	addr string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *testRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &testRedis{addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for redisPing(r.addr) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 10s", r.addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

func (r *testRedis) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
}

// redisPing is nil once the Redis at addr answers PING.
func redisPing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}
