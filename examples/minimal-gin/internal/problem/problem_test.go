package problem_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"example.com/hello/internal/problem"
)

func TestWrite(t *testing.T) {
	p := problem.New(http.StatusBadRequest, "the request body has invalid fields")
	p.Instance = "/v1/items"
	p.RequestID = "req-1"
	p.Errors = append(p.Errors, problem.FieldError{Field: "name", Detail: "is required"})
	rec := httptest.NewRecorder()
	problem.Write(rec, p)

	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	want := map[string]any{
		"type":       "about:blank",
		"title":      "Bad Request",
		"status":     float64(400),
		"detail":     "the request body has invalid fields",
		"instance":   "/v1/items",
		"request_id": "req-1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	errs, _ := got["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != "name" {
		t.Errorf("errors = %v, want one entry for name", got["errors"])
	}
}

func TestWriteOmitsEmptyMembers(t *testing.T) {
	rec := httptest.NewRecorder()
	problem.Write(rec, problem.New(http.StatusNotFound, ""))
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"detail", "instance", "request_id", "errors"} {
		if _, ok := got[k]; ok {
			t.Errorf("empty member %q present in %s", k, rec.Body.String())
		}
	}
	if got["title"] != "Not Found" || got["status"] != float64(404) {
		t.Errorf("body = %s", rec.Body.String())
	}
}
