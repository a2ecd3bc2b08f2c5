// Package problem writes error responses as RFC 9457 problem details
// (application/problem+json), so every error the service returns, whatever the
// HTTP framework, has one machine-readable shape.
package problem

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of problem responses.
const ContentType = "application/problem+json"

// FieldError is one invalid request field, listed under "errors".
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Problem is an RFC 9457 problem details object. Type is "about:blank" for the
// generic problems of this service, in which case Title is the HTTP status text.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence: the request path.
	Instance string `json:"instance,omitempty"`
	// RequestID (an extension member) lets a client quote the request in a bug report
	// and an operator find it in the logs.
	RequestID string `json:"request_id,omitempty"`
	// Errors (an extension member) lists field-level validation problems.
	Errors []FieldError `json:"errors,omitempty"`
}

// New returns a generic problem for status with a human-readable detail.
func New(status int, detail string) Problem {
	return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// Write sends p with its status code.
func Write(w http.ResponseWriter, p Problem) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	// Error responses must not be cached by intermediaries.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	// An encoding error here means the client went away; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(p)
}
