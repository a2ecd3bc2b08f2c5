package merge

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// mergeCases is the specification by example. Every case is also run through
// git merge-file (when git is installed) and must agree byte for byte.
var mergeCases = []struct {
	name               string
	base, ours, theirs string
	want               string
	conflicts          int
}{
	{
		name: "only ours changed",
		base: "a\nb\nc\n", ours: "a\nB\nc\n", theirs: "a\nb\nc\n",
		want: "a\nB\nc\n",
	},
	{
		name: "only theirs changed",
		base: "a\nb\nc\n", ours: "a\nb\nc\n", theirs: "a\nb\nC\n",
		want: "a\nb\nC\n",
	},
	{
		name: "both changed, far apart",
		base: "1\n2\n3\n4\n5\n", ours: "ONE\n2\n3\n4\n5\n", theirs: "1\n2\n3\n4\nFIVE\n",
		want: "ONE\n2\n3\n4\nFIVE\n",
	},
	{
		name: "both changed, one unchanged line between",
		base: "1\n2\n3\n", ours: "X\n2\n3\n", theirs: "1\n2\nY\n",
		want: "X\n2\nY\n",
	},
	{
		name: "ours inserts, theirs deletes elsewhere",
		base: "a\nb\nc\nd\n", ours: "a\nnew\nb\nc\nd\n", theirs: "a\nb\nc\n",
		want: "a\nnew\nb\nc\n",
	},
	{
		name: "same line changed differently",
		base: "a\nb\nc\n", ours: "a\nB1\nc\n", theirs: "a\nB2\nc\n",
		want:      "a\n<<<<<<< ours\nB1\n=======\nB2\n>>>>>>> theirs\nc\n",
		conflicts: 1,
	},
	{
		name: "adjacent lines changed conflict, as in git",
		base: "1\n2\n3\n4\n", ours: "1\nX\n3\n4\n", theirs: "1\n2\nY\n4\n",
		want:      "1\n<<<<<<< ours\nX\n3\n=======\n2\nY\n>>>>>>> theirs\n4\n",
		conflicts: 1,
	},
	{
		name: "identical change is applied once",
		base: "a\nb\nc\n", ours: "a\nB\nc\n", theirs: "a\nB\nc\n",
		want: "a\nB\nc\n",
	},
	{
		name: "overlapping changes agreeing on a line: that line is outside the conflict",
		base: "a\nb\nc\nd\n", ours: "A\nB\nc\nd\n", theirs: "a\nB\nc\nD\n",
		want:      "<<<<<<< ours\nA\n=======\na\n>>>>>>> theirs\nB\nc\nD\n",
		conflicts: 1,
	},
	{
		name: "insertions at the same place",
		base: "a\nb\n", ours: "a\nX\nb\n", theirs: "a\nY\nb\n",
		want:      "a\n<<<<<<< ours\nX\n=======\nY\n>>>>>>> theirs\nb\n",
		conflicts: 1,
	},
	{
		name: "same insertion on both sides",
		base: "a\nb\n", ours: "a\nX\nb\n", theirs: "a\nX\nb\n",
		want: "a\nX\nb\n",
	},
	{
		name: "insertion touching a change before it",
		base: "a\nb\nc\n", ours: "a\nX\nb\nc\n", theirs: "a\nB\nc\n",
		want:      "a\n<<<<<<< ours\nX\nb\n=======\nB\n>>>>>>> theirs\nc\n",
		conflicts: 1,
	},
	{
		name: "insertion touching a change after it",
		base: "a\nb\nc\n", ours: "a\nb\nX\nc\n", theirs: "a\nB\nc\n",
		want:      "a\n<<<<<<< ours\nb\nX\n=======\nB\n>>>>>>> theirs\nc\n",
		conflicts: 1,
	},
	{
		name: "ours deletes what theirs changes",
		base: "a\nb\nc\n", ours: "a\nc\n", theirs: "a\nB\nc\n",
		want:      "a\n<<<<<<< ours\n=======\nB\n>>>>>>> theirs\nc\n",
		conflicts: 1,
	},
	{
		name: "both delete the same line",
		base: "a\nb\nc\n", ours: "a\nc\n", theirs: "a\nc\n",
		want: "a\nc\n",
	},
	{
		name: "conflict narrowed to the differing lines",
		base: "a\nb\nc\nd\n", ours: "a\nX\nM\nY\nd\n", theirs: "a\nX\nM\nZ\nd\n",
		want:      "a\nX\nM\n<<<<<<< ours\nY\n=======\nZ\n>>>>>>> theirs\nd\n",
		conflicts: 1,
	},
	{
		name:      "conflicts three lines apart are joined",
		base:      "1\n2\n3\n4\n5\n6\n7\n",
		ours:      "A\n2\n3\n4\nE\n6\n7\n",
		theirs:    "a\n2\n3\n4\ne\n6\n7\n",
		want:      "<<<<<<< ours\nA\n2\n3\n4\nE\n=======\na\n2\n3\n4\ne\n>>>>>>> theirs\n6\n7\n",
		conflicts: 1,
	},
	{
		name:   "conflicts four lines apart stay separate",
		base:   "1\n2\n3\n4\n5\n6\n7\n",
		ours:   "A\n2\n3\n4\n5\nF\n7\n",
		theirs: "a\n2\n3\n4\n5\nf\n7\n",
		want: "<<<<<<< ours\nA\n=======\na\n>>>>>>> theirs\n2\n3\n4\n5\n" +
			"<<<<<<< ours\nF\n=======\nf\n>>>>>>> theirs\n7\n",
		conflicts: 2,
	},
	{
		name:   "conflicts separated only by punctuation are joined",
		base:   "a\n}\n\n}\n\n{\nb\n",
		ours:   "A\n}\n\n}\n\n{\nB\n",
		theirs: "a1\n}\n\n}\n\n{\nb1\n",
		want: "<<<<<<< ours\nA\n}\n\n}\n\n{\nB\n=======\n" +
			"a1\n}\n\n}\n\n{\nb1\n>>>>>>> theirs\n",
		conflicts: 1,
	},
	{
		name: "ambiguous deletion slides down like git's and touches",
		base: "a\n}\n}\nb\n", ours: "a\n}\nb\n", theirs: "a\n}\n}\nB\n",
		want:      "a\n}\n<<<<<<< ours\nb\n=======\n}\nB\n>>>>>>> theirs\n",
		conflicts: 1,
	},
	{
		// Ours' diff could keep either blank line of ours; git (and Merge)
		// keep the last one, which makes ours' deletion of "a" the same
		// change as theirs'. A top-most placement would conflict.
		name: "ambiguous insertion placed like git's: clean",
		base: "\na\n", ours: "}\n\n\n", theirs: "\n",
		want: "}\n\n\n",
	},
	{
		name: "ambiguous deletion placed like git's: conflict",
		base: "\na\na\n", ours: "a\n\n", theirs: "\na\n",
		want:      "<<<<<<< ours\na\n\n=======\n\na\n>>>>>>> theirs\n",
		conflicts: 1,
	},
	{
		// Ours replaced a blank line by "b". Which blank line ours deleted is
		// ambiguous; git keeps the deletion lined up with the insertion (one
		// replacement, touching theirs' deletion) rather than sliding it down
		// onto theirs' deletion, so this conflicts.
		name: "ambiguous replacement kept in one piece like git's: conflict",
		base: "\n\n", ours: "b\n\n", theirs: "\n",
		want:      "<<<<<<< ours\nb\n=======\n>>>>>>> theirs\n\n",
		conflicts: 1,
	},
	{
		// The changes overlap, but the overlapping region reads the same on
		// both sides.
		name: "conflicting changes with the same result are no conflict",
		base: "b\n}\nb\nb\n", ours: "b\na\n}\n}\nb\n", theirs: "b\n}\nb\n",
		want: "b\na\n}\n}\nb\n",
	},
	{
		name: "no trailing newline, clean",
		base: "a\nb\nc\nd\ne", ours: "A\nb\nc\nd\ne", theirs: "a\nb\nc\nd\nE",
		want: "A\nb\nc\nd\nE",
	},
	{
		name: "no trailing newline, conflict gets newlines before markers",
		base: "a\nb", ours: "a\nB", theirs: "a\nC",
		want:      "a\n<<<<<<< ours\nB\n=======\nC\n>>>>>>> theirs\n",
		conflicts: 1,
	},
	{
		name: "theirs adds the final newline, ours edits elsewhere",
		base: "a\nb\nc\nd", ours: "A\nb\nc\nd", theirs: "a\nb\nc\nd\n",
		want: "A\nb\nc\nd\n",
	},
	{
		name: "final newline added by one side, a line appended by the other",
		base: "a\nb", ours: "a\nb\n", theirs: "a\nb\nc",
		want:      "a\nb\n<<<<<<< ours\n=======\nc\n>>>>>>> theirs\n",
		conflicts: 1,
	},
	{
		name: "all empty",
	},
	{
		name: "empty base, same content added",
		base: "", ours: "x\n", theirs: "x\n",
		want: "x\n",
	},
	{
		name: "empty base, different content added",
		base: "", ours: "x\n", theirs: "y\n",
		want:      "<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n",
		conflicts: 1,
	},
	{
		name: "ours emptied the file, theirs unchanged",
		base: "a\nb\n", ours: "", theirs: "a\nb\n",
		want: "",
	},
	{
		name: "ours emptied the file, theirs changed it",
		base: "a\nb\n", ours: "", theirs: "a\nB\n",
		want:      "<<<<<<< ours\n=======\na\nB\n>>>>>>> theirs\n",
		conflicts: 1,
	},
	{
		name: "CRLF kept as is",
		base: "a\r\nb\r\nc\r\nd\r\n", ours: "A\r\nb\r\nc\r\nd\r\n", theirs: "a\r\nb\r\nc\r\nD\r\n",
		want: "A\r\nb\r\nc\r\nD\r\n",
	},
	{
		name: "CRLF file gets CRLF markers",
		base: "a\r\nb\r\nc\r\n", ours: "a\r\nB1\r\nc\r\n", theirs: "a\r\nB2\r\nc\r\n",
		want:      "a\r\n<<<<<<< ours\r\nB1\r\n=======\r\nB2\r\n>>>>>>> theirs\r\nc\r\n",
		conflicts: 1,
	},
	{
		name: "CRLF file without final newline",
		base: "a\r\nb", ours: "a\r\nB", theirs: "a\r\nC",
		want:      "a\r\n<<<<<<< ours\r\nB\r\n=======\r\nC\r\n>>>>>>> theirs\r\n",
		conflicts: 1,
	},
	{
		name: "CR only in some lines: LF markers",
		base: "a\nb\r\nc\n", ours: "a\nB\r\nc\n", theirs: "a\nC\r\nc\n",
		want:      "a\n<<<<<<< ours\nB\r\n=======\nC\r\n>>>>>>> theirs\nc\n",
		conflicts: 1,
	},
	{
		name: "CRLF versus LF differences are changes",
		base: "a\nb\nc\nd\n", ours: "a\r\nb\nc\nd\n", theirs: "a\nb\nc\nD\n",
		want: "a\r\nb\nc\nD\n",
	},
}

