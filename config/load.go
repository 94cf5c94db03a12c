package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// LoadOptions says where Load reads the configuration from.
type LoadOptions struct {
	// File is a YAML file; when empty, the --config flag of Flags (if
	// registered and set) names it; when that is empty too, there is none.
	File string
	// Env holds "NAME=value" items; nil means os.Environ(). Tests pass an
	// empty, non-nil slice to ignore the process environment.
	Env []string
	// Flags is a parsed flag set on which RegisterFlags was called; nil
	// means no flags.
	Flags *pflag.FlagSet
}

// Load merges, from lowest to highest precedence: the defaults, the YAML
// file, OpenWhisk's CONFIG_whisk_* and RUNTIMES_MANIFEST variables, our
// STEMCELL_* variables, --set flags and the dedicated flags. It then loads
// the runtimes manifest and validates everything. The error lists every
// problem (unknown keys, unreadable values, broken rules), one per line.
func Load(opts LoadOptions) (*Config, error) {
	ko := koanf.New(".")
	defaults, err := Default().toMap()
	if err != nil {
		return nil, fmt.Errorf("config: defaults: %w", err)
	}
	if err := ko.Load(confmap.Provider(defaults, ""), nil); err != nil {
		return nil, fmt.Errorf("config: defaults: %w", err)
	}
	var errs Errors

	path := opts.File
	if path == "" {
		path = configFileFlag(opts.Flags)
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		layer := koanf.New(".")
		if err := layer.Load(rawbytes.Provider(data), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("config file %s: not a YAML mapping of keys: %w", path, err)
		}
		// A manifest path in the file is relative to the file, so a
		// configuration directory can move as a whole.
		if mf, ok := layer.Get("runtimes-manifest.file").(string); ok && mf != "" && !filepath.IsAbs(mf) {
			abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), mf))
			if err != nil {
				return nil, fmt.Errorf("config file %s: runtimes-manifest.file: %w", path, err)
			}
			if err := layer.Set("runtimes-manifest.file", abs); err != nil {
				return nil, fmt.Errorf("config file %s: %w", path, err)
			}
		}
		errs.add(mergeLayer(ko, layer, "file "+path, false))
	}

	environ := opts.Env
	if environ == nil {
		environ = os.Environ()
	}
	for _, read := range []func([]string) (*koanf.Koanf, Errors){openWhiskEnvLayer, ourEnvLayer} {
		layer, lerrs := read(environ)
		errs.add(lerrs.Err())
		errs.add(mergeLayer(ko, layer, "the environment", true))
	}

	if opts.Flags != nil {
		set, dedicated, ferrs := flagLayers(opts.Flags)
		errs.add(ferrs.Err())
		errs.add(mergeLayer(ko, set, "--set", true))
		errs.add(mergeLayer(ko, dedicated, "flags", true))
	}

	cfg := &Config{}
	decodeErrs := decodeInto(ko, cfg)
	errs = append(errs, decodeErrs...)
	m, err := loadManifest(cfg.RuntimesManifest)
	errs.add(err)
	if err == nil && len(cfg.RuntimesManifest.StemCells) > 0 {
		m, err = m.WithStemCells("runtimes-manifest.stem-cells", cfg.RuntimesManifest.StemCells)
		errs.add(err)
	}
	cfg.RuntimesManifest.Manifest = m
	// A value that could not be read is left zero; its rule would only
	// repeat the problem.
	unreadable := map[string]bool{}
	for _, e := range decodeErrs {
		if ke, ok := e.(*KeyError); ok {
			unreadable[ke.Key] = true
		}
	}
	if err := cfg.Validate(); err != nil {
		for _, e := range err.(Errors) {
			if ke, ok := e.(*KeyError); ok && underUnreadable(ke.Key, unreadable) {
				continue
			}
			errs.add(e)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// underUnreadable reports whether key is, or lies below, a key whose value
// could not be read ("container-pool: 5" leaves the whole section zero).
func underUnreadable(key string, unreadable map[string]bool) bool {
	for k := key; ; {
		if unreadable[k] {
			return true
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			return false
		}
		k = k[:i]
	}
}

// keyAliases maps other names of keys onto the keys.
var keyAliases = map[string]string{
	"container-pool.pekko-client": "container-pool.akka-client",
}

// mergeLayer normalises one source's keys, rejects the unknown ones and
// merges it over ko.
func mergeLayer(ko, layer *koanf.Koanf, source string, fromStrings bool) error {
	m := layer.Raw()
	var errs Errors
	if normalize(m, fromStrings) {
		errs.add(&KeyError{Key: "container-pool.pekko-client", Rule: "is another name of container-pool.akka-client; set only one (in " + source + ")"})
	}
	clean := koanf.New(".")
	if err := clean.Load(confmap.Provider(m, ""), nil); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	for _, k := range clean.Keys() {
		if !knownKey(k) {
			errs.add(unknownKeyError(k, source))
			clean.Delete(k) // the rest still merges, so its own problems show too
		}
	}
	if err := ko.Merge(clean); err != nil {
		errs.add(fmt.Errorf("%s: %w", source, err))
	}
	return errs.Err()
}

func unknownKeyError(key, source string) *KeyError {
	rule := "unknown key (in " + source + ")"
	if s := suggest(key); s != "" {
		rule += "; did you mean " + s + "?"
	}
	return &KeyError{Key: key, Rule: rule}
}

// normalize applies aliases and list forms in place: pekko-client becomes
// akka-client; a layer that sets one of runtimes-manifest.file and .inline
// clears the other, so the highest layer wins; lists given as maps of
// indexes (OpenWhisk's extraEnvVars_0) become lists; and with fromStrings
// (environment, flags), a list given as one string is split at commas.
// It reports whether both akka-client and pekko-client were set.
func normalize(m map[string]any, fromStrings bool) (aliasClash bool) {
	if pool, ok := m["container-pool"].(map[string]any); ok {
		if v, has := pool["pekko-client"]; has {
			_, aliasClash = pool["akka-client"]
			if !aliasClash {
				pool["akka-client"] = v
			}
			delete(pool, "pekko-client")
		}
	}
	dropEmptySections(m, "")
	if rm, ok := m["runtimes-manifest"].(map[string]any); ok {
		// preset, file and inline each name the whole manifest: the
		// highest layer that sets one of them wins.
		_, file := rm["file"]
		_, inline := rm["inline"]
		_, preset := rm["preset"]
		if file && !inline {
			rm["inline"] = ""
		}
		if inline && !file {
			rm["file"] = ""
		}
		if (file || inline) && !preset {
			rm["preset"] = ""
		}
		if preset && !file && !inline {
			rm["file"], rm["inline"] = "", ""
		}
	}
	for _, k := range schema() {
		parent, last, v := lookup(m, k.Path)
		if parent == nil {
			continue
		}
		switch k.Kind {
		case listLeaf:
			parent[last] = asList(v, fromStrings)
		case mapLeaf:
			if flags, ok := v.(map[string]any); ok {
				for f, vals := range flags {
					flags[f] = asList(vals, fromStrings)
				}
			}
		}
	}
	return aliasClash
}

// dropEmptySections removes sections written with nothing under them
// ("container-pool:" with every line commented out): merged as null, they
// would wipe the defaults of the whole section.
func dropEmptySections(m map[string]any, prefix string) {
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		entry, known := schemaIndex()[path]
		if !known || entry.Path != "" {
			continue // a leaf keeps its null: "user-cpus: null" unsets it
		}
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropEmptySections(x, path)
		}
	}
}

