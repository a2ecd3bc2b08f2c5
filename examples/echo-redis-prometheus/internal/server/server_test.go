package server_test

// These tests drive the http.Handler returned by server.New, so they hold for
// whichever HTTP framework the service was generated with.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/health"
	"github.com/acme/catalog/internal/items"
	"github.com/acme/catalog/internal/logging"
	"github.com/acme/catalog/internal/server"
)

// syncBuffer collects log output written from handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

type testServer struct {
	handler http.Handler
	logs    *syncBuffer
	health  *health.Registry
}

type option func(*server.Deps)

func withRepo(repo items.Repository) option {
	return func(d *server.Deps) { d.Items = items.NewService(repo) }
}

func withConfig(edit func(*config.Config)) option {
	return func(d *server.Deps) { edit(&d.Config) }
}

func newServer(t *testing.T, logLevel slog.Level, opts ...option) *testServer {
	t.Helper()
	deps, logs := newDeps(t, logLevel, opts...)
	return &testServer{handler: server.New(deps), logs: logs, health: deps.Health}
}

// newDeps returns the Deps of a test server with an in-memory repository and the
// service's logger (JSON, request IDs added from the context) writing to the returned buffer.
func newDeps(t *testing.T, logLevel slog.Level, opts ...option) (server.Deps, *syncBuffer) {
	t.Helper()
	// The server's own settings, as config.Load defaults them; no rate limit
	// (individual tests turn it on). The handler tests never reach a dependency.
	cfg := config.Config{
		RequestTimeout:        10 * time.Second,
		BodyLimitBytes:        1 << 20,
		RetryAfterUnavailable: 5 * time.Second,
	}
	logs := &syncBuffer{}
	deps := server.Deps{
		Config: cfg,
		Logger: logging.New(logs, logLevel),
		Items:  items.NewService(items.NewMemoryRepository()),
		Health: health.NewRegistry(),
	}
	for _, opt := range opts {
		opt(&deps)
	}
	return deps, logs
}

// do sends a request; body, when not empty, is sent as JSON. Extra headers come in
// name, value pairs.
func (s *testServer) do(t *testing.T, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.serve(req)
}

func (s *testServer) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

type itemJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Price     int64     `json:"price"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

type problemJSON struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("response body %q: %v", rec.Body.String(), err)
	}
	return v
}

// expectProblem checks an RFC 9457 response and returns it.
func expectProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) problemJSON {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	p := decode[problemJSON](t, rec)
	if p.Status != status || p.Type != "about:blank" || p.Title != http.StatusText(status) {
		t.Errorf("problem = %+v, want status %d, type about:blank, title %q", p, status, http.StatusText(status))
	}
	if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-ID") {
		t.Errorf("problem request_id = %q, want the X-Request-ID header %q", p.RequestID, rec.Header().Get("X-Request-ID"))
	}
	return p
}

func problemFields(p problemJSON) string {
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	return strings.Join(fields, ",")
}

func TestItemsCRUD(t *testing.T) {
	s := newServer(t, slog.LevelInfo)

	rec := s.do(t, http.MethodPost, "/v1/items", `{"name":"  Widget ","price":1999}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: status %d, body %s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("create: Content-Type = %q", ct)
	}
	created := decode[itemJSON](t, rec)
	if created.ID == "" || created.Name != "Widget" || created.Price != 1999 || created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) || created.Version != 1 {
		t.Fatalf("create: item = %+v", created)
	}
	if loc := rec.Header().Get("Location"); loc != "/v1/items/"+created.ID {
		t.Errorf("create: Location = %q, want /v1/items/%s", loc, created.ID)
	}
	var raw map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &raw)
	for _, k := range []string{"id", "name", "price", "created_at", "updated_at", "version"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("create: body lacks %q: %s", k, rec.Body.String())
		}
	}

	rec = s.do(t, http.MethodGet, "/v1/items/"+created.ID, "")
	if rec.Code != http.StatusOK || decode[itemJSON](t, rec) != created {
		t.Fatalf("get: %d %s, want 200 with the created item", rec.Code, rec.Body.String())
	}

	rec = s.do(t, http.MethodPut, "/v1/items/"+created.ID, `{"name":"Gadget","price":0}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("update: %d %s", rec.Code, rec.Body.String())
	}
	updated := decode[itemJSON](t, rec)
	if updated.ID != created.ID || updated.Name != "Gadget" || updated.Price != 0 || !updated.CreatedAt.Equal(created.CreatedAt) || updated.UpdatedAt.Before(created.UpdatedAt) || updated.Version != 2 {
		t.Errorf("update: item = %+v", updated)
	}

	rec = s.do(t, http.MethodGet, "/v1/items", "")
	list := decode[struct {
		Items []itemJSON `json:"items"`
		Next  *string    `json:"next"`
	}](t, rec)
	if rec.Code != http.StatusOK || len(list.Items) != 1 || list.Items[0] != updated || list.Next != nil {
		t.Errorf("list: %d %s, want the one updated item and no next", rec.Code, rec.Body.String())
	}

	rec = s.do(t, http.MethodDelete, "/v1/items/"+created.ID, "")
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("delete: %d %q, want 204 and no body", rec.Code, rec.Body.String())
	}
	p := expectProblem(t, s.do(t, http.MethodGet, "/v1/items/"+created.ID, ""), http.StatusNotFound)
	if p.Instance != "/v1/items/"+created.ID || p.Detail != "item not found" {
		t.Errorf("get after delete: problem = %+v", p)
	}
	expectProblem(t, s.do(t, http.MethodDelete, "/v1/items/"+created.ID, ""), http.StatusNotFound)
	expectProblem(t, s.do(t, http.MethodPut, "/v1/items/"+created.ID, `{"name":"x","price":1}`), http.StatusNotFound)

	rec = s.do(t, http.MethodGet, "/v1/items", "")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"items":[]}` {
		t.Errorf("empty list: %d %s, want {\"items\":[]}", rec.Code, rec.Body.String())
	}
}

