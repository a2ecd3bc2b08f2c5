package merge

// splitLines splits b after every '\n'. Each element keeps its terminator, so
// every line but possibly the last ends in '\n', and the last one lacks it
// exactly when b has no trailing newline. Keeping the terminator inside the
// line is what makes "x" and "x\n" (and "x\r\n") different lines, as they are
// for git's xdiff, and lets the merge reproduce its inputs byte for byte:
// joining the lines gives b back. An empty b has no lines.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			n++
		}
	}
	lines := make([]string, 0, n+1)
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			lines = append(lines, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// interner maps each distinct line to a small integer, so that the diff
// compares ints instead of strings and can index tables by line identity.
type interner struct {
	ids map[string]int
}

func newInterner() *interner { return &interner{ids: make(map[string]int)} }

// intern returns the ids of lines, assigning new ids to unseen lines.
func (in *interner) intern(lines []string) []int {
	out := make([]int, len(lines))
	for i, l := range lines {
		id, ok := in.ids[l]
		if !ok {
			id = len(in.ids)
			in.ids[l] = id
		}
		out[i] = id
	}
	return out
}

// size is one more than the largest id handed out so far.
func (in *interner) size() int { return len(in.ids) }

// hasAlnum reports whether any of lines contains an ASCII letter or digit.
// git merge-file (its XDL_MERGE_ZEALOUS_ALNUM level) uses this to decide
// whether the lines separating two conflicts carry meaning; git's ctype is
// ASCII-only, so bytes >= 0x80 never count.
func hasAlnum(lines []string) bool {
	for _, l := range lines {
		for i := 0; i < len(l); i++ {
			c := l[i]
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				return true
			}
		}
	}
	return false
}
