package server_test

// api/openapi.yaml describes the HTTP API. These tests keep it honest: the document
// must be valid OpenAPI, list exactly the routes the router serves, and describe the
// responses the handlers really send.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/metrics"
	"github.com/acme/orders-api/internal/server"
)

// specPath is api/openapi.yaml, relative to this package's directory (where go test runs).
var specPath = filepath.FromSlash("../../api/openapi.yaml")

// loadSpec loads and validates the OpenAPI document.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("load %s: %v", specPath, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("%s declares openapi %q, want 3.1", specPath, doc.OpenAPI)
	}
	// Validate checks the document against the rules of its version (3.1 here),
	// including that every $ref resolves and every schema and example is valid.
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", specPath, err)
	}
	return doc
}

// allDeps returns Deps with which the router registers every route it can serve.
func allDeps(t *testing.T) server.Deps {
	t.Helper()
	deps, _ := newDeps(t, slog.LevelError, func(d *server.Deps) { d.Metrics = metrics.New() })
	return deps
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadSpec(t)

	served := map[string]bool{}
	for _, r := range server.Routes(allDeps(t)) {
		// Route patterns are written as OpenAPI writes paths (/v1/items/{id}), except
		// for ServeMux's wildcards ({rest...}), which no OpenAPI path can describe.
		if strings.Contains(r.Pattern, "...}") {
			t.Errorf("route %s %s: a wildcard route cannot be described by an OpenAPI path", r.Method, r.Pattern)
		}
		served[r.Method+" "+r.Pattern] = true
	}
	if len(served) == 0 {
		t.Fatal("server.Routes returned no routes")
	}

	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	for _, route := range sortedKeys(served) {
		if !documented[route] {
			t.Errorf("the router serves %s, which %s does not describe", route, specPath)
		}
	}
	for _, route := range sortedKeys(documented) {
		if !served[route] {
			t.Errorf("%s describes %s, which the router does not serve", specPath, route)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// specChecker sends requests to a test server and validates each response (status,
// headers, content type and body) against the operation the document gives for the
// request, with kin-openapi's openapi3filter.
type specChecker struct {
	t      *testing.T
	router routers.Router
	server *testServer
}

func newSpecChecker(t *testing.T, s *testServer) *specChecker {
	t.Helper()
	router, err := legacy.NewRouter(loadSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	return &specChecker{t: t, router: router, server: s}
}

// check sends method path (with body as application/json when not empty), wants the
// status, and validates the response against the document. validRequest says whether
// the request itself must also conform. Extra request headers come in name, value pairs.
func (c *specChecker) check(method, path, contentType, body string, status int, validRequest bool, headers ...string) *httptest.ResponseRecorder {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	// The host of the document's server, so that the router matches it.
	req := httptest.NewRequest(method, "http://localhost:8080"+path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: no operation in %s: %v", method, path, specPath, err)
	}
	// Credentials are the auth guard's business (its own tests); here the document's
	// security requirements are taken as met.
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if validRequest {
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			c.t.Fatalf("%s %s: the request does not match %s: %v", method, path, specPath, err)
		}
	}

	rec := c.server.serve(req)
	if rec.Code != status {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, rec.Code, status, rec.Body.String())
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		c.t.Errorf("%s %s: the %d response does not match %s: %v\nbody: %s", method, path, rec.Code, specPath, err, rec.Body.String())
	}
	return rec
}

func TestResponsesMatchOpenAPI(t *testing.T) {
	const jsonType = "application/json"
	c := newSpecChecker(t, newServer(t, slog.LevelError, func(d *server.Deps) { d.Metrics = metrics.New() }))

	c.check(http.MethodGet, "/healthz", "", "", http.StatusOK, true)
	c.check(http.MethodGet, "/readyz", "", "", http.StatusOK, true)

	created := c.check(http.MethodPost, "/v1/items", jsonType, `{"name":"Widget","price":1999}`, http.StatusCreated, true, "Idempotency-Key", "k1")
	item := decode[itemJSON](t, created)
	c.check(http.MethodPost, "/v1/items", jsonType, `{"name":"Widget","price":1999}`, http.StatusCreated, true, "Idempotency-Key", "k1")
	c.check(http.MethodPost, "/v1/items", jsonType, `{"name":"Gadget","price":0}`, http.StatusCreated, true)
	c.check(http.MethodGet, "/v1/items/"+item.ID, "", "", http.StatusOK, true)
	c.check(http.MethodGet, "/v1/items/"+item.ID, "", "", http.StatusNotModified, true, "If-None-Match", `"1"`)
	c.check(http.MethodPut, "/v1/items/"+item.ID, jsonType, `{"name":"Widget 2","price":2999}`, http.StatusOK, true, "If-Match", `"1"`)
	c.check(http.MethodPut, "/v1/items/"+item.ID, jsonType, `{"name":"Widget 3","price":2999}`, http.StatusPreconditionFailed, true, "If-Match", `"1"`)
	c.check(http.MethodDelete, "/v1/items/"+item.ID, "", "", http.StatusPreconditionFailed, true, "If-Match", `"1"`)
	c.check(http.MethodPost, "/v1/items", jsonType, `{"name":"Other","price":1}`, http.StatusUnprocessableEntity, true, "Idempotency-Key", "k1")
	page := c.check(http.MethodGet, "/v1/items?limit=1", "", "", http.StatusOK, true)
	if next := decode[struct{ Next string }](t, page).Next; next == "" {
		t.Error("list with limit=1 of 2 items: no next cursor")
	} else {
		c.check(http.MethodGet, "/v1/items?limit=1&after="+next, "", "", http.StatusOK, true)
	}
	c.check(http.MethodDelete, "/v1/items/"+item.ID, "", "", http.StatusNoContent, true)

	// Problems: the requests are wrong on purpose, the responses must still conform.
	c.check(http.MethodGet, "/v1/items/"+item.ID, "", "", http.StatusNotFound, true)
	c.check(http.MethodPost, "/v1/items", jsonType, `{"name":"","price":-1}`, http.StatusBadRequest, false)
	c.check(http.MethodPost, "/v1/items", jsonType, `{"name":"x","price":1,"color":"red"}`, http.StatusBadRequest, false)
	c.check(http.MethodPost, "/v1/items", "text/plain", `{"name":"x","price":1}`, http.StatusUnsupportedMediaType, false)
	c.check(http.MethodGet, "/v1/items?limit=0", "", "", http.StatusBadRequest, false)
}

func TestNotReadyMatchesOpenAPI(t *testing.T) {
	s := newServer(t, slog.LevelError)
	s.health.Register("dependency", func(context.Context) error { return errors.New("down") })
	c := newSpecChecker(t, s)
	c.check(http.MethodGet, "/readyz", "", "", http.StatusOK, true) // warn: ready, the dependency reported
	s.health.Gate("start-up", func() bool { return false })
	c.check(http.MethodGet, "/readyz", "", "", http.StatusServiceUnavailable, true)
}

func TestLimitProblemsMatchOpenAPI(t *testing.T) {
	s := newServer(t, slog.LevelError, withConfig(func(cfg *config.Config) {
		cfg.BodyLimitBytes = 16
		cfg.RateLimitRPS = 1
		cfg.RateLimitBurst = 1
	}))
	c := newSpecChecker(t, s)
	c.check(http.MethodPost, "/v1/items", "application/json", `{"name":"a long enough name","price":1}`, http.StatusRequestEntityTooLarge, false)
	c.check(http.MethodGet, "/v1/items", "", "", http.StatusTooManyRequests, true)
}
