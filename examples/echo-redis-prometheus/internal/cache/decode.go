package cache

import (
	"bytes"
	"encoding/json"

	"github.com/acme/catalog/internal/memo"
)

// decoder decodes the JSON of cached entries of T. It remembers, per key, the last
// entry it decoded and what came out, and answers a hit whose bytes are the same with
// that: decoding is a function of the bytes, and a popular item's entry stays the same
// between writes, so a hot item is decoded once per write instead of once per read.
// The T handed out is shared by the readers of one entry: T must hold no slice or map
// that a reader could change (items.Item holds none).
type decoder[T any] struct {
	id   func(T) string // the key a T is cached under
	last *memo.Table[decoded[T]]
}

// decoded is one entry's JSON and the T it holds.
type decoded[T any] struct {
	raw []byte
	v   T
}

func newDecoder[T any](id func(T) string) decoder[T] {
	return decoder[T]{id: id, last: memo.New[decoded[T]]()}
}

// decode returns the T whose JSON is raw, and false when raw is not the JSON of a T
// cached under id (corrupt, or another record's). raw must not be changed afterwards.
func (d decoder[T]) decode(id string, raw []byte) (T, bool) {
	if e := d.last.Load(id); e != nil && bytes.Equal(e.raw, raw) && d.id(e.v) == id {
		return e.v, true
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil || d.id(v) != id {
		return v, false
	}
	d.last.Store(id, &decoded[T]{raw: raw, v: v})
	return v, true
}