func TestConditionalRequests(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	rec := s.do(t, http.MethodPost, "/v1/items", `{"name":"Widget","price":1}`)
	if rec.Code != http.StatusCreated || rec.Header().Get("ETag") != `"1"` {
		t.Fatalf("create: %d, ETag %q; want 201 and \"1\"", rec.Code, rec.Header().Get("ETag"))
	}
	path := "/v1/items/" + decode[itemJSON](t, rec).ID

	rec = s.do(t, http.MethodGet, path, "")
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") != `"1"` {
		t.Fatalf("get: %d, ETag %q", rec.Code, rec.Header().Get("ETag"))
	}
	for _, inm := range []string{`"1"`, `W/"1"`, `"7", "1"`, `*`} {
		rec = s.do(t, http.MethodGet, path, "", "If-None-Match", inm)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != `"1"` {
			t.Errorf("get with If-None-Match %s: %d %q, ETag %q; want 304, no body, the ETag", inm, rec.Code, rec.Body.String(), rec.Header().Get("ETag"))
		}
	}
	if rec = s.do(t, http.MethodGet, path, "", "If-None-Match", `"2"`); rec.Code != http.StatusOK {
		t.Errorf("get with a non-matching If-None-Match: %d, want 200", rec.Code)
	}

	rec = s.do(t, http.MethodPut, path, `{"name":"Gadget","price":2}`, "If-Match", `"1"`)
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") != `"2"` || decode[itemJSON](t, rec).Version != 2 {
		t.Fatalf("put with the current If-Match: %d %s, ETag %q; want 200 at version 2", rec.Code, rec.Body.String(), rec.Header().Get("ETag"))
	}
	// A client that read version 1 and writes after someone else did loses, visibly.
	for _, im := range []string{`"1"`, `W/"2"`, `"abc"`} {
		p := expectProblem(t, s.do(t, http.MethodPut, path, `{"name":"Stale","price":3}`, "If-Match", im), http.StatusPreconditionFailed)
		if !strings.Contains(p.Detail, "ETag") {
			t.Errorf("412 detail %q does not say how to recover", p.Detail)
		}
	}
	expectProblem(t, s.do(t, http.MethodDelete, path, "", "If-Match", `"1"`), http.StatusPreconditionFailed)
	expectProblem(t, s.do(t, http.MethodPut, path, `{"name":"x","price":3}`, "If-Match", `"1", "2"`), http.StatusBadRequest)
	if got := decode[itemJSON](t, s.do(t, http.MethodGet, path, "")); got.Name != "Gadget" || got.Version != 2 {
		t.Errorf("after refused writes the item is %+v, want Gadget at version 2", got)
	}
	if rec = s.do(t, http.MethodPut, path, `{"name":"Any","price":3}`, "If-Match", `*`); rec.Code != http.StatusOK {
		t.Errorf("put with If-Match *: %d", rec.Code)
	}
	if rec = s.do(t, http.MethodDelete, path, "", "If-Match", `"3"`); rec.Code != http.StatusNoContent {
		t.Errorf("delete with the current If-Match: %d %s", rec.Code, rec.Body.String())
	}
	expectProblem(t, s.do(t, http.MethodPut, path, `{"name":"x","price":3}`, "If-Match", `"3"`), http.StatusNotFound)
}

