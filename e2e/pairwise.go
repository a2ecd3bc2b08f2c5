package e2e

// Factor is one dimension of the stack matrix: a group and the values it takes.
type Factor struct {
	Group  string
	Values []string
}

// Pairwise returns a small set of rows (one value per factor) in which every pair of values of
// every two factors appears at least once. It is the greedy construction: each new row is built
// value by value, choosing the value that covers most still-uncovered pairs with the values
// already chosen, ties broken by order, so the result is deterministic.
func Pairwise(factors []Factor) [][]string {
	type pair struct{ f1, v1, f2, v2 int }
	uncovered := map[pair]bool{}
	for i := range factors {
		for j := i + 1; j < len(factors); j++ {
			for a := range factors[i].Values {
				for b := range factors[j].Values {
					uncovered[pair{i, a, j, b}] = true
				}
			}
		}
	}
	var rows [][]string
	for len(uncovered) > 0 {
		// Start from the first uncovered pair so every row covers at least one new pair.
		var seed pair
		found := false
		for i := range factors {
			for j := i + 1; j < len(factors) && !found; j++ {
				for a := range factors[i].Values {
					for b := range factors[j].Values {
						if !found && uncovered[pair{i, a, j, b}] {
							seed, found = pair{i, a, j, b}, true
						}
					}
				}
			}
		}
		row := make([]int, len(factors))
		for i := range row {
			row[i] = -1
		}
		row[seed.f1], row[seed.f2] = seed.v1, seed.v2
		for f := range factors {
			if row[f] >= 0 {
				continue
			}
			best, bestGain := 0, -1
			for v := range factors[f].Values {
				gain := 0
				for g, gv := range row {
					if gv < 0 || g == f {
						continue
					}
					p := pair{g, gv, f, v}
					if f < g {
						p = pair{f, v, g, gv}
					}
					if uncovered[p] {
						gain++
					}
				}
				if gain > bestGain {
					best, bestGain = v, gain
				}
			}
			row[f] = best
		}
		out := make([]string, len(factors))
		for i := range factors {
			for j := i + 1; j < len(factors); j++ {
				delete(uncovered, pair{i, row[i], j, row[j]})
			}
			out[i] = factors[i].Values[row[i]]
		}
		rows = append(rows, out)
	}
	return rows
}

// All returns the full cartesian product of the factors.
func All(factors []Factor) [][]string {
	rows := [][]string{{}}
	for _, f := range factors {
		var next [][]string
		for _, r := range rows {
			for _, v := range f.Values {
				next = append(next, append(append([]string{}, r...), v))
			}
		}
		rows = next
	}
	return rows
}
