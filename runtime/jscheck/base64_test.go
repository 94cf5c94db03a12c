package jscheck

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"testing"
)

// TestBase64ReaderAt reads every range of every length of data up to 3
// quanta plus padding, and compares with the decoded bytes.
func TestBase64ReaderAt(t *testing.T) {
	data := []byte("\x00\xffzip\x7fELF-bytes!")
	for n := 0; n <= len(data); n++ {
		want := data[:n]
		ra, err := newBase64ReaderAt(base64.StdEncoding.EncodeToString(want))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if ra.size != int64(n) {
			t.Fatalf("%d bytes: size %d", n, ra.size)
		}
		for off := 0; off <= n+1; off++ {
			for l := 0; l <= n+2; l++ {
				p := make([]byte, l)
				got, err := ra.ReadAt(p, int64(off))
				wantN := max(0, min(l, n-off))
				if got != wantN || !bytes.Equal(p[:got], want[min(off, n):min(off, n)+wantN]) {
					t.Fatalf("%d bytes: ReadAt(%d bytes, %d) = %d %q, want %d", n, l, off, got, p[:got], wantN)
				}
				if (wantN < l || off >= n) != errors.Is(err, io.EOF) { // as bytes.Reader
					t.Fatalf("%d bytes: ReadAt(%d bytes, %d) error %v", n, l, off, err)
				}
			}
		}
	}
	if _, err := newBase64ReaderAt("abc"); err == nil {
		t.Error("a length that is not a multiple of 4 was accepted")
	}
	ra, _ := newBase64ReaderAt("%%%%")
	if _, err := ra.ReadAt(make([]byte, 1), 0); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("bad characters: error %v", err)
	}
}
