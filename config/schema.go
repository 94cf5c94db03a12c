package config

import (
	"reflect"
	"strings"
	"sync"
	"time"
)

// leafKind says how a key's value is shaped, which decides how a string
// from the environment or a flag is read.
type leafKind int

const (
	scalarLeaf leafKind = iota
	listLeaf            // []string: a comma-separated string from env/flags
	mapLeaf             // map[string][]string: keys below it are free
)

// schemaKey is one key of the configuration tree, found from the koanf
// tags of Config, so that the key list can never drift from the code.
type schemaKey struct {
	Path string // e.g. "container-pool.user-memory"
	Kind leafKind
	Type reflect.Type
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
)

// schema lists every leaf key of Config in declaration order.
var schema = sync.OnceValue(func() []schemaKey {
	var keys []schemaKey
	walkSchema(reflect.TypeOf(Config{}), "", &keys)
	return keys
})

// schemaIndex maps each leaf key, and each section above one, to its entry;
// sections map to a zero entry with an empty Path.
var schemaIndex = sync.OnceValue(func() map[string]schemaKey {
	idx := map[string]schemaKey{}
	for _, k := range schema() {
		idx[k.Path] = k
		parts := strings.Split(k.Path, ".")
		for i := 1; i < len(parts); i++ {
			sec := strings.Join(parts[:i], ".")
			if _, ok := idx[sec]; !ok {
				idx[sec] = schemaKey{}
			}
		}
	}
	return idx
})

func walkSchema(t reflect.Type, prefix string, out *[]schemaKey) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" || tag == "-" {
			continue
		}
		path := tag
		if prefix != "" {
			path = prefix + "." + tag
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Struct:
			walkSchema(ft, path, out)
		case reflect.Slice:
			*out = append(*out, schemaKey{path, listLeaf, f.Type})
		case reflect.Map:
			*out = append(*out, schemaKey{path, mapLeaf, f.Type})
		default:
			*out = append(*out, schemaKey{path, scalarLeaf, f.Type})
		}
	}
}

// Keys returns every configuration key, in declaration order.
func Keys() []string {
	ks := schema()
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Path
	}
	return out
}

// knownKey reports whether a flattened key read from a source fits the
// tree: a leaf, a section, or anything below a free-form map (extra-args)
// or below a leaf (decoding then reports the wrong shape).
func knownKey(key string) bool {
	idx := schemaIndex()
	if _, ok := idx[key]; ok {
		return true
	}
	for p := key; ; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
		if k, ok := idx[p]; ok && k.Path != "" {
			return true
		}
	}
}

// suggest returns the known key closest to a mistyped one, or "".
func suggest(key string) string {
	best, bestDist := "", 4
	last := key[strings.LastIndexByte(key, '.')+1:]
	for _, k := range schema() {
		if d := editDistance(key, k.Path); d < bestDist {
			best, bestDist = k.Path, d
		}
	}
	if best != "" {
		return best
	}
	for _, k := range schema() { // right key, wrong section
		if strings.HasSuffix(k.Path, "."+last) {
			return k.Path
		}
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
