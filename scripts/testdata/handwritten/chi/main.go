// Command handwritten is the chi baseline of scripts/bench-service.sh: GET /healthz as the
// generated service's liveness probe, and GET /v1/items/{id} and POST /v1/items doing the
// generated service's round trips (store.go) with no middleware.
package main

import (
	"log"
	"net/http"

	"github.com/go-chi/chi/v5"
)

func main() {
	s := openStore()
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/health+json")
		_, _ = w.Write(healthBody)
	})
	r.Get("/v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		getItem(s, w, r, chi.URLParam(r, "id"))
	})
	r.Post("/v1/items", func(w http.ResponseWriter, r *http.Request) {
		createItem(s, w, r)
	})
	log.Fatal(server(r).ListenAndServe())
}
