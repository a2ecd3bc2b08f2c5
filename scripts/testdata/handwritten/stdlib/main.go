// Command handwritten is the net/http ServeMux baseline of scripts/bench-service.sh: GET
// /healthz as the generated service's liveness probe, and GET /v1/items/{id} and POST
// /v1/items doing the generated service's round trips (store.go) with no middleware.
package main

import (
	"log"
	"net/http"
)

func main() {
	s := openStore()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/health+json")
		_, _ = w.Write(healthBody)
	})
	mux.HandleFunc("GET /v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		getItem(s, w, r, r.PathValue("id"))
	})
	mux.HandleFunc("POST /v1/items", func(w http.ResponseWriter, r *http.Request) {
		createItem(s, w, r)
	})
	log.Fatal(server(mux).ListenAndServe())
}
