package server

import (
	"crypto/sha256"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/items"
)

// Headers of conditional and idempotent requests (RFC 9110 §13; the IETF
// Idempotency-Key draft, with Stripe's semantics).
const (
	headerETag               = "ETag"
	headerIfMatch            = "If-Match"
	headerIfNoneMatch        = "If-None-Match"
	headerIdempotencyKey     = "Idempotency-Key"
	headerIdempotentReplayed = "Idempotent-Replayed"
)

// maxIdempotencyKeyLength is the longest Idempotency-Key accepted (as Stripe's).
const maxIdempotencyKeyLength = 255

// etag is the entity tag of an item version. It is strong: every representation of
// one version is the same bytes.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// setETag tags a response that carries item.
func setETag(h http.Header, item items.Item) {
	h.Set(headerETag, etag(item.Version))
}

// setCreated sets the headers of a 201 for item: Location, ETag, and
// Idempotent-Replayed when the answer is the replay of an earlier request's.
func setCreated(h http.Header, item items.Item, replayed bool) {
	h.Set("Location", itemPath(item.ID))
	setETag(h, item)
	if replayed {
		h.Set(headerIdempotentReplayed, "true")
	}
}

// notModified tags a GET response with item's ETag and reports whether the
// request's If-None-Match already names it (weak comparison, as RFC 9110 asks for
// If-None-Match): the answer is then 304 without a body.
func notModified(h http.Header, r *http.Request, item items.Item) bool {
	setETag(h, item)
	current := etag(item.Version)
	for _, tag := range entityTags(r.Header.Values(headerIfNoneMatch)) {
		if tag == "*" || strings.TrimPrefix(tag, "W/") == current {
			return true
		}
	}
	return false
}

// ifMatchVersion reads If-Match of a PUT or DELETE as the version the write
// expects: items.AnyVersion when the header is absent or "*". A tag that is not a
// strong one of ours can never match (RFC 9110 compares If-Match strongly), so it
// fails as a stale version would, with 412.
func ifMatchVersion(r *http.Request) (int64, error) {
	tags := entityTags(r.Header.Values(headerIfMatch))
	switch {
	case len(tags) == 0:
		return items.AnyVersion, nil
	case len(tags) > 1:
		return 0, badRequest("If-Match must hold one entity tag (the item's ETag) or *")
	case tags[0] == "*":
		return items.AnyVersion, nil
	}
	tag := tags[0]
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, items.ErrVersionMismatch
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	if err != nil || v < 1 {
		return 0, items.ErrVersionMismatch
	}
	return v, nil
}

// entityTags splits If-Match / If-None-Match values into their comma-separated tags.
func entityTags(values []string) []string {
	var out []string
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				out = append(out, tag)
			}
		}
	}
	return out
}

// decodeCreate reads the body of POST /v1/items and, when the request carries an
// Idempotency-Key, the key and the SHA-256 of the body exactly as sent.
func decodeCreate(r *http.Request) (items.Input, items.Idempotency, error) {
	key, err := idempotencyKey(r)
	if err != nil {
		return items.Input{}, items.Idempotency{}, err
	}
	var sum hash.Hash
	if key != "" && r.Body != nil {
		sum = sha256.New()
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, sum), r.Body}
	}
	in, err := decodeItemInput(r) // reads the body to its end: the hash covers all of it
	if err != nil {
		return items.Input{}, items.Idempotency{}, err
	}
	idem := items.Idempotency{Key: key}
	if sum != nil {
		sum.Sum(idem.Fingerprint[:0])
	}
	return in, idem, nil
}

// idempotencyKey returns the request's Idempotency-Key, "" without one. A key is
// 1 to maxIdempotencyKeyLength printable ASCII characters (a UUID is typical).
func idempotencyKey(r *http.Request) (string, error) {
	values := r.Header.Values(headerIdempotencyKey)
	if len(values) == 0 {
		return "", nil
	}
	key := strings.TrimSpace(values[0])
	if len(values) > 1 || key == "" || len(key) > maxIdempotencyKeyLength || strings.IndexFunc(key, func(c rune) bool { return c < 0x20 || c > 0x7e }) >= 0 {
		return "", badRequest("Idempotency-Key must be one value of 1 to %d printable ASCII characters", maxIdempotencyKeyLength)
	}
	return key, nil
}
