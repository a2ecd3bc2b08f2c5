package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		wantErr string
	}{
		{"200 passes", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }, ""},
		{"503 fails", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, "503"},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, "302"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			err := Probe(context.Background(), srv.URL+"/healthz")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Probe = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Probe = %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
}

func TestProbeLivenessHandler(t *testing.T) {
	srv := httptest.NewServer(NewRegistry().Liveness())
	defer srv.Close()
	if err := Probe(context.Background(), srv.URL+"/healthz"); err != nil {
		t.Fatalf("Probe of the liveness handler = %v, want nil", err)
	}
}

func TestProbeNothingListening(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if err := Probe(context.Background(), url+"/healthz"); err == nil {
		t.Fatal("Probe of a closed port = nil, want an error")
	}
}

func TestProbeTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Probe(ctx, srv.URL+"/healthz"); err == nil {
		t.Fatal("Probe of a hung server = nil, want a timeout error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Probe took %s, want it bounded by the context", d)
	}
}