func TestIdempotencyKey(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	body := `{"name":"Widget","price":1}`
	first := s.do(t, http.MethodPost, "/v1/items", body, "Idempotency-Key", "order-42")
	if first.Code != http.StatusCreated || first.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("first create: %d, Idempotent-Replayed %q", first.Code, first.Header().Get("Idempotent-Replayed"))
	}
	created := decode[itemJSON](t, first)

	again := s.do(t, http.MethodPost, "/v1/items", body, "Idempotency-Key", "order-42")
	if again.Code != http.StatusCreated || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d, Idempotent-Replayed %q; want 201 and true", again.Code, again.Header().Get("Idempotent-Replayed"))
	}
	if got := decode[itemJSON](t, again); got != created || again.Header().Get("Location") != first.Header().Get("Location") || again.Header().Get("ETag") != first.Header().Get("ETag") {
		t.Errorf("retry answered %+v (Location %q), want the first answer %+v", got, again.Header().Get("Location"), created)
	}

	p := expectProblem(t, s.do(t, http.MethodPost, "/v1/items", `{"name":"Widget","price":2}`, "Idempotency-Key", "order-42"), http.StatusUnprocessableEntity)
	if !strings.Contains(p.Detail, "Idempotency-Key") {
		t.Errorf("422 detail = %q", p.Detail)
	}
	// The body as sent is the request: the same values formatted differently are another request.
	expectProblem(t, s.do(t, http.MethodPost, "/v1/items", `{"price":1,"name":"Widget"}`, "Idempotency-Key", "order-42"), http.StatusUnprocessableEntity)

	other := s.do(t, http.MethodPost, "/v1/items", body, "Idempotency-Key", "order-43")
	if other.Code != http.StatusCreated || decode[itemJSON](t, other).ID == created.ID {
		t.Errorf("another key: %d %s, want a new item", other.Code, other.Body.String())
	}
	noKey := s.do(t, http.MethodPost, "/v1/items", body)
	if noKey.Code != http.StatusCreated || decode[itemJSON](t, noKey).ID == created.ID {
		t.Errorf("no key: %d, want a new item", noKey.Code)
	}
	for _, bad := range []string{strings.Repeat("k", 256), "tab\tkey", "é"} {
		expectProblem(t, s.do(t, http.MethodPost, "/v1/items", body, "Idempotency-Key", bad), http.StatusBadRequest)
	}
	list := decode[struct {
		Items []itemJSON `json:"items"`
	}](t, s.do(t, http.MethodGet, "/v1/items", ""))
	if len(list.Items) != 3 {
		t.Errorf("%d items stored, want 3 (the retries created none)", len(list.Items))
	}
}

// conflictRepo answers creates with the in-flight conflict of a concurrent request.
type conflictRepo struct{ items.Repository }

func (conflictRepo) Create(context.Context, items.Item, items.Idempotency) (items.Item, bool, error) {
	return items.Item{}, false, items.ErrIdempotencyKeyInFlight
}

func TestIdempotencyKeyInFlightIs409(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withRepo(conflictRepo{items.NewMemoryRepository()}))
	expectProblem(t, s.do(t, http.MethodPost, "/v1/items", `{"name":"Widget","price":1}`, "Idempotency-Key", "k"), http.StatusConflict)
}

func TestCreateRejectsBadInput(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		fields      string // comma-separated field names in "errors"
		detail      string // fragment of "detail"
	}{
		{"invalid values", `{"name":" ","price":-1}`, "", 400, "name,price", "invalid fields"},
		{"name too long", `{"name":"` + strings.Repeat("x", 201) + `","price":1}`, "", 400, "name", ""},
		{"missing fields", `{}`, "", 400, "name,price", ""},
		{"missing price", `{"name":"Widget"}`, "", 400, "price", ""},
		{"null body", `null`, "", 400, "name,price", ""},
		{"fractional price", `{"name":"Widget","price":1.5}`, "", 400, "price", ""},
		{"string price", `{"name":"Widget","price":"100"}`, "", 400, "price", ""},
		{"number name", `{"name":7,"price":100}`, "", 400, "name", ""},
		{"unknown field", `{"name":"Widget","price":1,"colour":"red"}`, "", 400, "", `unknown field "colour"`},
		{"malformed JSON", `{"name":`, "", 400, "", "not valid JSON"},
		{"syntax error", `{"name" "x"}`, "", 400, "", "not valid JSON"},
		{"empty body", ``, "application/json", 400, "", "must not be empty"},
		{"two objects", `{"name":"a","price":1}{}`, "", 400, "", "single JSON object"},
		{"array", `[]`, "", 400, "", "must be a JSON object"},
		{"form content type", `name=Widget`, "application/x-www-form-urlencoded", 415, "", "Content-Type must be application/json"},
		{"no content type", `{"name":"Widget","price":1}`, "-", 415, "", "Content-Type must be application/json"},
	}
	s := newServer(t, slog.LevelInfo)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/items", strings.NewReader(tt.body))
			switch tt.contentType {
			case "":
				req.Header.Set("Content-Type", "application/json; charset=utf-8")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}
			p := expectProblem(t, s.serve(req), tt.status)
			if got := problemFields(p); got != tt.fields {
				t.Errorf("errors fields = %q, want %q (problem %+v)", got, tt.fields, p)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.detail)
			}
			for _, e := range p.Errors {
				if e.Detail == "" {
					t.Errorf("field error %q has no detail", e.Field)
				}
			}
		})
	}
	rec := s.do(t, http.MethodGet, "/v1/items", "")
	if strings.TrimSpace(rec.Body.String()) != `{"items":[]}` {
		t.Errorf("rejected input was stored: %s", rec.Body.String())
	}
}

