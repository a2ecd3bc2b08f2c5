// Package requestid carries the request ID through a request's context, so that
// logs, error responses and outgoing calls can all name the same request.
package requestid

import (
	"context"
	"encoding/base32"
	"encoding/binary"
	"math/rand/v2"
)

// Header is the HTTP header that carries the request ID in and out.
const Header = "X-Request-ID"

// maxLength bounds an accepted incoming ID; longer ones are replaced, not truncated,
// so that two different IDs never end up looking the same.
const maxLength = 128

type contextKey struct{}

// encoding spells IDs like crypto/rand.Text: 26 characters of base32, no padding.
var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns a fresh random request ID: 128 random bits, base32-encoded.
//
// The bits come from math/rand/v2's global generator (ChaCha8, seeded by the runtime
// from the operating system), not crypto/rand: an ID must be unique, not secret, and
// a system call per request is a measurable share of a fast endpoint's cost.
func New() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64()) //nolint:gosec // G404: unique, not secret (see above)
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64()) //nolint:gosec // G404: unique, not secret (see above)
	// encoding.EncodedLen(16) bytes on the stack, so the string is the only allocation.
	var s [26]byte
	encoding.Encode(s[:], b[:])
	return string(s[:])
}

// Valid reports whether an incoming ID is safe to adopt: 1 to 128 characters from
// a conservative set. Anything else (control characters, quotes, spaces, very long
// values) could forge log lines or bloat them, so it is replaced by a fresh ID.
func Valid(id string) bool {
	if id == "" || len(id) > maxLength {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// Resolve returns incoming when it is Valid and a fresh ID otherwise.
func Resolve(incoming string) string {
	if Valid(incoming) {
		return incoming
	}
	return New()
}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return &idContext{Context: ctx, id: id}
}

// FromContext returns the request ID stored in ctx, or "".
func FromContext(ctx context.Context) string {
	if c, ok := ctx.Value(contextKey{}).(*idContext); ok {
		return c.id
	}
	return ""
}

// idContext is context.WithValue for the one value every request carries. WithValue
// would box the string (a second allocation per request, and one per lookup); Value
// hands out the context itself, a pointer, so neither storing nor reading allocates.
type idContext struct {
	context.Context
	id string
}

func (c *idContext) Value(key any) any {
	if key == (contextKey{}) {
		return c
	}
	return c.Context.Value(key)
}