func TestMerge(t *testing.T) {
	withGit := gitAvailable()
	if !withGit {
		t.Log("git not found: not cross-checking the cases against git merge-file")
	}
	dir := t.TempDir()
	for _, c := range mergeCases {
		t.Run(c.name, func(t *testing.T) {
			got := Merge([]byte(c.base), []byte(c.ours), []byte(c.theirs), testLabels)
			if string(got.Bytes) != c.want || got.Conflicts != c.conflicts {
				t.Errorf("Merge = %d conflicts\n%q\nwant %d\n%q", got.Conflicts, got.Bytes, c.conflicts, c.want)
			}
			if got.Clean() != (c.conflicts == 0) {
				t.Errorf("Clean() = %v with %d conflicts", got.Clean(), got.Conflicts)
			}
			if withGit {
				g := gitMergeFile(t, dir, []byte(c.base), []byte(c.ours), []byte(c.theirs))
				if string(g.out) != c.want || g.conflicts != c.conflicts {
					t.Errorf("git merge-file disagrees with the case: %d conflicts\n%q", g.conflicts, g.out)
				}
			}
		})
	}
}

func TestMergeLabels(t *testing.T) {
	base, ours, theirs := []byte("x\n"), []byte("o\n"), []byte("t\n")
	got := Merge(base, ours, theirs, Labels{Ours: "disk (your edits)", Base: "svcgen 1.2", Theirs: "svcgen 1.3"})
	want := "<<<<<<< disk (your edits)\no\n=======\nt\n>>>>>>> svcgen 1.3\n"
	if string(got.Bytes) != want {
		t.Errorf("got %q, want %q", got.Bytes, want)
	}
	got = Merge(base, ours, theirs, Labels{})
	want = "<<<<<<<\no\n=======\nt\n>>>>>>>\n"
	if string(got.Bytes) != want {
		t.Errorf("empty labels: got %q, want %q", got.Bytes, want)
	}
}