func TestUpdateRejectsBadInput(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	created := decode[itemJSON](t, s.do(t, http.MethodPost, "/v1/items", `{"name":"Widget","price":1}`))
	p := expectProblem(t, s.do(t, http.MethodPut, "/v1/items/"+created.ID, `{"name":"","price":-3}`), http.StatusBadRequest)
	if problemFields(p) != "name,price" {
		t.Errorf("problem = %+v, want errors for name and price", p)
	}
}

func TestListPaging(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	for i := range 5 {
		if rec := s.do(t, http.MethodPost, "/v1/items", fmt.Sprintf(`{"name":"item %d","price":%d}`, i, i)); rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
		}
	}
	type page struct {
		Items []itemJSON `json:"items"`
		Next  string     `json:"next"`
	}
	var ids []string
	after := ""
	for n := 0; ; n++ {
		if n > 5 {
			t.Fatal("paging does not end")
		}
		rec := s.do(t, http.MethodGet, "/v1/items?limit=2&after="+after, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("list: %d %s", rec.Code, rec.Body.String())
		}
		p := decode[page](t, rec)
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.Next == "" {
			if strings.Contains(rec.Body.String(), `"next"`) {
				t.Errorf("last page has a next member: %s", rec.Body.String())
			}
			break
		}
		if len(p.Items) != 2 || p.Next != p.Items[1].ID {
			t.Errorf("page %d = %+v, want 2 items and next = last id", n, p)
		}
		after = p.Next
	}
	if len(ids) != 5 {
		t.Fatalf("paged through %d items, want 5", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			t.Errorf("ids not ascending: %v", ids)
		}
	}

	def := decode[page](t, s.do(t, http.MethodGet, "/v1/items", ""))
	if len(def.Items) != 5 || def.Next != "" {
		t.Errorf("default page = %d items, next %q; want all 5, no next", len(def.Items), def.Next)
	}
	for _, limit := range []string{"0", "101", "-1", "ten", "1.5"} {
		p := expectProblem(t, s.do(t, http.MethodGet, "/v1/items?limit="+limit, ""), http.StatusBadRequest)
		if problemFields(p) != "limit" {
			t.Errorf("limit=%s: problem = %+v, want an error on limit", limit, p)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withConfig(func(c *config.Config) { c.BodyLimitBytes = 64 }))
	body := `{"name":"` + strings.Repeat("x", 100) + `","price":1}`

	// Declared length over the limit: refused before reading.
	p := expectProblem(t, s.do(t, http.MethodPost, "/v1/items", body), http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "64 bytes") {
		t.Errorf("detail = %q, want the limit named", p.Detail)
	}

	// Unknown length (chunked): cut off while reading.
	req := httptest.NewRequest(http.MethodPost, "/v1/items", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	expectProblem(t, s.serve(req), http.StatusRequestEntityTooLarge)

	if rec := s.do(t, http.MethodPost, "/v1/items", `{"name":"ok","price":1}`); rec.Code != http.StatusCreated {
		t.Errorf("small body: %d %s, want 201", rec.Code, rec.Body.String())
	}
}

// stubRepo answers every call with fn's behaviour.
type stubRepo struct {
	fn func(ctx context.Context) error
}

func (r stubRepo) Create(ctx context.Context, _ items.Item, _ items.Idempotency) (items.Item, bool, error) {
	return items.Item{}, false, r.fn(ctx)
}
func (r stubRepo) Get(ctx context.Context, _ string) (items.Item, error) {
	return items.Item{}, r.fn(ctx)
}
func (r stubRepo) List(ctx context.Context, _ string, _ int) ([]items.Item, error) {
	return nil, r.fn(ctx)
}
func (r stubRepo) Update(ctx context.Context, _ items.Item, _ int64) (items.Item, error) {
	return items.Item{}, r.fn(ctx)
}
func (r stubRepo) Delete(ctx context.Context, _ string, _ int64) error { return r.fn(ctx) }

func TestUnavailableDependencyIs503(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withRepo(stubRepo{fn: func(context.Context) error {
		return fmt.Errorf("postgres: %w", items.ErrUnavailable)
	}}))
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/items", `{"name":"x","price":1}`},
		{http.MethodGet, "/v1/items/abc", ""},
		{http.MethodGet, "/v1/items", ""},
		{http.MethodPut, "/v1/items/abc", `{"name":"x","price":1}`},
		{http.MethodDelete, "/v1/items/abc", ""},
	} {
		rec := s.do(t, tc.method, tc.path, tc.body)
		p := expectProblem(t, rec, http.StatusServiceUnavailable)
		if strings.Contains(p.Detail, "postgres") {
			t.Errorf("%s %s: detail %q leaks the internal error", tc.method, tc.path, p.Detail)
		}
		if got := rec.Header().Get("Retry-After"); got != "5" {
			t.Errorf("%s %s: Retry-After %q, want RetryAfterUnavailable's 5", tc.method, tc.path, got)
		}
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withRepo(stubRepo{fn: func(context.Context) error {
		return errors.New("pq: password authentication failed for user admin")
	}}))
	rec := s.do(t, http.MethodGet, "/v1/items/abc", "")
	expectProblem(t, rec, http.StatusInternalServerError)
	if strings.Contains(rec.Body.String(), "password") {
		t.Errorf("500 body leaks the error: %s", rec.Body.String())
	}
	var logged bool
	for _, r := range s.logs.records(t) {
		if r["msg"] == "request failed" && strings.Contains(fmt.Sprint(r["error"]), "password authentication failed") {
			logged = true
		}
	}
	if !logged {
		t.Error("the internal error was not logged")
	}
}

