package server

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// duplicateKey finds the first object key that appears twice in one object
// of data, which must be valid JSON (encoding/json keeps the last value of
// a repeated key without a word, which once turned a nodejs action into a
// blackbox one). It returns the key's path, e.g. "exec" or
// "parameters[1].key", and the offset of its second occurrence; ok is false
// when every key is unique.
//
// Keys are compared as slices of data (decoded only when escaped), and
// strings are skipped with bytes.IndexByte: a 45 MB code string costs a
// scan, not a copy.
func duplicateKey(data []byte) (path string, offset int, ok bool) {
	s := keyScanner{data: data}
	s.value()
	return s.dupPath, s.dupAt, s.dup
}

type keyScanner struct {
	data    []byte
	pos     int
	dup     bool
	dupPath string
	dupAt   int
	// where is the path to the value being scanned; it is spelled out
	// only when a duplicate is found, so scanning allocates nothing per
	// array element.
	where []pathStep
}

// pathStep is an object key or an array index.
type pathStep struct {
	key     []byte
	index   int
	isIndex bool
}

func (s *keyScanner) found(key []byte, at int) {
	var b strings.Builder
	for _, st := range s.where {
		if st.isIndex {
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(st.key)
	}
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.Write(key)
	s.dup, s.dupPath, s.dupAt = true, b.String(), at
}

func (s *keyScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value skips one value at s.pos, checking the objects inside it.
func (s *keyScanner) value() {
	s.skipSpace()
	if s.pos >= len(s.data) || s.dup {
		return
	}
	switch s.data[s.pos] {
	case '{':
		s.object()
	case '[':
		s.pos++
		s.where = append(s.where, pathStep{isIndex: true})
		defer func() { s.where = s.where[:len(s.where)-1] }()
		for i := 0; s.pos < len(s.data) && !s.dup; i++ {
			s.skipSpace()
			if s.pos < len(s.data) && s.data[s.pos] == ']' {
				s.pos++
				return
			}
			s.where[len(s.where)-1].index = i
			s.value()
			s.skipSpace()
			if s.pos < len(s.data) && s.data[s.pos] == ',' {
				s.pos++
			}
		}
	case '"':
		s.str()
	default: // number, true, false, null
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.pos++
		}
	}
}

func (s *keyScanner) object() {
	s.pos++ // '{'
	// Most objects have a handful of keys: a slice beats a map there.
	var small [8][]byte
	seen := small[:0]
	var seenSet map[string]struct{}
	for s.pos < len(s.data) && !s.dup {
		s.skipSpace()
		if s.pos >= len(s.data) {
			return
		}
		if s.data[s.pos] == '}' {
			s.pos++
			return
		}
		at := s.pos
		key := s.key()
		if seenSet != nil {
			if _, dup := seenSet[string(key)]; dup {
				s.found(key, at)
				return
			}
			seenSet[string(key)] = struct{}{}
		} else {
			for _, k := range seen {
				if bytes.Equal(k, key) {
					s.found(key, at)
					return
				}
			}
			seen = append(seen, key)
			if len(seen) > 16 {
				seenSet = make(map[string]struct{}, 2*len(seen))
				for _, k := range seen {
					seenSet[string(k)] = struct{}{}
				}
			}
		}
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ':' {
			s.pos++
		}
		s.where = append(s.where, pathStep{key: key})
		s.value()
		s.where = s.where[:len(s.where)-1]
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ',' {
			s.pos++
		}
	}
}

// key reads a string at s.pos and returns its decoded text, so that "a"
// and "\u0061" are the same key. An unescaped key is a slice of data.
func (s *keyScanner) key() []byte {
	start := s.pos
	escaped := s.str()
	raw := s.data[start:s.pos]
	if len(raw) < 2 {
		return raw
	}
	if !escaped {
		return raw[1 : len(raw)-1]
	}
	var k string
	if json.Unmarshal(raw, &k) != nil {
		return raw
	}
	return []byte(k)
}

// str skips the string starting at s.pos and reports whether it held an
// escape.
func (s *keyScanner) str() (escaped bool) {
	s.pos++ // opening quote
	for s.pos < len(s.data) {
		rest := s.data[s.pos:]
		q := bytes.IndexByte(rest, '"')
		if q < 0 {
			s.pos = len(s.data)
			return escaped
		}
		b := bytes.IndexByte(rest[:q], '\\')
		if b < 0 {
			s.pos += q + 1
			return escaped
		}
		escaped = true
		s.pos += b + 2 // the backslash and the character it escapes
	}
	return escaped
}
