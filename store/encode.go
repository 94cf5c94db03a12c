package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// An action's code may be tens of megabytes. json.Marshal would grow its
// pooled buffer by doubling to hold it, copy the result, and keep the grown
// buffer in its pool (so one 45 MB action cost about 200 MB and much of it
// stayed). The functions here produce exactly json.Marshal's bytes but
// write the code on its own: copied as it is when it needs no escaping
// (base64 archives), otherwise escaped by encoding/json in small pieces.

// codeChunk is the size of the pieces escaped at a time.
const codeChunk = 64 << 10

// execKindKey precedes the kind in an encoded action; the code follows the
// kind (store.Exec's field order). The quote before exec cannot occur
// unescaped inside an encoded string, so its first occurrence is the field.
var execKindKey = []byte(`"exec":{"kind":`)

// encodeParts encodes a without its code and returns the encoding and where
// the code goes in it.
func (a *Action) encodeParts() (skeleton []byte, at int, err error) {
	c := *a
	c.Exec.Code = nil
	skeleton, err = json.Marshal(&c)
	if err != nil {
		return nil, 0, err
	}
	kind, err := json.Marshal(a.Exec.Kind)
	if err != nil {
		return nil, 0, err
	}
	i := bytes.Index(skeleton, execKindKey)
	if i < 0 || !bytes.HasPrefix(skeleton[i+len(execKindKey):], kind) {
		return nil, 0, errors.New("store: encode action: exec.kind not where expected")
	}
	return skeleton, i + len(execKindKey) + len(kind), nil
}

// MarshalAction returns json.Marshal(a) without json.Marshal's cost for a
// large code string: the result is allocated once, at its final size when
// the code needs no escaping.
func MarshalAction(a *Action) ([]byte, error) {
	skeleton, at, err := a.encodeParts()
	if err != nil {
		return nil, err
	}
	if a.Exec.Code == nil {
		return skeleton, nil
	}
	code := *a.Exec.Code
	out := make([]byte, 0, len(skeleton)+len(`,"code":""`)+len(code)+len(code)/16)
	out = append(out, skeleton[:at]...)
	out = append(out, `,"code":`...)
	out = appendJSONString(out, code)
	return append(out, skeleton[at:]...), nil
}

// WriteAction writes json.Marshal(a) to w, streaming the code, and returns
// the number of bytes written.
func WriteAction(w io.Writer, a *Action) (written int64, err error) {
	skeleton, at, err := a.encodeParts()
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: w}
	_, _ = cw.Write(skeleton[:at])
	if a.Exec.Code != nil {
		_, _ = cw.Write([]byte(`,"code":`))
		writeJSONString(cw, *a.Exec.Code)
	}
	_, _ = cw.Write(skeleton[at:])
	return cw.n, cw.err
}

// ActionSize is the length of json.Marshal(a), computed without holding it.
func ActionSize(a *Action) (int64, error) {
	return WriteAction(io.Discard, a)
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// WriteString spares io.WriteString's conversion, which would copy a
// whole code string: the string goes to w as it is when w takes strings,
// else through a small buffer.
func (c *countingWriter) WriteString(s string) (int, error) {
	if sw, ok := c.w.(io.StringWriter); ok {
		if c.err != nil {
			return 0, c.err
		}
		n, err := sw.WriteString(s)
		c.n += int64(n)
		c.err = err
		return n, err
	}
	var buf [4096]byte
	written := 0
	for len(s) > 0 && c.err == nil {
		k := copy(buf[:], s)
		n, _ := c.Write(buf[:k])
		written += n
		s = s[k:]
	}
	return written, c.err
}

// plain reports whether json.Marshal writes s unchanged between quotes:
// printable ASCII other than the quote, the backslash and the HTML
// characters it escapes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= utf8.RuneSelf, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

func appendJSONString(dst []byte, s string) []byte {
	w := sliceWriter{dst}
	writeJSONString(&w, s)
	return w.b
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *sliceWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

// writeJSONString writes s as json.Marshal would, a piece at a time.
// Pieces end before a byte that starts a UTF-8 sequence, so no valid
// sequence is split; encoding/json replaces each byte of an invalid one
// on its own, so splitting those changes nothing either.
func writeJSONString(w io.Writer, s string) {
	if plain(s) {
		_, _ = io.WriteString(w, `"`)
		_, _ = io.WriteString(w, s)
		_, _ = io.WriteString(w, `"`)
		return
	}
	_, _ = io.WriteString(w, `"`)
	for len(s) > 0 {
		n := min(codeChunk, len(s))
		// At most 3 continuation bytes follow a start byte: beyond that,
		// the bytes are invalid and may be split anywhere.
		for back := 0; n < len(s) && !utf8.RuneStart(s[n]) && back < utf8.UTFMax; back++ {
			n--
		}
		piece, _ := json.Marshal(s[:n]) // a string always encodes
		_, _ = w.Write(piece[1 : len(piece)-1])
		s = s[n:]
	}
	_, _ = io.WriteString(w, `"`)
}
