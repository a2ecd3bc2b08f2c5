//go:build !race

// The race detector's sync.Pool drops pooled objects at random, so allocation counts vary
// under -race: the budget is held by a plain `go test` (make test and CI run both), and this
// test does not exist in a -race build rather than skipping there.

package server_test

import "testing"

func TestAllocationBudget(t *testing.T) {
	for name, budget := range allocBudget {
		t.Run(name, func(t *testing.T) {
			p := newHotPath(t, name)
			if got := p.serve(); got != p.want {
				t.Fatalf("status %d, want %d", got, p.want)
			}
			allocs := testing.AllocsPerRun(200, func() { p.serve() })
			t.Logf("%s: %.0f allocations per request (budget %.0f)", name, allocs, budget)
			if allocs > budget {
				t.Errorf("%s: %.0f allocations per request, over the budget of %.0f", name, allocs, budget)
			}
		})
	}
}