// A client that hangs up is logged as such (499, client_gone), at warning level; a
// failure of the service's own stays an error.
func TestAccessLogClientGone(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withRepo(stubRepo{fn: func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return errors.New("disk on fire")
	}}))
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	s.serve(httptest.NewRequest(http.MethodGet, "/v1/items/left", nil).WithContext(gone))
	s.do(t, http.MethodGet, "/v1/items/stayed", "")

	levels := map[string]any{}
	for _, r := range s.logs.records(t) {
		if r["msg"] == "request" {
			levels[fmt.Sprint(r["path"])] = r["level"]
			if r["path"] == "/v1/items/left" && (r["client_gone"] != true || r["status"] != float64(499)) {
				t.Errorf("want status 499 and client_gone: %v", r)
			}
			if r["path"] == "/v1/items/stayed" && r["client_gone"] != nil {
				t.Errorf("client_gone on a request whose client stayed: %v", r)
			}
		}
	}
	if levels["/v1/items/left"] != "WARN" || levels["/v1/items/stayed"] != "ERROR" {
		t.Errorf("access log levels = %v, want WARN for the client that left and ERROR for the failure", levels)
	}
}

func TestRequestTimeoutIs503(t *testing.T) {
	s := newServer(t, slog.LevelInfo,
		withConfig(func(c *config.Config) { c.RequestTimeout = 50 * time.Millisecond }),
		withRepo(stubRepo{fn: func(ctx context.Context) error {
			<-ctx.Done() // a dependency that hangs until the deadline
			return ctx.Err()
		}}))
	start := time.Now()
	rec := s.do(t, http.MethodGet, "/v1/items/abc", "")
	p := expectProblem(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") != "5" {
		t.Errorf("Retry-After = %q, want 5", rec.Header().Get("Retry-After"))
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("request took %s, want about 50ms", elapsed)
	}
	if !strings.Contains(p.Detail, "timed out") {
		t.Errorf("detail = %q", p.Detail)
	}
}

func TestPanicIs500AndLogged(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withRepo(stubRepo{fn: func(context.Context) error {
		panic("nil map somewhere")
	}}))
	rec := s.do(t, http.MethodGet, "/v1/items/abc", "", "X-Request-ID", "panic-req")
	p := expectProblem(t, rec, http.StatusInternalServerError)
	if strings.Contains(rec.Body.String(), "nil map") {
		t.Errorf("500 body leaks the panic: %s", rec.Body.String())
	}
	if p.RequestID != "panic-req" {
		t.Errorf("request_id = %q", p.RequestID)
	}
	var panicLogged, accessLogged bool
	for _, r := range s.logs.records(t) {
		if r["panic"] == "nil map somewhere" && strings.Contains(fmt.Sprint(r["stack"]), "goroutine") && r["request_id"] == "panic-req" {
			panicLogged = true
		}
		if r["msg"] == "request" && r["status"] == float64(500) && r["level"] == "ERROR" {
			accessLogged = true
		}
	}
	if !panicLogged || !accessLogged {
		t.Errorf("logs lack the panic with its stack (%v) or the 500 access log (%v): %v", panicLogged, accessLogged, s.logs.records(t))
	}
	// The server keeps serving.
	if rec := s.do(t, http.MethodGet, "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("after a panic, /healthz = %d", rec.Code)
	}
}

