// Package merge is svcgen's three-way text merge and unified diff.
//
// When svcgen regenerates a file its owner has edited, it merges three
// versions: base (what the generator wrote last time), ours (the file on disk,
// with the owner's edits) and theirs (what the generator writes now). Merge
// keeps every change either side made; where both sides changed the same
// place differently it writes git-style conflict markers instead of guessing,
// so an edit is never lost silently (see "Regeneration: never lose an edit"
// in the design document).
//
// No diff3 module for Go is available, so this is a line-based diff3 written
// to behave like `git merge-file` in its default configuration, which the
// tests cross-check it against: same conflict rules, same marker format,
// same handling of missing trailing newlines and CRLF files, byte-identical
// output whenever the line alignment is unambiguous. Where lines repeat,
// several alignments of a side against base can be equally good; Merge
// normalizes them like git does (moving ambiguous changes down unless that
// splits a replacement) and then usually, but not always, picks the same one
// as git. Merge's line diff is always minimal (a longest common
// subsequence), while git's gives up minimality on very large or very
// repetitive inputs. Either way a different alignment can only move where a
// change is and so whether it conflicts; it never drops an edit.
package merge

import "strings"

// Labels name the sides in conflict markers, like `git merge-file -L`.
// Ours follows "<<<<<<< " and Theirs follows ">>>>>>> ". Base is not printed by
// the default (non-diff3) conflict style; it is part of the type so callers
// name all three inputs in one place. An empty label leaves the marker bare
// ("<<<<<<<" with no trailing space). Labels must not contain newlines.
type Labels struct {
	Ours, Base, Theirs string
}

// Result is the outcome of Merge.
type Result struct {
	// Bytes is the merged file. When Conflicts > 0 it contains conflict
	// blocks and must not be treated as a finished file.
	Bytes []byte
	// Conflicts is the number of conflict blocks in Bytes. It is what git
	// merge-file reports as its exit status (which git caps at 127).
	Conflicts int
}

// Clean reports whether the merge had no conflicts.
func (r Result) Clean() bool { return r.Conflicts == 0 }

