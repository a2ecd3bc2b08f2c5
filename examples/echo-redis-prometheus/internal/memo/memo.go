// Package memo remembers the last result of a costly, pure computation per key — the
// decoding of a cached item, the encoding of an item's JSON — so that a hot key costs it
// once rather than on every request.
//
// A Table is direct-mapped: a key's hash picks one of a fixed number of slots, and a
// later Store for another key with the same slot replaces the entry. That keeps memory
// fixed and lookups lock-free; the price is a miss where a map would have hit, and a
// miss only means computing the result again. The caller's entry type carries the key
// and whatever the result depends on, and the caller checks both after Load: a slot
// may hold another key's entry, or an entry computed from inputs that have changed since.
package memo

import (
	"hash/maphash"
	"sync/atomic"
)

// slots is the number of entries a Table keeps: a power of two, a few times the hot
// keys a replica typically serves, small enough (8 KiB of pointers, plus the entries)
// to give every Table its own.
const slots = 1024

// Table holds the last entry stored per slot. E must not be changed once stored:
// concurrent readers share it.
type Table[E any] struct {
	seed  maphash.Seed
	slots [slots]atomic.Pointer[E]
}

// New returns an empty Table.
func New[E any]() *Table[E] {
	return &Table[E]{seed: maphash.MakeSeed()}
}

// Load returns the entry of key's slot, or nil: an entry that may belong to another key.
func (t *Table[E]) Load(key string) *E {
	return t.slots[t.slot(key)].Load()
}

// Store makes e the entry of key's slot.
func (t *Table[E]) Store(key string, e *E) {
	t.slots[t.slot(key)].Store(e)
}

func (t *Table[E]) slot(key string) uint64 {
	return maphash.String(t.seed, key) & (slots - 1)
}
