// Package e2e tests svcgen at the seam its users see: it builds the real binary, generates
// services into temporary directories, and builds, vets, tests and runs what it generated.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// svcgenBin is the svcgen binary built once for the whole package.
var svcgenBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "svcgen-e2e-bin-")
	if err != nil {
		panic(err)
	}
	svcgenBin = filepath.Join(dir, "svcgen")
	build := exec.Command("go", "build", "-o", svcgenBin, "../cmd/svcgen")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building svcgen:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// svcgen runs the binary without a terminal and fails the test on a non-zero exit.
func svcgen(t *testing.T, args ...string) string {
	t.Helper()
	out, err := svcgenResult(args...)
	if err != nil {
		t.Fatalf("svcgen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// svcgenResult runs the binary and returns its combined output and error.
func svcgenResult(args ...string) (string, error) {
	cmd := exec.Command(svcgenBin, args...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// inService runs a command in a generated service and fails the test when it fails.
func inService(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
}

// checkService tidies nothing (svcgen did), then builds, vets and race-tests a generated
// service, and holds its allocation budget (a test that exists only without -race).
func checkService(t *testing.T, dir string, env []string) {
	t.Helper()
	inService(t, dir, env, "go", "build", "./...")
	inService(t, dir, env, "go", "vet", "./...")
	inService(t, dir, env, "go", "test", "-race", "-count=1", "./...")
	inService(t, dir, env, "go", "test", "-count=1", "-run", "^TestAllocationBudget$", "./internal/server")
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runningService is a generated service's binary started on a free port (and a free admin port).
type runningService struct {
	URL       string
	Port      int
	AdminURL  string // the admin server: /metrics, /debug/pprof/
	AdminPort int
	Bin       string // the built binary
	cmd       *exec.Cmd
	logs      *bytes.Buffer
}

// startService builds cmd/NAME of the service in dir and starts it; it is stopped with SIGTERM
// when the test ends, and must exit 0 (graceful shutdown).
func startService(t *testing.T, dir, name string, env []string) *runningService {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	inService(t, dir, nil, "go", "build", "-o", bin, "./cmd/"+name)
	return startBinary(t, bin, env)
}

// startBinary starts a built service binary on free ports, as startService does.
func startBinary(t *testing.T, bin string, env []string) *runningService {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	logs := &bytes.Buffer{}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{fmt.Sprintf("PORT=%d", port), fmt.Sprintf("ADMIN_PORT=%d", adminPort)}, env...)...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &runningService{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Port: port,
		AdminURL: fmt.Sprintf("http://127.0.0.1:%d", adminPort), AdminPort: adminPort, Bin: bin, cmd: cmd, logs: logs}
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not answer /healthz within 20s: %v\nlogs:\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *runningService) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("service exited with %v after SIGTERM\nlogs:\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("service did not stop within 30s of SIGTERM\nlogs:\n%s", s.logs)
	}
}

// do performs a request and returns status, content type and body.
func (s *runningService) do(t *testing.T, method, path, body string) (int, string, string) {
	t.Helper()
	return s.doAt(t, s.URL, method, path, body)
}

// doAt is do against base: s.URL or s.AdminURL.
func (s *runningService) doAt(t *testing.T, base, method, path, body string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nlogs:\n%s", method, path, err, s.logs)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(data)
}