// Merge merges the changes from base to ours and from base to theirs.
//
// Files are compared as lines split after '\n'; line contents are compared
// byte for byte (CR, trailing whitespace and a missing final newline all
// count), and output is assembled from the input lines unchanged, so a clean
// merge never alters bytes neither side changed.
//
// The rules, which are git merge-file's (level "zealous-alnum", default
// conflict style):
//
//   - If one side did not change base at all, the result is the other side.
//   - A change (a run of base lines replaced by a run of new lines, possibly
//     empty) made by only one side is applied.
//   - Changes of the two sides whose base ranges overlap or touch conflict;
//     touching includes being adjacent, and two insertions at the same place.
//     Git does the same: changes to neighbouring lines cannot be merged
//     safely without understanding them. Chains of such changes form one
//     conflict.
//   - Exception: both sides making the identical change is not a conflict;
//     the change is applied once. More generally, where a conflicting
//     region's ours and theirs text are identical, it is taken as is.
//   - A conflict is narrowed to the lines where ours and theirs really
//     differ (the lines both sides agree on are written once, outside the
//     markers), and conflicts separated by at most three lines, or only by
//     lines without letters or digits, are joined into one.
//
// A conflict is written as
//
//	<<<<<<< {labels.Ours}
//	ours' lines
//	=======
//	theirs' lines
//	>>>>>>> {labels.Theirs}
//
// where a side's last line gets a newline if it lacks one (so a marker
// always starts a line). Marker lines (and such added newlines) end in
// "\r\n" instead of "\n" in CRLF files, by git's rule: when neither ours nor
// theirs has an LF-only line just before the conflict (or as first line)
// and base's first line ends in CRLF.
func Merge(base, ours, theirs []byte, labels Labels) Result {
	in := newInterner()
	bl, ol, tl := splitLines(base), splitLines(ours), splitLines(theirs)
	b, o, t := in.intern(bl), in.intern(ol), in.intern(tl)

	dOurs := diffIDs(b, o, in.size())
	dTheirs := diffIDs(b, t, in.size())
	if len(dOurs) == 0 {
		return Result{Bytes: clone(theirs)}
	}
	if len(dTheirs) == 0 {
		return Result{Bytes: clone(ours)}
	}

	regions := collate(dOurs, dTheirs, o, t)
	regions = refine(regions, o, t, in.size())
	regions = joinConflicts(regions, ol)
	return render(regions, bl, ol, tl, labels, len(ours)+len(theirs))
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

type regionKind uint8

const (
	takeOurs   regionKind = iota // only ours changed here
	takeTheirs                   // only theirs changed here
	conflict                     // both changed, differently
	same                         // both changed, to the same text: keep ours
)

// region is a stretch of the merge where something happened, as line ranges
// of ours [O0, O1) and theirs [T0, T1). Regions are sorted; between them,
// ours and theirs read the same (untouched lines, or a change both sides
// made identically), and ours' lines are copied through.
type region struct {
	Kind   regionKind
	O0, O1 int
	T0, T1 int
}

// collate walks the hunks of both diffs in base order and groups hunks whose
// base ranges overlap or touch (as closed intervals) into regions.
//
// Two hunks of the same side never touch (a diff separates its hunks by at
// least one unchanged line), so a group with a single hunk is a one-sided
// change, and anything larger involves both sides. A pair of hunks with the
// same base range and the same new text is an identical change and yields
// no region at all: git's merge drops it the same way, which matters for
// joinConflicts (a region of kind same would keep two conflicts apart, an
// identical change does not).
func collate(dOurs, dTheirs []hunk, o, t []int) []region {
	var regions []region
	i, j := 0, 0
	offO, offT := 0, 0 // line offset ours-base and theirs-base before the group
	for i < len(dOurs) || j < len(dTheirs) {
		// Start the group with the hunk that starts first, then absorb
		// hunks of either side while they start at or before its end.
		i0, j0 := i, j
		var lo, hi int
		if j == len(dTheirs) || i < len(dOurs) && dOurs[i].A0 <= dTheirs[j].A0 {
			lo, hi = dOurs[i].A0, dOurs[i].A1
			i++
		} else {
			lo, hi = dTheirs[j].A0, dTheirs[j].A1
			j++
		}
		for {
			if i < len(dOurs) && dOurs[i].A0 <= hi {
				hi = max(hi, dOurs[i].A1)
				i++
			} else if j < len(dTheirs) && dTheirs[j].A0 <= hi {
				hi = max(hi, dTheirs[j].A1)
				j++
			} else {
				break
			}
		}
		endO, endT := offO, offT
		if i > i0 {
			endO = dOurs[i-1].B1 - dOurs[i-1].A1
		}
		if j > j0 {
			endT = dTheirs[j-1].B1 - dTheirs[j-1].A1
		}
		r := region{O0: lo + offO, O1: hi + endO, T0: lo + offT, T1: hi + endT}
		switch {
		case j == j0:
			r.Kind = takeOurs
		case i == i0:
			r.Kind = takeTheirs
		case i-i0 == 1 && j-j0 == 1 && identical(dOurs[i0], dTheirs[j0], o, t):
			offO, offT = endO, endT
			continue
		default:
			r.Kind = conflict
		}
		regions = append(regions, r)
		offO, offT = endO, endT
	}
	return regions
}

// identical reports whether two hunks make the same change to base.
func identical(ho, ht hunk, o, t []int) bool {
	if ho.A0 != ht.A0 || ho.A1 != ht.A1 || ho.B1-ho.B0 != ht.B1-ht.B0 {
		return false
	}
	for k := range ho.B1 - ho.B0 {
		if o[ho.B0+k] != t[ht.B0+k] {
			return false
		}
	}
	return true
}

// refine narrows each conflict to where ours and theirs differ, by diffing
// ours' text of the conflict against theirs'. Lines the diff matches are
// written once, between the resulting smaller conflicts; if there is no
// difference at all the region becomes kind same. A conflict where one side
// is empty (one side deleted what the other changed) stays as it is, as in
// git.
func refine(regions []region, o, t []int, nids int) []region {
	out := regions[:0:0]
	for _, r := range regions {
		if r.Kind != conflict || r.O0 == r.O1 || r.T0 == r.T1 {
			out = append(out, r)
			continue
		}
		hs := diffIDs(o[r.O0:r.O1], t[r.T0:r.T1], nids)
		if len(hs) == 0 {
			r.Kind = same
			out = append(out, r)
			continue
		}
		for _, h := range hs {
			out = append(out, region{Kind: conflict,
				O0: r.O0 + h.A0, O1: r.O0 + h.A1,
				T0: r.T0 + h.B0, T1: r.T0 + h.B1})
		}
	}
	return out
}

// joinConflicts joins consecutive conflicts separated by at most three lines,
// or by lines without any ASCII letter or digit (blank lines, braces), into
// one conflict covering the lines between. Two conflicts that close together
// are easier to resolve as one, and it is what git does.
func joinConflicts(regions []region, ol []string) []region {
	out := regions[:0:0]
	for _, r := range regions {
		if n := len(out); n > 0 && r.Kind == conflict && out[n-1].Kind == conflict {
			prev := &out[n-1]
			if between := ol[prev.O1:r.O0]; len(between) <= 3 || !hasAlnum(between) {
				prev.O1, prev.T1 = r.O1, r.T1
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// render writes the merge result: ours' lines outside regions, and per region
// the side that changed, or conflict markers.
func render(regions []region, bl, ol, tl []string, labels Labels, sizeHint int) Result {
	var sb strings.Builder
	sb.Grow(sizeHint/2 + 64)
	write := func(lines []string) {
		for _, l := range lines {
			sb.WriteString(l)
		}
	}
	conflicts := 0
	pos := 0 // next line of ours to copy
	for _, r := range regions {
		switch r.Kind {
		case same:
			continue // its lines are ours' and get copied with what follows
		case takeOurs:
			write(ol[pos:r.O1])
		case takeTheirs:
			write(ol[pos:r.O0])
			write(tl[r.T0:r.T1])
		case conflict:
			conflicts++
			write(ol[pos:r.O0])
			eol := "\n"
			if needsCR(bl, ol, tl, r) {
				eol = "\r\n"
			}
			marker(&sb, "<<<<<<<", labels.Ours, eol)
			side(&sb, ol[r.O0:r.O1], eol)
			marker(&sb, "=======", "", eol)
			side(&sb, tl[r.T0:r.T1], eol)
			marker(&sb, ">>>>>>>", labels.Theirs, eol)
		}
		pos = r.O1
	}
	write(ol[pos:])
	return Result{Bytes: []byte(sb.String()), Conflicts: conflicts}
}

func marker(sb *strings.Builder, m, label, eol string) {
	sb.WriteString(m)
	if label != "" {
		sb.WriteByte(' ')
		sb.WriteString(label)
	}
	sb.WriteString(eol)
}

// side writes one side of a conflict. A file's last line may lack a newline;
// inside a conflict it gets one, or the next marker would not start a line.
func side(sb *strings.Builder, lines []string, eol string) {
	for _, l := range lines {
		sb.WriteString(l)
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		sb.WriteString(eol)
	}
}

// needsCR decides whether a conflict's marker lines (and a newline added to a
// side's unterminated last line) end in CRLF, by git's rule: CRLF only if the
// line before the conflict in ours (or ours' first line) does not end in LF
// alone, the same holds in theirs, and base's first line ends in CRLF. So a
// CRLF file gets CRLF markers and an LF or mixed file gets LF ones.
func needsCR(bl, ol, tl []string, r region) bool {
	before := func(i int) int {
		if i > 0 {
			return i - 1
		}
		return 0
	}
	if eolCRLF(ol, before(r.O0)) == 0 {
		return false
	}
	if eolCRLF(tl, before(r.T0)) == 0 {
		return false
	}
	return eolCRLF(bl, 0) == 1
}

// eolCRLF reports the line ending of lines[i]: 1 for CRLF, 0 for LF, -1 when
// it cannot be told (no lines, or a lone unterminated line). An unterminated
// last line takes the ending of the line before it.
func eolCRLF(lines []string, i int) int {
	if len(lines) == 0 {
		return -1
	}
	l := lines[i]
	if strings.HasSuffix(l, "\n") {
		return b2i(strings.HasSuffix(l, "\r\n"))
	}
	if i == 0 {
		return -1
	}
	return b2i(strings.HasSuffix(lines[i-1], "\r\n"))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
