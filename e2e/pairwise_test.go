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
	if n := len(All(stackFactors)); n != 576 {
		t.Errorf("full stack matrix has %d combinations, want 576", n)
	}
	// No set can have fewer rows than frameworks × CI systems or brokers (4×3 = 12).
	if n := len(Pairwise(stackFactors)); n > 14 {
		t.Errorf("pairwise matrix has %d rows; the greedy construction should need at most 14", n)
	}
}
