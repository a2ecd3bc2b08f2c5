package cache

import (
	"testing"

	"github.com/acme/catalog/internal/items"
)

func TestDecoderRemembersOnlyWhatTheBytesSay(t *testing.T) {
	d := newDecoder(func(it items.Item) string { return it.ID })
	a := []byte(`{"id":"A1","name":"Widget","price":1,"version":1}`)
	if it, ok := d.decode("A1", a); !ok || it.Name != "Widget" {
		t.Fatalf("decode(A1) = %+v, %v", it, ok)
	}
	// The same bytes under another key name another item: not served, remembered or not.
	if _, ok := d.decode("B2", a); ok {
		t.Fatal("an entry holding A1 was served for B2")
	}
	// New bytes for the key (a write replaced the entry) are decoded, not the old ones served.
	if it, ok := d.decode("A1", []byte(`{"id":"A1","name":"Gadget","price":2,"version":2}`)); !ok || it.Name != "Gadget" || it.Version != 2 {
		t.Fatalf("decode(A1) after a change = %+v, %v; want Gadget version 2", it, ok)
	}
	if _, ok := d.decode("A1", []byte(`{"id":"A1",`)); ok {
		t.Fatal("truncated JSON decoded")
	}
}
