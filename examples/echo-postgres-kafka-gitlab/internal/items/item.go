// Package items is the example resource: a priced item with CRUD operations. It shows
// the layering every resource of the service follows — HTTP adapter → Service →
// Repository — with validation and domain errors defined here, independent of
// the HTTP framework and of the storage behind the Repository.
package items

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Item is a priced item. Prices are integer cents: floating point cannot represent
// most decimal amounts exactly.
type Item struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Price     int64     `json:"price"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version is 1 when the item is created and grows by one with every change. The
	// HTTP layer sends it as the ETag, and a client sends it back in If-Match to change
	// the item only if nobody else has changed it since.
	Version int64 `json:"version"`
}

// AnyVersion is the expected version of an update or delete that applies the
// change whatever the stored version is.
const AnyVersion int64 = 0

// Idempotency makes a create safe to retry: the client's Idempotency-Key and the
// SHA-256 of the request body. The first create with a key stores the key with the
// item; a retry with the same key and body gets that item again instead of a new
// one, until the key expires after TTL.
type Idempotency struct {
	Key         string
	Fingerprint [sha256.Size]byte
	TTL         time.Duration // set by the Service
}

// Input is what a client may set on an item, on create and on update.
type Input struct {
	Name  string
	Price int64
}

// Limits of valid input.
const (
	MaxNameLength = 200 // in characters (runes), after trimming surrounding space
)

// Errors a Repository or the Service return; the HTTP layer maps them to status codes.
var (
	// ErrNotFound means no item has the requested ID.
	ErrNotFound = errors.New("item not found")
	// ErrUnavailable means a dependency is down or its circuit breaker is open. It is
	// returned fast instead of waiting on the dependency, and answered with 503 so
	// clients retry later.
	ErrUnavailable = errors.New("item storage unavailable")
	// ErrVersionMismatch means an update or delete expected a version of the item
	// other than the stored one: someone changed it since the client read it.
	ErrVersionMismatch = errors.New("item version does not match")
	// ErrIdempotencyKeyReused means a create came with an idempotency key that an
	// earlier create with a different body used.
	ErrIdempotencyKeyReused = errors.New("idempotency key already used for a different request")
	// ErrIdempotencyKeyInFlight means a create with the same idempotency key is still
	// being processed; the client retries later and then gets its result.
	ErrIdempotencyKeyInFlight = errors.New("a request with this idempotency key is still in progress")
)

// FieldError is one problem with one input field.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// ValidationError lists every problem found in an input, so a client can fix them
// all in one round trip.
type ValidationError struct {
	Fields []FieldError
}

// NewValidationError returns a ValidationError listing fields.
func NewValidationError(fields ...FieldError) *ValidationError {
	return &ValidationError{Fields: fields}
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Detail
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Normalize returns the input as it is stored: the name without surrounding space.
func (in Input) Normalize() Input {
	in.Name = strings.TrimSpace(in.Name)
	return in
}

// Validate checks a normalized input and returns a *ValidationError, or nil.
func (in Input) Validate() error {
	var fields []FieldError
	n := utf8.RuneCountInString(in.Name)
	switch {
	case n == 0 || n > MaxNameLength:
		fields = append(fields, FieldError{Field: "name", Detail: fmt.Sprintf("must be between 1 and %d characters", MaxNameLength)})
	case strings.IndexFunc(in.Name, unicode.IsControl) >= 0:
		fields = append(fields, FieldError{Field: "name", Detail: "must not contain control characters"})
	}
	if in.Price < 0 {
		fields = append(fields, FieldError{Field: "price", Detail: "must be 0 or more (integer cents)"})
	}
	if len(fields) > 0 {
		return NewValidationError(fields...)
	}
	return nil
}
