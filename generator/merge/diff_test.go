package merge

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDiffMinimal checks the line diff against a dynamic-programming LCS on
// random sequences over small alphabets (many equal lines, so many ties and
// slides) and of skewed lengths: the hunks must turn a into b, be sorted and
// separated, and leave exactly LCS-many lines unchanged.
func TestDiffMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 20000 {
		alpha := 1 + rng.IntN(5)
		a := randomIDs(rng, rng.IntN(25), alpha)
		b := randomIDs(rng, rng.IntN(25), alpha)
		if iter%4 == 0 { // b close to a
			b = editIDs(rng, a, alpha)
		}
		checkDiff(t, a, b, alpha)
	}
}

// TestDiffLarge covers the divide-and-conquer path on inputs big enough for
// deep recursion and many scattered edits (where go-udiff's bounded search
// would stop being minimal).
func TestDiffLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		alpha := 2 + rng.IntN(40)
		a := randomIDs(rng, 300+rng.IntN(300), alpha)
		b := a
		for range 1 + rng.IntN(6) {
			b = editIDs(rng, b, alpha)
		}
		checkDiff(t, a, b, alpha)
	}
	// 2000 unique lines with ~200 scattered edits: all of the kept lines must
	// be found.
	a := make([]int, 2000)
	for i := range a {
		a[i] = i
	}
	var b []int
	kept, next := 0, 2000
	for _, id := range a {
		switch rng.IntN(20) {
		case 0:
			b = append(b, next, id)
			next++
			kept++
		case 1:
		default:
			b = append(b, id)
			kept++
		}
	}
	hs := diffIDs(a, b, next)
	if got := unchangedCount(hs, len(a)); got != kept {
		t.Fatalf("unchanged lines: got %d, want %d", got, kept)
	}
}

func randomIDs(rng *rand.Rand, n, alpha int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = rng.IntN(alpha)
	}
	return s
}

// editIDs returns a copy of s with a few random insertions, deletions and
// replacements.
func editIDs(rng *rand.Rand, s []int, alpha int) []int {
	out := append([]int(nil), s...)
	for range rng.IntN(5) {
		p := rng.IntN(len(out) + 1)
		switch rng.IntN(3) {
		case 0:
			out = append(out[:p], append([]int{rng.IntN(alpha)}, out[p:]...)...)
		case 1:
			if p < len(out) {
				out = append(out[:p], out[p+1:]...)
			}
		default:
			if p < len(out) {
				out[p] = rng.IntN(alpha)
			}
		}
	}
	return out
}

func checkDiff(t *testing.T, a, b []int, nids int) {
	t.Helper()
	hs := diffIDs(a, b, nids)
	// Applying the hunks to a gives b.
	var got []int
	pa := 0
	for k, h := range hs {
		if h.A0 > h.A1 || h.B0 > h.B1 || h.A0 == h.A1 && h.B0 == h.B1 {
			t.Fatalf("bad hunk %+v", h)
		}
		if k > 0 && (h.A0 <= hs[k-1].A1 || h.B0 <= hs[k-1].B1) {
			t.Fatalf("hunks not separated: %+v", hs)
		}
		if h.A0-pa != h.B0-len(got) {
			t.Fatalf("hunk %+v out of step", h)
		}
		got = append(got, a[pa:h.A0]...)
		got = append(got, b[h.B0:h.B1]...)
		pa = h.A1
	}
	got = append(got, a[pa:]...)
	if fmt.Sprint(got) != fmt.Sprint(b) {
		t.Fatalf("hunks %+v turn %v into %v, want %v", hs, a, got, b)
	}
	if u, want := unchangedCount(hs, len(a)), lcsLen(a, b); u != want {
		t.Fatalf("diff of %v and %v keeps %d lines, LCS is %d: %+v", a, b, u, want, hs)
	}
}

func unchangedCount(hs []hunk, n int) int {
	for _, h := range hs {
		n -= h.A1 - h.A0
	}
	return n
}

func lcsLen(a, b []int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] >= cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
