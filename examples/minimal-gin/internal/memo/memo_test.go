package memo

import (
	"strconv"
	"sync"
	"testing"
)

type entry struct {
	key   string
	value int
}

// lookup is how callers use a Table: an entry counts only if it is the key's.
func lookup(t *Table[entry], key string) (int, bool) {
	if e := t.Load(key); e != nil && e.key == key {
		return e.value, true
	}
	return 0, false
}

func TestStoreThenLoad(t *testing.T) {
	tab := New[entry]()
	if _, ok := lookup(tab, "a"); ok {
		t.Fatal("an empty table found a")
	}
	tab.Store("a", &entry{key: "a", value: 1})
	if v, ok := lookup(tab, "a"); !ok || v != 1 {
		t.Fatalf("lookup(a) = %d, %v; want 1, true", v, ok)
	}
	tab.Store("a", &entry{key: "a", value: 2})
	if v, ok := lookup(tab, "a"); !ok || v != 2 {
		t.Fatalf("lookup(a) after a second Store = %d, %v; want 2, true", v, ok)
	}
}

// With more keys than slots some share a slot: the table stays bounded, the last Store
// of a slot wins, and a key whose entry was replaced is a miss, never another key's value.
func TestKeysSharingASlotMissRatherThanMix(t *testing.T) {
	tab := New[entry]()
	const n = 4 * slots
	for i := range n {
		k := strconv.Itoa(i)
		tab.Store(k, &entry{key: k, value: i})
	}
	hits := 0
	for i := range n {
		v, ok := lookup(tab, strconv.Itoa(i))
		if ok {
			hits++
			if v != i {
				t.Fatalf("key %d got value %d", i, v)
			}
		}
	}
	if hits == 0 || hits > slots {
		t.Fatalf("%d of %d keys found; want between 1 and %d (one per slot)", hits, n, slots)
	}
}

func TestConcurrentUse(t *testing.T) {
	tab := New[entry]()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := strconv.Itoa((g*7 + i) % 50)
				if v, ok := lookup(tab, k); ok && strconv.Itoa(v) != k {
					t.Errorf("key %s got value %d", k, v)
					return
				}
				n, _ := strconv.Atoi(k)
				tab.Store(k, &entry{key: k, value: n})
			}
		})
	}
	wg.Wait()
}