func TestRateLimitPerClientIP(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withConfig(func(c *config.Config) {
		c.RateLimitRPS, c.RateLimitBurst = 0.5, 2
	}))
	from := func(ip string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
		req.RemoteAddr = ip + ":40000"
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return s.serve(req)
	}
	for i := range 2 {
		if rec := from("198.51.100.7"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
		}
	}
	rec := from("198.51.100.7")
	p := expectProblem(t, rec, http.StatusTooManyRequests)
	if rec.Header().Get("Retry-After") != "2" || !strings.Contains(p.Detail, "too many requests") {
		t.Errorf("429: Retry-After %q, problem %+v", rec.Header().Get("Retry-After"), p)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("429 response lacks security headers")
	}
	// A spoofed X-Forwarded-For does not buy a fresh bucket.
	expectProblem(t, from("198.51.100.7", "X-Forwarded-For", "203.0.113.9", "X-Real-IP", "203.0.113.9"), http.StatusTooManyRequests)
	// Another client has its own bucket.
	if rec := from("198.51.100.8"); rec.Code != http.StatusOK {
		t.Errorf("other client: %d, want 200", rec.Code)
	}
	// Probes are never limited.
	for _, path := range []string{"/healthz", "/readyz"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "198.51.100.7:40000"
		if rec := s.serve(req); rec.Code != http.StatusOK {
			t.Errorf("%s from a limited client: %d, want 200", path, rec.Code)
		}
	}
}

// Behind a trusted proxy each forwarded client has its own bucket, and entries a
// client wrote itself (the left of X-Forwarded-For) do not change which one.
func TestRateLimitBehindTrustedProxy(t *testing.T) {
	s := newServer(t, slog.LevelInfo, withConfig(func(c *config.Config) {
		c.RateLimitRPS, c.RateLimitBurst = 0.5, 2
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	}))
	via := func(peer, xff string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
		req.RemoteAddr = peer + ":40000"
		req.Header.Set("X-Forwarded-For", xff)
		return s.serve(req)
	}
	for i := range 2 {
		if rec := via("10.0.0.1", "203.0.113.7"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
		}
	}
	rec := via("10.0.0.1", "203.0.113.7")
	expectProblem(t, rec, http.StatusTooManyRequests)
	if rec.Header().Get("Retry-After") != "2" {
		t.Errorf("429: Retry-After %q, want 2", rec.Header().Get("Retry-After"))
	}
	// Another proxy of the same fleet, and a spoofed entry on the left: the same client.
	expectProblem(t, via("10.0.0.2", "198.51.100.1, 203.0.113.7"), http.StatusTooManyRequests)
	// Another forwarded client, through the same proxy, has its own bucket.
	if rec := via("10.0.0.1", "203.0.113.8"); rec.Code != http.StatusOK {
		t.Errorf("another forwarded client: %d, want 200", rec.Code)
	}
	// A peer that is not a trusted proxy is the client, whatever it forwards.
	for i, xff := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		want := http.StatusOK
		if i >= 2 {
			want = http.StatusTooManyRequests
		}
		if rec := via("198.51.100.50", xff); rec.Code != want {
			t.Errorf("untrusted peer, X-Forwarded-For %s: %d, want %d", xff, rec.Code, want)
		}
	}
	var logged bool
	for _, r := range s.logs.records(t) {
		if r["msg"] == "request" && r["client_ip"] == "203.0.113.8" {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no access log line with client_ip 203.0.113.8, the forwarded client: %v", s.logs.records(t))
	}
}

