package merge

// This file holds the line diff the merge is built on.
//
// Why not go-udiff's line diff (lcs.DiffLines, used by udiff.Lines)? It was
// written for editors and deliberately stops searching after about 100 edits
// (an unexported limit), then glues a forward and a backward partial match
// together. On a file whose owner made a couple of hundred scattered edits it
// reports large unchanged stretches as replaced, and a three-way merge turns
// every such stretch into a spurious conflict. The merge needs a minimal
// (longest-common-subsequence) alignment, so it uses the small Myers
// implementation below; go-udiff still renders the unified diffs (unified.go).

// hunk is one change of a line diff: lines a[A0:A1] are replaced by b[B0:B1].
// Hunks of one diff are sorted and separated by at least one unchanged line.
type hunk struct {
	A0, A1 int
	B0, B1 int
}

// diffIDs returns a minimal line diff between a and b (line ids from one
// interner of size nids) as sorted hunks.
//
// Minimal means the unchanged lines form a longest common subsequence. Among
// the many equally short diffs, the result is normalized the way git's xdiff
// normalizes its own (see slide), so that ambiguous insertions and deletions,
// such as one more "}\n" next to another, land where git merge-file puts them.
func diffIDs(a, b []int, nids int) []hunk {
	ca := make([]bool, len(a))
	cb := make([]bool, len(b))
	markChanged(a, b, ca, cb, nids)
	slide(a, ca, cb)
	slide(b, cb, ca)
	return buildHunks(ca, cb)
}

// markChanged sets ca[i] (cb[j]) for every line of a (b) that is not part of
// a longest common subsequence of a and b.
func markChanged(a, b []int, ca, cb []bool, nids int) {
	// Common prefix and suffix are unchanged; this is the whole job for the
	// typical regenerated file and keeps the quadratic-in-edits part small.
	lo := 0
	for lo < len(a) && lo < len(b) && a[lo] == b[lo] {
		lo++
	}
	ea, eb := len(a), len(b)
	for ea > lo && eb > lo && a[ea-1] == b[eb-1] {
		ea--
		eb--
	}

	// A line that does not occur at all on the other side is certainly
	// changed. Dropping such lines before the search does not change which
	// common subsequences exist, but it removes them from the edit distance
	// Myers' running time depends on: a user's freshly written function costs
	// nothing here.
	inA := make([]bool, nids)
	inB := make([]bool, nids)
	for _, id := range a[lo:ea] {
		inA[id] = true
	}
	for _, id := range b[lo:eb] {
		inB[id] = true
	}
	var ra, rb, ia, ib []int
	for i := lo; i < ea; i++ {
		if inB[a[i]] {
			ra = append(ra, a[i])
			ia = append(ia, i)
		} else {
			ca[i] = true
		}
	}
	for j := lo; j < eb; j++ {
		if inA[b[j]] {
			rb = append(rb, b[j])
			ib = append(ib, j)
		} else {
			cb[j] = true
		}
	}

	m := &myers{a: ra, b: rb, ca: make([]bool, len(ra)), cb: make([]bool, len(rb))}
	m.compare(0, len(ra), 0, len(rb))
	for i, c := range m.ca {
		if c {
			ca[ia[i]] = true
		}
	}
	for j, c := range m.cb {
		if c {
			cb[ib[j]] = true
		}
	}
}

// myers is the linear-space variant of E. Myers, "An O(ND) Difference
// Algorithm and Its Variations" (1986): find a point on an optimal edit path
// by running the greedy search from both corners until the searches meet,
// then recurse on the two halves. Time O((N+M)·D), space O(N+M).
type myers struct {
	a, b   []int
	ca, cb []bool // out: changed lines of a and b
	vf, vb []int  // scratch: furthest x per diagonal, forward and backward
}

// compare marks the changed lines of a[aLo:aHi] against b[bLo:bHi].
func (m *myers) compare(aLo, aHi, bLo, bHi int) {
	for {
		for aLo < aHi && bLo < bHi && m.a[aLo] == m.b[bLo] {
			aLo++
			bLo++
		}
		for aLo < aHi && bLo < bHi && m.a[aHi-1] == m.b[bHi-1] {
			aHi--
			bHi--
		}
		if aLo == aHi {
			for j := bLo; j < bHi; j++ {
				m.cb[j] = true
			}
			return
		}
		if bLo == bHi {
			for i := aLo; i < aHi; i++ {
				m.ca[i] = true
			}
			return
		}
		// Both sides are non-empty and differ at both ends, so the edit
		// distance is at least 2 and the split point lies strictly inside
		// the box: both halves are smaller and the recursion terminates.
		x, y := m.split(aLo, aHi, bLo, bHi)
		m.compare(aLo, x, bLo, y)
		aLo, bLo = x, y
	}
}