// lookup finds a dotted path in nested maps.
func lookup(m map[string]any, path string) (parent map[string]any, last string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return nil, "", nil
		}
		m = next
	}
	last = parts[len(parts)-1]
	v, ok := m[last]
	if !ok {
		return nil, "", nil
	}
	return m, last, v
}

func asList(v any, fromStrings bool) any {
	switch x := v.(type) {
	case string:
		if !fromStrings {
			return x
		}
		if strings.TrimSpace(x) == "" {
			return []any{}
		}
		parts := strings.Split(x, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = strings.TrimSpace(p)
		}
		return out
	case map[string]any:
		idx := make([]int, 0, len(x))
		for k := range x {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return x // not a list of indexes; decoding reports the shape
			}
			idx = append(idx, i)
		}
		out := make([]any, len(x))
		for k, val := range x {
			i, _ := strconv.Atoi(k)
			out[i] = val // an indexed item is one item, commas and all
		}
		return out
	}
	return v
}

// openWhiskEnvLayer reads OpenWhisk's deploy variables.
func openWhiskEnvLayer(environ []string) (*koanf.Koanf, Errors) {
	layer := koanf.New(".")
	p := env.Provider(".", env.Opt{
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			if name == RuntimesManifestEnv {
				return "runtimes-manifest.inline", value
			}
			key, ok := openWhiskEnvKey(name)
			if !ok {
				return "", nil
			}
			return key, value
		},
	})
	var errs Errors
	errs.add(layer.Load(p, nil))
	return layer, errs
}

// ourEnvLayer reads STEMCELL_* variables; one that names no key is an error.
func ourEnvLayer(environ []string) (*koanf.Koanf, Errors) {
	layer := koanf.New(".")
	var errs Errors
	p := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			key, ok := ourEnvKey(name)
			if !ok {
				return "", nil
			}
			if k, alias := keyAliases[key]; alias {
				key = k
			}
			if !knownKey(key) {
				errs.add(unknownKeyError(key, "environment variable "+name))
				return "", nil
			}
			return key, value
		},
	})
	errs.add(layer.Load(p, nil))
	return layer, errs
}

// loadManifest reads the manifest the configuration points at.
func loadManifest(rc RuntimesManifestConfig) (Manifest, error) {
	var data []byte
	var source string
	switch {
	case rc.Inline != "":
		data, source = []byte(rc.Inline), "runtimes-manifest.inline"
	case rc.File != "":
		b, err := os.ReadFile(rc.File)
		if err != nil {
			return Manifest{}, &KeyError{Key: "runtimes-manifest.file", Value: show(rc.File), Rule: "cannot be read: " + err.Error(), Err: err}
		}
		data, source = b, "runtimes-manifest.file "+rc.File
	default:
		return PresetManifest(rc.Preset)
	}
	m, err := ParseManifest(data)
	if err == nil {
		return m, nil
	}
	var problems Errors
	if !errors.As(err, &problems) {
		problems = Errors{err}
	}
	var out Errors
	for _, e := range problems {
		out.add(fmt.Errorf("%s: %w", source, e))
	}
	return Manifest{}, out
}