// TestMergeDoesNotAliasInputs checks that callers may modify the result
// without touching their inputs, also on the paths that return one side.
func TestMergeDoesNotAliasInputs(t *testing.T) {
	base, ours, theirs := []byte("a\n"), []byte("b\n"), []byte("a\n")
	r := Merge(base, ours, theirs, testLabels)
	r.Bytes[0] = 'z'
	if string(ours) != "b\n" {
		t.Fatal("result aliases ours")
	}
}

// TestMergeProperties checks the algebra every diff3 must satisfy, on random
// files made of few distinct lines (so alignments are highly ambiguous):
// a side that did not change loses nothing, both sides making the same
// edit is no conflict.
func TestMergeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		b := randomText(rng)
		x := mutate(rng, b)
		y := mutate(rng, b)
		checkProperties(t, b, x, y)
	}
}

// checkProperties asserts, for base b and edited versions x and y:
// merge(b, x, b) == x, merge(b, b, y) == y, merge(b, x, x) == x, all clean;
// and that the merge is symmetric: merge(b, x, y) is clean exactly when
// merge(b, y, x) is, and then they are equal.
func checkProperties(t *testing.T, b, x, y []byte) {
	t.Helper()
	check := func(what string, r Result, want []byte) {
		t.Helper()
		if !r.Clean() || !bytes.Equal(r.Bytes, want) {
			t.Fatalf("%s: %d conflicts, got\n%q\nwant\n%q\nbase %q\nx %q\ny %q", what, r.Conflicts, r.Bytes, want, b, x, y)
		}
	}
	check("merge(b, x, b) == x", Merge(b, x, b, testLabels), x)
	check("merge(b, b, y) == y", Merge(b, b, y, testLabels), y)
	check("merge(b, x, x) == x", Merge(b, x, x, testLabels), x)
	xy := Merge(b, x, y, testLabels)
	yx := Merge(b, y, x, testLabels)
	if xy.Clean() != yx.Clean() || xy.Clean() && !bytes.Equal(xy.Bytes, yx.Bytes) {
		t.Fatalf("merge not symmetric:\nmerge(b, x, y) %d conflicts %q\nmerge(b, y, x) %d conflicts %q\nbase %q\nx %q\ny %q",
			xy.Conflicts, xy.Bytes, yx.Conflicts, yx.Bytes, b, x, y)
	}
}

