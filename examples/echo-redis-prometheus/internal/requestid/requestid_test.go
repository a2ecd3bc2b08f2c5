package requestid_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/requestid"
)

func TestValid(t *testing.T) {
	for _, id := range []string{"abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace:1/2+3=4_x.y", strings.Repeat("a", 128)} {
		if !requestid.Valid(id) {
			t.Errorf("Valid(%q) = false, want true", id)
		}
	}
	for _, id := range []string{"", strings.Repeat("a", 129), "with space", "new\nline", `quote"`, "tab\t", "ünï"} {
		if requestid.Valid(id) {
			t.Errorf("Valid(%q) = true, want false", id)
		}
	}
}

func TestResolve(t *testing.T) {
	if got := requestid.Resolve("client-id-1"); got != "client-id-1" {
		t.Errorf("Resolve kept %q, want the valid incoming ID", got)
	}
	got := requestid.Resolve("bad id\n")
	if got == "bad id\n" || !requestid.Valid(got) {
		t.Errorf("Resolve(invalid) = %q, want a fresh valid ID", got)
	}
	if a, b := requestid.New(), requestid.New(); a == b || len(a) != 26 {
		t.Errorf("New() = %q, %q; want two distinct 26-character IDs", a, b)
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if got := requestid.FromContext(ctx); got != "" {
		t.Errorf("FromContext(empty) = %q", got)
	}
	if got := requestid.FromContext(requestid.NewContext(ctx, "r1")); got != "r1" {
		t.Errorf("FromContext = %q, want r1", got)
	}

	// The ID survives the contexts wrapped around it later; other values pass through it.
	type otherKey struct{}
	ctx = requestid.NewContext(context.WithValue(ctx, otherKey{}, "v"), "r2")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if got := requestid.FromContext(ctx); got != "r2" {
		t.Errorf("FromContext(wrapped) = %q, want r2", got)
	}
	if got := ctx.Value(otherKey{}); got != "v" {
		t.Errorf("Value(otherKey) = %v, want v", got)
	}
	if _, ok := ctx.Deadline(); !ok {
		t.Error("the deadline of the wrapping context is lost")
	}
}

// Every request resolves an ID and stores it; the access log and error responses read it.
func TestPerRequestAllocations(t *testing.T) {
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _ = requestid.New() }); n > 1 {
		t.Errorf("New allocates %v times, want 1 (the string)", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = requestid.NewContext(ctx, "r1") }); n > 1 {
		t.Errorf("NewContext allocates %v times, want 1", n)
	}
	withID := requestid.NewContext(ctx, "r1")
	if n := testing.AllocsPerRun(100, func() { _ = requestid.FromContext(withID) }); n > 0 {
		t.Errorf("FromContext allocates %v times, want 0", n)
	}
}
