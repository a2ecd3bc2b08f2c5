package e2e

import (
	"fmt"
	"testing"
)

func TestPairwiseCoversEveryPair(t *testing.T) {
	cases := [][]Factor{
		stackFactors,
		{{"a", []string{"1", "2", "3"}}, {"b", []string{"x", "y", "z"}}, {"c", []string{"p", "q"}}},
		{{"a", []string{"1"}}, {"b", []string{"x", "y"}}},
	}
	for _, factors := range cases {
		rows := Pairwise(factors)
		seen := map[string]bool{}
		for _, r := range rows {
			for i := range r {
				for j := i + 1; j < len(r); j++ {
					seen[fmt.Sprint(i, r[i], j, r[j])] = true
				}
			}
		}
		for i := range factors {
			for j := i + 1; j < len(factors); j++ {
				for _, a := range factors[i].Values {
					for _, b := range factors[j].Values {
						if !seen[fmt.Sprint(i, a, j, b)] {
							t.Errorf("pair %s=%s %s=%s not covered by %v", factors[i].Group, a, factors[j].Group, b, rows)
						}
					}
				}
			}
		}
		if all := All(factors); len(rows) > len(all) {
			t.Errorf("%d pairwise rows exceed the %d of the full product", len(rows), len(all))
		}
	}
	if n := len(All(stackFactors)); n != 3456 {
		t.Errorf("full stack matrix has %d combinations, want 3456", n)
	}
	// No set can have fewer rows than the values of the two largest factors multiplied; the
	// greedy construction should stay within a few rows of that.
	least := 0
	for i, f := range stackFactors {
		for _, g := range stackFactors[i+1:] {
			least = max(least, len(f.Values)*len(g.Values))
		}
	}
	if n := len(Pairwise(stackFactors)); n > least+4 {
		t.Errorf("pairwise matrix has %d rows; the greedy construction should need at most %d (the bound %d + 4)", n, least+4, least)
	}
}
