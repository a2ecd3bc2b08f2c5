package merge

import (
	"bytes"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
)

// Unified returns a unified diff from old to new with three lines of context,
// as shown by `svcgen diff` and `--dry-run`, or "" when they are equal.
//
// The headers are "--- a/<oldName>" and "+++ b/<newName>", the form git and
// patch -p1 expect; an empty name stands for a file that does not exist on
// that side and is written as /dev/null (a file svcgen would create or
// delete). A last line without newline is marked "\ No newline at end of
// file".
//
// The line alignment is the same minimal diff the merge uses; go-udiff
// formats it. (go-udiff's own alignment gives up on minimality after about
// 100 edits, see diff.go.)
func Unified(oldName, newName string, old, new []byte) string {
	if bytes.Equal(old, new) {
		return ""
	}
	in := newInterner()
	ol, nl := splitLines(old), splitLines(new)
	hs := diffIDs(in.intern(ol), in.intern(nl), in.size())

	// go-udiff takes byte-offset edits of old.
	offsets := make([]int, len(ol)+1)
	for i, l := range ol {
		offsets[i+1] = offsets[i] + len(l)
	}
	edits := make([]udiff.Edit, len(hs))
	for k, h := range hs {
		edits[k] = udiff.Edit{
			Start: offsets[h.A0],
			End:   offsets[h.A1],
			New:   strings.Join(nl[h.B0:h.B1], ""),
		}
	}
	out, err := udiff.ToUnified(header("a/", oldName), header("b/", newName), string(old), edits, udiff.DefaultContextLines)
	if err != nil {
		// The edits are sorted, disjoint and line-aligned by construction.
		panic("merge: unified diff: " + err.Error())
	}
	return out
}

func header(prefix, name string) string {
	if name == "" {
		return "/dev/null"
	}
	return prefix + name
}
