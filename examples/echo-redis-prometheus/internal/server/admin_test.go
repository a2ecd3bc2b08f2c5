package server_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/server"
)

// The admin server serves net/http/pprof's profiles; the public handler does not.
func TestAdminServesProfilesOffThePublicPort(t *testing.T) {
	deps, _ := newDeps(t, slog.LevelError)
	admin := server.Admin(deps)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/cmdline":           "",
		"/debug/pprof/goroutine?debug=1": "goroutine profile",
		"/debug/pprof/heap?debug=1":      "heap profile",
	} {
		if rec := get(path); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("admin GET %s = %d, want 200 with %q", path, rec.Code, want)
		}
	}
	if rec := get("/v1/items"); rec.Code != http.StatusNotFound {
		t.Errorf("admin GET /v1/items = %d, want 404: the API is not served on the admin port", rec.Code)
	}

	public := newServer(t, slog.LevelError)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		expectProblem(t, public.do(t, http.MethodGet, path, ""), http.StatusNotFound)
	}
}