var smallAlphabet = []string{"a\n", "b\n", "}\n", "\n", "\treturn nil\n", "a\r\n", "c"}

// randomText returns up to 12 lines drawn from smallAlphabet; an element
// without newline only ever ends the text.
func randomText(rng *rand.Rand) []byte {
	var sb strings.Builder
	n := rng.IntN(13)
	for i := range n {
		l := smallAlphabet[rng.IntN(len(smallAlphabet))]
		if !strings.HasSuffix(l, "\n") && i < n-1 {
			l += "\n"
		}
		sb.WriteString(l)
	}
	return []byte(sb.String())
}

// mutate applies a few random line insertions, deletions and replacements.
func mutate(rng *rand.Rand, b []byte) []byte {
	lines := splitLines(b)
	for range rng.IntN(4) {
		p := rng.IntN(len(lines) + 1)
		l := smallAlphabet[rng.IntN(len(smallAlphabet)-1)] // always terminated
		switch rng.IntN(3) {
		case 0:
			lines = append(lines[:p], append([]string{l}, lines[p:]...)...)
		case 1:
			if p < len(lines) {
				lines = append(lines[:p], lines[p+1:]...)
			}
		case 2:
			if p < len(lines) {
				lines[p] = l
			}
		}
	}
	// Only the last line may lack its newline.
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasSuffix(lines[i], "\n") {
			lines[i] += "\n"
		}
	}
	return []byte(strings.Join(lines, ""))
}

func TestSplitLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\n", []string{"\n"}},
		{"a", []string{"a"}},
		{"a\nb", []string{"a\n", "b"}},
		{"a\r\nb\r\n", []string{"a\r\n", "b\r\n"}},
		{"\n\n", []string{"\n", "\n"}},
	} {
		got := splitLines([]byte(c.in))
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
			t.Errorf("splitLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
