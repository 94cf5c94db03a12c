package jscheck

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxExamined bounds the bytes of JavaScript Check parses for one action,
// in all its files: parsing costs about 20 times the source's size in
// memory while it runs (a 10 MB file: 190 MB, about 2 s on a busy core),
// and the server checks code while it holds the PUT. Code past the bound
// is not examined; the runtime's require still explains itself at run
// time.
const maxExamined = 8 << 20

// largeSource is the size from which parses take turns (largeParses): a
// few PUTs of large code at once must not each hold a parse's memory.
const largeSource = 1 << 20

var largeParses = make(chan struct{}, 1)

// maxListed bounds the calls an Error lists.
const maxListed = 3

// Error is action code that calls require: Calls (at most maxListed of
// them, in source order) are those of File, the first file that makes any,
// the entry file first.
type Error struct {
	File  string // the file's path in the zip; "" for code that is one file
	Entry string // the zip's entry file; "" for code that is one file
	Calls []Call
	More  int // calls of File not listed
}

// Error lists the calls ("index.js:3:11 calls require("./lib"), ...") and,
// for a file other than the entry, why that matters too.
func (e *Error) Error() string {
	var sb strings.Builder
	for i, c := range e.Calls {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(c.Where(e.File) + " calls " + c.Asked())
	}
	if e.More > 0 {
		fmt.Fprintf(&sb, " and %d more call(s) of require", e.More)
	}
	if e.Entry != "" && e.File != e.Entry {
		fmt.Fprintf(&sb, " (the runtime loads only the zip's entry file %s, so %s could only run through a require)", e.Entry, e.File)
	}
	return sb.String()
}

// Check examines action code as the built-in runtime loads it: JavaScript
// text, or with binary set, base64 of JavaScript text or of a zip of
// JavaScript files (whose entry is EntryName's). Every .js and .cjs file of
// a zip counts, the entry first. Native code (an ELF executable, or a zip
// with an exec file at its root) is not JavaScript and passes, and so does
// code that does not decode or parse: the runtime reports that at /init,
// as it does today. Code past maxExamined is not examined. The result is
// nil unless a file calls require.
func Check(code string, binary bool) *Error {
	return check(code, binary, maxExamined)
}

// check is Check with the bound of the examined bytes as a parameter: a
// zip's files count from their declared size, whether they are parsed or
// not, so that an archive cannot make the server inflate more than that.
func check(code string, binary bool, examined int) *Error {
	if !binary {
		return checkFile("", "", code, examined)
	}
	ra, size, err := openBinary(code)
	if err != nil {
		return nil
	}
	head := make([]byte, 4)
	if n, _ := ra.ReadAt(head, 0); bytes.Equal(head[:n], []byte("\x7fELF")) {
		return nil
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		// Binary but not an archive: JavaScript text.
		if size > int64(examined) {
			return nil
		}
		text := make([]byte, size)
		if _, err := ra.ReadAt(text, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil
		}
		return checkFile("", "", string(text), examined)
	}
	if ZipEntry(zr, "exec") != nil {
		return nil
	}
	entry, err := EntryName(zr)
	if err != nil {
		return nil
	}
	files := make([]*zip.File, 0, len(zr.File))
	if f := ZipEntry(zr, entry); f != nil {
		files = append(files, f)
	}
	for _, f := range zr.File {
		if f.Name != entry && !f.FileInfo().IsDir() && (strings.HasSuffix(f.Name, ".js") || strings.HasSuffix(f.Name, ".cjs")) {
			files = append(files, f)
		}
	}
	budget := uint64(examined)
	for _, f := range files {
		if f.UncompressedSize64 > budget {
			continue
		}
		budget -= f.UncompressedSize64
		src, err := readLimited(f)
		if err != nil {
			continue
		}
		if e := checkFile(f.Name, entry, string(src), examined); e != nil {
			return e
		}
	}
	return nil
}

// checkFile parses src when it may call require at all (a call needs the
// name, written out or with a unicode escape) and has at most limit bytes.
func checkFile(file, entry, src string, limit int) *Error {
	if len(src) > limit || !strings.Contains(src, "require") && !strings.Contains(src, `\u`) {
		return nil
	}
	if len(src) >= largeSource {
		largeParses <- struct{}{}
		defer func() { <-largeParses }()
	}
	calls, err := Requires(file, src)
	if err != nil || len(calls) == 0 {
		return nil
	}
	e := &Error{File: file, Entry: entry, Calls: calls}
	if len(calls) > maxListed {
		e.Calls, e.More = calls[:maxListed], len(calls)-maxListed
	}
	return e
}

// EntryName is the file of a zipped JavaScript action that the built-in
// runtime loads: package.json's "main" (without a leading "./"), else
// index.js. The runtime has no require, so that one file must hold the
// whole action.
func EntryName(zr *zip.Reader) (string, error) {
	f := ZipEntry(zr, "package.json")
	if f == nil {
		return "index.js", nil
	}
	pkg, err := readLimited(f)
	if err != nil {
		return "", err
	}
	var meta struct {
		Main string `json:"main"`
	}
	if err := json.Unmarshal(pkg, &meta); err != nil {
		return "", fmt.Errorf("package.json is not valid JSON: %w", err)
	}
	if meta.Main == "" {
		return "index.js", nil
	}
	return strings.TrimPrefix(meta.Main, "./"), nil
}

// openBinary gives the bytes that binary code encodes. Code as the server
// sends it (base64 without line breaks) is read in place; other code is
// decoded whole, as the runtime decodes it.
func openBinary(code string) (io.ReaderAt, int64, error) {
	text := strings.TrimSpace(code)
	if !strings.ContainsAny(text, "\r\n") {
		if ra, err := newBase64ReaderAt(text); err == nil {
			return ra, ra.size, nil
		}
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(raw), int64(len(raw)), nil
}

// ZipEntry is the file of zr at name, or nil; the runtime looks entries up
// with it too, so that the check and the runtime read the same files.
func ZipEntry(zr *zip.Reader, name string) *zip.File {
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// readLimited reads a zip file, refusing one that holds more than it
// declares.
func readLimited(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", f.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(f.UncompressedSize64, maxExamined)))
	n, err := buf.ReadFrom(io.LimitReader(rc, int64(min(f.UncompressedSize64, maxExamined))+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", f.Name, err)
	}
	if uint64(n) > f.UncompressedSize64 {
		return nil, errors.New("zip entry " + strconv.Quote(f.Name) + " holds more than it declares")
	}
	return buf.Bytes(), nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func quote(s string) string { return strconv.Quote(s) }
