// Command bare is the chi baseline of scripts/bench-service.sh: the router with no
// middleware, answering GET /healthz like the generated service's liveness probe and
// GET /v1/items/{id} with a fixed item. Test data: built in a temporary module whose
// go.mod is the generated service's, so the router version is the same.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
)

func main() {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/health+json")
		_, _ = w.Write([]byte(`{"status":"pass"}`))
	})
	r.Get("/v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(map[string]any{"id": chi.URLParam(r, "id"), "name": "bench item", "price": 100})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	// The same http.Server timeouts as the generated service's defaults: they are server
	// configuration every production server needs (per-request deadlines cost net/http a few
	// percent), not middleware, so the ratio measures the middleware stack alone.
	srv := &http.Server{
		Addr:              ":" + os.Getenv("PORT"),
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
