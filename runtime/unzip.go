package runtime

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxUnzippedBytes bounds what an action archive may expand to.
const maxUnzippedBytes = 1 << 30

// unzip extracts an action archive into dir, refusing entries that would
// land outside it and archives that expand past maxUnzippedBytes.
func unzip(data []byte, dir string) error {
	return unzipLimited(data, dir, maxUnzippedBytes)
}

// unzipLimited refuses an archive from its declared sizes before writing
// anything, and counts what each entry really expands to while extracting,
// so that a size the archive lies about cannot write past limit either.
func unzipLimited(data []byte, dir string, limit int64) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("reading the zip archive: %w", err)
	}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if f.UncompressedSize64 > uint64(limit) || declared > uint64(limit) {
			return fmt.Errorf("zip entry %q: declares %d bytes, %d with the entries before it: past the limit of %d bytes an action's files may expand to",
				f.Name, f.UncompressedSize64, declared, limit)
		}
	}
	budget := limit
	for _, f := range zr.File {
		name := filepath.Clean(filepath.FromSlash(f.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("zip entry %q: escapes the action directory: entries must be relative paths inside it", f.Name)
		}
		target := filepath.Join(dir, name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("zip entry %q: %w", f.Name, err)
			}
			continue
		}
		n, err := extractFile(f, target, budget, limit)
		if err != nil {
			return err
		}
		budget -= n
	}
	return nil
}

// extractFile writes one entry, at most budget bytes of it and never more
// than it declares; limit is for the message.
func extractFile(f *zip.File, target string, budget, limit int64) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	mode := f.Mode().Perm() | 0o600
	out, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	// One byte more than allowed shows that there is more, without
	// writing more than that byte.
	allowed := min(budget, int64(min(f.UncompressedSize64, uint64(limit))))
	n, err := io.Copy(out, io.LimitReader(rc, allowed+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, zip.ErrFormat) || (err == nil && n > int64(f.UncompressedSize64)):
		// archive/zip stops reading an entry at its declared size.
		return n, fmt.Errorf("zip entry %q: holds more than the %d bytes it declares: the archive is corrupt or crafted", f.Name, f.UncompressedSize64)
	case err != nil:
		return n, fmt.Errorf("zip entry %q: %w", f.Name, err)
	case n > budget:
		return n, fmt.Errorf("zip entry %q: expands past the limit of %d bytes an action's files may expand to (%d bytes were left for it)", f.Name, limit, budget)
	}
	return n, nil
}