// split returns a point (x, y) of the box a[aLo:aHi] × b[bLo:bHi] that lies on
// some shortest edit path through it.
//
// Coordinates inside the box are relative: x in [0, n], y in [0, mm], and a
// diagonal is k = x - y. The backward search runs on the reversed sequences
// with its own relative coordinates, so the same code shape serves both; its
// diagonal k corresponds to delta-k forward. A diagonal whose furthest point
// runs off the right or bottom edge can never be part of a shortest path any
// more and is dropped from the scan (kfLo/kfHi, kbLo/kbHi).
func (m *myers) split(aLo, aHi, bLo, bHi int) (int, int) {
	n, mm := aHi-aLo, bHi-bLo
	maxD := (n + mm + 1) / 2
	off := maxD + 1
	size := 2*off + 1
	if cap(m.vf) < size {
		m.vf = make([]int, size)
		m.vb = make([]int, size)
	}
	vf, vb := m.vf[:size], m.vb[:size]
	for i := range vf {
		vf[i] = -1
		vb[i] = -1
	}
	vf[off+1] = 0
	vb[off+1] = 0
	delta := n - mm
	odd := delta&1 != 0
	kfLo, kfHi, kbLo, kbHi := 0, 0, 0, 0
	for d := 0; d <= maxD; d++ {
		for k := -d + kfLo; k <= d-kfHi; k += 2 {
			i := off + k
			var x int
			if k == -d || (k != d && vf[i-1] < vf[i+1]) {
				x = vf[i+1]
			} else {
				x = vf[i-1] + 1
			}
			y := x - k
			for x < n && y < mm && m.a[aLo+x] == m.b[bLo+y] {
				x++
				y++
			}
			vf[i] = x
			switch {
			case x > n:
				kfHi += 2
			case y > mm:
				kfLo += 2
			case odd:
				if j := off + delta - k; j >= 0 && j < size && vb[j] != -1 && x >= n-vb[j] {
					return aLo + x, bLo + y
				}
			}
		}
		for k := -d + kbLo; k <= d-kbHi; k += 2 {
			i := off + k
			var x int
			if k == -d || (k != d && vb[i-1] < vb[i+1]) {
				x = vb[i+1]
			} else {
				x = vb[i-1] + 1
			}
			y := x - k
			for x < n && y < mm && m.a[aHi-1-x] == m.b[bHi-1-y] {
				x++
				y++
			}
			vb[i] = x
			switch {
			case x > n:
				kbHi += 2
			case y > mm:
				kbLo += 2
			case !odd:
				if j := off + delta - k; j >= 0 && j < size && vf[j] != -1 && vf[j] >= n-x {
					return aLo + n - x, bLo + mm - y
				}
			}
		}
	}
	panic("merge: Myers search did not meet")
}

// slide moves change groups of x (changed flags cx; cy are the other file's)
// that can move without changing the diff's size, following git's xdiff
// (xdl_change_compact without the indent heuristic, which git merge-file does
// not enable):
//
//   - a group can slide down when its first line equals the line after it,
//     and up when its last line equals the line before it; sliding into a
//     neighbouring group merges the two;
//   - each group is slid as far down as possible, except that if some
//     position lines it up with a change group of the other file, it goes to
//     the lowest such position.
//
// Any consistent rule would keep the diff minimal; this one is chosen so that
// where a change "is" (and so whether it touches the other side's change and
// conflicts) agrees with git merge-file.
//
// Groups are tracked as [gs, ge) in x and, in lockstep, the group [os, oe) of
// y that lies between the same pair of unchanged lines.
func slide(x []int, cx, cy []bool) {
	n, ny := len(x), len(cy)
	gs, ge := 0, 0
	for ge < n && cx[ge] {
		ge++
	}
	os, oe := 0, 0
	for oe < ny && cy[oe] {
		oe++
	}
	prevOther := func() {
		oe = os - 1
		os = oe
		for os > 0 && cy[os-1] {
			os--
		}
	}
	nextOther := func() {
		os = oe + 1
		oe = os
		for oe < ny && cy[oe] {
			oe++
		}
	}
	up := func() bool {
		if gs == 0 || x[gs-1] != x[ge-1] {
			return false
		}
		gs--
		ge--
		cx[gs] = true
		cx[ge] = false
		for gs > 0 && cx[gs-1] {
			gs--
		}
		prevOther()
		return true
	}
	down := func() bool {
		if ge == n || x[gs] != x[ge] {
			return false
		}
		cx[gs] = false
		cx[ge] = true
		gs++
		ge++
		for ge < n && cx[ge] {
			ge++
		}
		nextOther()
		return true
	}
	for {
		if ge > gs {
			var earliest, matchEnd int
			for {
				size := ge - gs
				matchEnd = -1
				for up() {
				}
				earliest = ge
				if oe > os {
					matchEnd = ge
				}
				for down() {
					if oe > os {
						matchEnd = ge
					}
				}
				if size == ge-gs {
					break
				}
			}
			if ge != earliest && matchEnd != -1 {
				for oe == os {
					if !up() {
						panic("merge: slide lost its alignment")
					}
				}
			}
		}
		if ge == n {
			break
		}
		gs = ge + 1
		ge = gs
		for ge < n && cx[ge] {
			ge++
		}
		nextOther()
	}
}

// buildHunks turns changed flags into hunks: maximal runs of changed lines
// between consecutive pairs of unchanged (matched) lines.
func buildHunks(ca, cb []bool) []hunk {
	var hs []hunk
	i, j := 0, 0
	for i < len(ca) || j < len(cb) {
		if i < len(ca) && j < len(cb) && !ca[i] && !cb[j] {
			i++
			j++
			continue
		}
		h := hunk{A0: i, B0: j}
		for i < len(ca) && ca[i] {
			i++
		}
		for j < len(cb) && cb[j] {
			j++
		}
		h.A1, h.B1 = i, j
		if h.A0 == h.A1 && h.B0 == h.B1 {
			panic("merge: unchanged lines out of step")
		}
		hs = append(hs, h)
	}
	return hs
}
