package runtime

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// craftedEntry is one entry of a crafted archive: data is what it holds,
// declared what its headers say it expands to (-1: the truth).
type craftedEntry struct {
	name     string
	data     []byte
	declared int64
}

func craftZip(t *testing.T, entries ...craftedEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		var comp bytes.Buffer
		fw, err := flate.NewWriter(&comp, flate.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(e.data)
		_ = fw.Close()
		size := uint64(len(e.data))
		if e.declared >= 0 {
			size = uint64(e.declared)
		}
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: e.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(e.data),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: size,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(comp.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// written sums the sizes of the files under dir.
func written(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func TestUnzipLimits(t *testing.T) {
	const limit = 1000
	zeros := func(n int) []byte { return make([]byte, n) }
	tests := []struct {
		name       string
		entries    []craftedEntry
		wantErr    string // "" for success
		maxWritten int64
	}{
		{"fits", []craftedEntry{{"exec", zeros(600), -1}, {"lib/a", zeros(400), -1}}, "", limit},
		{"one entry declares too much", []craftedEntry{{"exec", zeros(2000), -1}},
			`zip entry "exec": declares 2000 bytes, 2000 with the entries before it: past the limit of 1000 bytes`, 0},
		{"entries declare too much together", []craftedEntry{{"exec", zeros(600), -1}, {"big", zeros(600), -1}},
			`zip entry "big": declares 600 bytes, 1200 with the entries before it: past the limit of 1000 bytes`, 0},
		{"declared size lies", []craftedEntry{{"bomb", zeros(50000), 10}},
			`zip entry "bomb": holds more than the 10 bytes it declares`, 11},
		{"escapes the directory", []craftedEntry{{"../exec", zeros(1), -1}}, "escapes the action directory", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := unzipLimited(craftZip(t, tt.entries...), dir, limit)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unzip: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("unzip error = %v, want one containing %q", err, tt.wantErr)
			}
			if n := written(t, dir); n > tt.maxWritten {
				t.Errorf("%d bytes written, want at most %d", n, tt.maxWritten)
			}
		})
	}
}

// The count while extracting stops an entry at what is left of the limit,
// whatever the declarations said.
func TestExtractFileStopsAtBudget(t *testing.T) {
	data := craftZip(t, craftedEntry{"exec", make([]byte, 500), -1})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "exec")
	_, err = extractFile(zr.File[0], target, 100, 1000)
	want := `zip entry "exec": expands past the limit of 1000 bytes an action's files may expand to (100 bytes were left for it)`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if fi, err := os.Stat(target); err != nil || fi.Size() > 101 {
		t.Errorf("wrote %v bytes (%v), want at most 101", fi.Size(), err)
	}
}
