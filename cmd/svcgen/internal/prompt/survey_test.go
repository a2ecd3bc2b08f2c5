package prompt

import (
	"errors"
	"io"
	"os"
	"testing"
)

func TestEOTReaderEndsInputAtCtrlD(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.Write([]byte("ab\x04cd"))
	w.Close()
	er := &eotReader{f: r}
	buf := make([]byte, 16)
	n, err := er.Read(buf)
	if string(buf[:n]) != "ab" || err != nil {
		t.Fatalf("first read = %q, %v; want the bytes before Ctrl-D", buf[:n], err)
	}
	for range 2 {
		if n, err := er.Read(buf); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("read after Ctrl-D = %d, %v; want EOF for good", n, err)
		}
	}
	if !errors.Is(ErrEOF, io.EOF) {
		t.Error("ErrEOF does not wrap io.EOF")
	}
}
