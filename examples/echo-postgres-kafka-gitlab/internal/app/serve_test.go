package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gitlab.com/acme/billing/internal/app"
)

type result struct {
	status int
	body   string
	err    error
}

// startSlowServer serves a handler that blocks until release is closed, and returns
// the address and a channel that yields Serve's result.
func startSlowServer(t *testing.T, ctx context.Context, release <-chan struct{}, started chan<- struct{}, shutdownTimeout time.Duration) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			started <- struct{}{}
			<-release
			_, _ = io.WriteString(w, "finished")
		}),
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, slog.New(slog.DiscardHandler), srv, ln, shutdownTimeout) }()
	return ln.Addr().String(), done
}

func get(client *http.Client, url string) <-chan result {
	out := make(chan result, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		out <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	return out
}

func TestServeDrainsInFlightRequestsAndRefusesNewConnections(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	addr, done := startSlowServer(t, ctx, release, started, 5*time.Second)

	client := &http.Client{Timeout: 5 * time.Second}
	inFlight := get(client, "http://"+addr+"/slow")
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("request never reached the handler")
	}

	cancel() // as SIGTERM would

	// The listener closes at once, while the request is still being served.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	default:
	}

	close(release)
	res := <-inFlight
	if res.err != nil || res.status != http.StatusOK || res.body != "finished" {
		t.Fatalf("in-flight request = %+v, want 200 finished", res)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil after a clean drain", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
}

func TestServeGivesUpAfterShutdownTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	started := make(chan struct{}, 1)
	addr, done := startSlowServer(t, ctx, release, started, 100*time.Millisecond)

	inFlight := get(&http.Client{Timeout: 5 * time.Second}, "http://"+addr+"/stuck")
	<-started
	cancel()

	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not finish within 100ms") || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Serve = %v, want a shutdown timeout error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve hung past the shutdown timeout")
	}
	if res := <-inFlight; res.err == nil {
		t.Errorf("stuck request = %+v, want its connection closed", res)
	}
}

func TestServeReturnsListenerErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close() // Serve cannot accept on a closed listener
	srv := &http.Server{ReadHeaderTimeout: time.Second}
	if err := app.Serve(context.Background(), slog.New(slog.DiscardHandler), srv, ln, time.Second); err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}

// TestServeDrainDelayClosesKeepAliveConnections: after the signal and for the drain delay the
// server still answers, calls onDrain once, and tells every client to close its connection,
// so no keep-alive connection is left idle for Shutdown to close under a new request.
func TestServeDrainDelayClosesKeepAliveConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: time.Second,
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
	}
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{}, 2)
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, slog.New(slog.DiscardHandler), srv, ln, 5*time.Second,
			app.WithDrainDelay(500*time.Millisecond, func() { drained <- struct{}{} }))
	}()
	url := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}

	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.Close {
		t.Fatal("a response before the signal asked to close the connection")
	}

	cancel()
	<-drained
	resp, err = client.Get(url)
	if err != nil {
		t.Fatalf("a request during the drain delay failed: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("during the drain delay: status %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if len(drained) != 0 {
		t.Error("onDrain ran more than once")
	}
}

// TestServeRunsTheAdminServerAlongside: the admin server answers from the start, keeps
// answering while the main one drains, and is shut down with it; an in-flight admin request
// finishes within the shared budget.
func TestServeRunsTheAdminServerAlongside(t *testing.T) {
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	ln, adminLn := listen(), listen()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: ok}
	started, release := make(chan struct{}, 1), make(chan struct{})
	admin := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, "admin")
	})}
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, slog.New(slog.DiscardHandler), srv, ln, 5*time.Second,
			app.WithDrainDelay(300*time.Millisecond, func() { close(drained) }), app.WithAdmin(admin, adminLn))
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	adminURL := "http://" + adminLn.Addr().String()
	if res := <-get(client, adminURL+"/"); res.err != nil || res.body != "admin" {
		t.Fatalf("admin before the signal = %+v", res)
	}
	slow := get(client, adminURL+"/slow")
	<-started

	cancel()
	<-drained
	if res := <-get(client, adminURL+"/"); res.err != nil || res.body != "admin" {
		t.Errorf("admin while draining = %+v, want it still answering", res)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v with an admin request in flight", err)
	case <-time.After(500 * time.Millisecond): // past the drain delay: shutting down
	}
	close(release)
	if res := <-slow; res.err != nil || res.body != "admin" {
		t.Errorf("in-flight admin request = %+v, want it finished", res)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if res := <-get(client, adminURL+"/"); res.err == nil {
		t.Errorf("the admin server still answers after Serve returned: %+v", res)
	}
}
