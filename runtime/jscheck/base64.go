package jscheck

import (
	"encoding/base64"
	"errors"
	"io"
)

// base64ReaderAt reads the bytes that standard base64 text encodes without
// decoding all of it: Check opens a zip sent as base64 in place, so that a
// large archive does not cost a decoded copy on top of the PUT's body.
// Every 4 characters encode 3 bytes, so any byte range maps to a span of
// whole quanta.
type base64ReaderAt struct {
	text string // standard base64 with padding, no whitespace
	size int64
}

var errBadBase64 = errors.New("not standard base64 without whitespace")

func newBase64ReaderAt(text string) (*base64ReaderAt, error) {
	if len(text)%4 != 0 {
		return nil, errBadBase64
	}
	size := int64(len(text)) / 4 * 3
	for i := len(text) - 1; i >= 0 && i >= len(text)-2 && text[i] == '='; i-- {
		size--
	}
	return &base64ReaderAt{text: text, size: size}, nil
}

func (r *base64ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size)
	first, last := off/3, (end+2)/3 // quanta to decode
	buf := make([]byte, (last-first)*3)
	n, err := base64.StdEncoding.Decode(buf, []byte(r.text[first*4:last*4]))
	if err != nil {
		return 0, errBadBase64
	}
	copied := copy(p, buf[off-first*3:n])
	if int64(copied) < int64(len(p)) {
		return copied, io.EOF
	}
	return copied, nil
}