// While draining, /readyz is 503 and says when to look again.
func TestReadinessDrainingRetryAfter(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	s.health.Drain()
	rec := s.do(t, http.MethodGet, "/readyz", "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" {
		t.Errorf("/readyz while draining = %d, Retry-After %q; want 503, 5", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// Lines logged with a request's context carry its request_id, not just the access line:
// a handler's own line, and the server's line of a failed request.
func TestLogsCarryRequestID(t *testing.T) {
	var logger *slog.Logger
	s := newServer(t, slog.LevelInfo, func(d *server.Deps) {
		logger = d.Logger
		d.Items = items.NewService(stubRepo{fn: func(context.Context) error { return errors.New("disk on fire") }})
		d.Routes = append(d.Routes, server.Route{
			Method:  http.MethodGet,
			Pattern: "/v1/chatty",
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				logger.InfoContext(r.Context(), "inside the handler")
				w.WriteHeader(http.StatusNoContent)
			}),
		})
	})
	s.do(t, http.MethodGet, "/v1/chatty", "", "X-Request-ID", "chatty-1")
	s.do(t, http.MethodGet, "/v1/items/abc", "", "X-Request-ID", "failing-1")
	logger.Info("outside any request")

	want := map[string]string{"inside the handler": "chatty-1", "request failed": "failing-1", "outside any request": ""}
	for _, r := range s.logs.records(t) {
		msg, _ := r["msg"].(string)
		id, ok := want[msg]
		if !ok {
			continue
		}
		delete(want, msg)
		if got, _ := r["request_id"].(string); got != id {
			t.Errorf("%q logged with request_id %q, want %q: %v", msg, got, id, r)
		}
	}
	if len(want) > 0 {
		t.Errorf("lines not logged: %v\n%v", want, s.logs.records(t))
	}
}

func TestRequestID(t *testing.T) {
	s := newServer(t, slog.LevelInfo)

	rec := s.do(t, http.MethodGet, "/v1/items", "", "X-Request-ID", "abc-123")
	if got := rec.Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("sane incoming ID: echoed %q, want abc-123", got)
	}
	rec = s.do(t, http.MethodGet, "/v1/items", "", "X-Request-ID", "evil\" injected=1")
	if got := rec.Header().Get("X-Request-ID"); got == "" || strings.Contains(got, "evil") {
		t.Errorf("unsafe incoming ID: echoed %q, want a fresh one", got)
	}
	rec = s.do(t, http.MethodGet, "/v1/items", "", "X-Request-ID", strings.Repeat("a", 129))
	if got := rec.Header().Get("X-Request-ID"); len(got) > 128 {
		t.Errorf("overlong incoming ID was kept")
	}
	a := s.do(t, http.MethodGet, "/v1/items", "").Header().Get("X-Request-ID")
	b := s.do(t, http.MethodGet, "/v1/items", "").Header().Get("X-Request-ID")
	if a == "" || a == b {
		t.Errorf("generated IDs %q and %q, want two distinct non-empty IDs", a, b)
	}
	p := expectProblem(t, s.do(t, http.MethodGet, "/v1/items/nope", "", "X-Request-ID", "trace-42"), http.StatusNotFound)
	if p.RequestID != "trace-42" {
		t.Errorf("problem request_id = %q, want trace-42", p.RequestID)
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	want := map[string]string{
		"Cache-Control":                "no-store",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	for _, path := range []string{"/v1/items", "/v1/items/missing", "/no/such/route", "/healthz", "/readyz"} {
		rec := s.do(t, http.MethodGet, path, "")
		for k, v := range want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy = %q", path, csp)
		}
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	p := expectProblem(t, s.do(t, http.MethodGet, "/no/such/route", ""), http.StatusNotFound)
	if p.Instance != "/no/such/route" {
		t.Errorf("instance = %q", p.Instance)
	}
	rec := s.do(t, http.MethodPatch, "/v1/items/abc", `{"name":"x"}`)
	expectProblem(t, rec, http.StatusMethodNotAllowed)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, http.MethodGet) || !strings.Contains(allow, http.MethodDelete) {
		t.Errorf("Allow = %q, want the methods of /v1/items/:id", allow)
	}
	// HEAD is answered as GET (net/http leaves the body out); OPTIONS is not answered.
	if rec := s.do(t, http.MethodHead, "/v1/items", ""); rec.Code != http.StatusOK || rec.Header().Get("X-Request-ID") == "" {
		t.Errorf("HEAD /v1/items = %d, want 200 with the GET answer's headers", rec.Code)
	}
	rec = s.do(t, http.MethodOptions, "/v1/items", "")
	expectProblem(t, rec, http.StatusMethodNotAllowed)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, http.MethodPost) || strings.Contains(allow, http.MethodOptions) {
		t.Errorf("OPTIONS: Allow = %q, want the methods of /v1/items without OPTIONS", allow)
	}
	// A path is answered as given: no redirect to a cleaned or slash-added one.
	for _, path := range []string{"/v1/items/", "/v1//items", "/v1/./items", "/V1/items"} {
		if p := expectProblem(t, s.do(t, http.MethodGet, path, ""), http.StatusNotFound); p.Instance != path {
			t.Errorf("%s: instance = %q", path, p.Instance)
		}
	}
}

func TestProbes(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	rec := s.do(t, http.MethodGet, "/healthz", "")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"status":"pass"}` {
		t.Errorf("/healthz = %d %s", rec.Code, rec.Body.String())
	}
	rec = s.do(t, http.MethodGet, "/readyz", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/health+json" {
		t.Errorf("/readyz = %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}

	s.health.Register("postgres", func(context.Context) error { return errors.New("connection refused") },
		health.WithState(func() string { return "open" }))
	// A dependency's outage leaves the instance ready, reported in the body.
	rec = s.do(t, http.MethodGet, "/readyz", "")
	body := decode[health.Report](t, rec)
	if rec.Code != http.StatusOK || body.Status != health.StatusWarn || len(body.Checks["postgres"]) != 1 ||
		body.Checks["postgres"][0].Breaker != "open" || body.Checks["postgres"][0].Output != "connection refused" {
		t.Errorf("/readyz with a failing check = %d %s, want 200 warn naming it", rec.Code, rec.Body.String())
	}
	// Unless the operator requires it (READINESS_CHECKS).
	if err := s.health.Require("postgres"); err != nil {
		t.Fatal(err)
	}
	rec = s.do(t, http.MethodGet, "/readyz", "")
	if body := decode[health.Report](t, rec); rec.Code != http.StatusServiceUnavailable || body.Status != health.StatusFail {
		t.Errorf("/readyz with a required check failing = %d %s, want 503", rec.Code, rec.Body.String())
	}
	if rec := s.do(t, http.MethodGet, "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz with a failing dependency = %d, want 200", rec.Code)
	}
}

func TestAccessLog(t *testing.T) {
	s := newServer(t, slog.LevelInfo)
	created := decode[itemJSON](t, s.do(t, http.MethodPost, "/v1/items", `{"name":"Widget","price":1}`))
	s.do(t, http.MethodGet, "/v1/items/"+created.ID, "", "X-Request-ID", "log-me")
	s.do(t, http.MethodGet, "/healthz", "")
	s.do(t, http.MethodGet, "/readyz", "")

	var found bool
	for _, r := range s.logs.records(t) {
		if r["msg"] != "request" {
			continue
		}
		if path, _ := r["path"].(string); path == "/healthz" || path == "/readyz" {
			t.Errorf("probe logged at info level: %v", r)
		}
		if r["request_id"] != "log-me" {
			continue
		}
		found = true
		if r["method"] != "GET" || r["route"] != "/v1/items/:id" || r["status"] != float64(200) || r["level"] != "INFO" {
			t.Errorf("access log = %v", r)
		}
		if b, _ := r["bytes"].(float64); b <= 0 {
			t.Errorf("bytes = %v, want the body size", r["bytes"])
		}
		if _, ok := r["duration_ms"].(float64); !ok {
			t.Errorf("duration_ms missing: %v", r)
		}
	}
	if !found {
		t.Fatalf("no access log line for the request: %v", s.logs.records(t))
	}

	// At debug level the probes are logged too.
	debug := newServer(t, slog.LevelDebug)
	debug.do(t, http.MethodGet, "/healthz", "")
	var probeLogged bool
	for _, r := range debug.logs.records(t) {
		if r["path"] == "/healthz" && r["level"] == "DEBUG" {
			probeLogged = true
		}
	}
	if !probeLogged {
		t.Error("probe not logged at debug level")
	}
}

// Routes that components add through Deps.Routes are served like the API's own: with
// their path parameters, the middleware and a route label in the access log.
func TestExtraRoutes(t *testing.T) {
	s := newServer(t, slog.LevelInfo, func(d *server.Deps) {
		d.Routes = append(d.Routes, server.Route{
			Method:  http.MethodGet,
			Pattern: "/v1/greetings/{name}",
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "hello "+r.PathValue("name"))
				// Streaming handlers flush through whatever writers the router wraps around w.
				if err := http.NewResponseController(w).Flush(); err != nil {
					_, _ = io.WriteString(w, " (flush: "+err.Error()+")")
				}
			}),
		})
	})
	rec := s.do(t, http.MethodGet, "/v1/greetings/ada", "", "X-Request-ID", "greet")
	if rec.Code != http.StatusOK || rec.Body.String() != "hello ada" || !rec.Flushed {
		t.Fatalf("GET /v1/greetings/ada = %d %q (flushed: %v), want 200 \"hello ada\", flushed", rec.Code, rec.Body.String(), rec.Flushed)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("an added route lacks the security headers")
	}
	rec = s.do(t, http.MethodDelete, "/v1/greetings/ada", "")
	expectProblem(t, rec, http.StatusMethodNotAllowed)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, http.MethodGet) {
		t.Errorf("Allow = %q, want GET", allow)
	}
	var logged bool
	for _, r := range s.logs.records(t) {
		if r["msg"] == "request" && r["request_id"] == "greet" {
			logged = r["route"] == "/v1/greetings/:name" && r["status"] == float64(200)
		}
	}
	if !logged {
		t.Errorf("no access log line with route /v1/greetings/:name and status 200: %v", s.logs.records(t))
	}
}

// Guards (an auth component's token check) see every request but the probes, inside the
// request timeout, and what they answer is logged like any other response.
func TestGuards(t *testing.T) {
	var deadline bool
	s := newServer(t, slog.LevelInfo, func(d *server.Deps) {
		d.Guards = append(d.Guards, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, deadline = r.Context().Deadline()
				if r.Header.Get("Authorization") != "Bearer ok" {
					w.Header().Set("WWW-Authenticate", "Bearer")
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
	})
	if rec := s.do(t, http.MethodGet, "/v1/items", "", "X-Request-ID", "guarded"); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("GET /v1/items without credentials = %d, want the guard's 401", rec.Code)
	}
	if !deadline {
		t.Error("the guard ran without the request timeout's deadline")
	}
	if rec := s.do(t, http.MethodGet, "/v1/items", "", "Authorization", "Bearer ok"); rec.Code != http.StatusOK {
		t.Errorf("GET /v1/items with credentials = %d, want 200", rec.Code)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if rec := s.do(t, http.MethodGet, path, ""); rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200: probes are never guarded", path, rec.Code)
		}
	}
	var logged bool
	for _, r := range s.logs.records(t) {
		if r["msg"] == "request" && r["request_id"] == "guarded" {
			logged = r["status"] == float64(http.StatusUnauthorized)
		}
	}
	if !logged {
		t.Error("the guard's 401 is not in the access log")
	}
}
