package config

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Presets of runtimes-manifest.preset: manifests shipped with Stemcell.
const (
	// PresetStemcell is the embedded default: the built-in runtime only.
	PresetStemcell = "stemcell"
	// PresetOpenWhisk maps OpenWhisk's kinds to its official images.
	PresetOpenWhisk = "openwhisk"
)

//go:embed presets/openwhisk.json
var openwhiskPresetJSON []byte

// PresetManifest returns the manifest of a preset.
func PresetManifest(name string) (Manifest, error) {
	switch name {
	case PresetStemcell, "":
		return DefaultManifest(), nil
	case PresetOpenWhisk:
		m, err := ParseManifest(openwhiskPresetJSON)
		if err != nil { // a test guards the embedded file
			panic(fmt.Sprintf("config: embedded presets/openwhisk.json: %v", err))
		}
		return m, nil
	}
	return Manifest{}, &KeyError{Key: "runtimes-manifest.preset", Value: show(name),
		Rule: "must be " + PresetStemcell + " or " + PresetOpenWhisk}
}

// StemCellsNone is the runtimes-manifest.stem-cells item that removes every
// stem cell.
const StemCellsNone = "none"

// WithStemCells returns m with its stem cells replaced by items, each
// "KIND=COUNTxMEMORY" (e.g. "nodejs:20=2x256MB"; KIND may be
// "family:default"), or the single item "none". Errors name the item by
// its index under key.
func (m Manifest) WithStemCells(key string, items []string) (Manifest, error) {
	var errs Errors
	wanted := map[string][]StemCell{}
	if !(len(items) == 1 && items[0] == StemCellsNone) {
		for i, item := range items {
			k := fmt.Sprintf("%s[%d]", key, i)
			kind, sc, err := parseStemCellItem(item)
			if err != nil {
				errs.invalid(k, item, err.Error())
				continue
			}
			rk, err := m.ResolveKind(kind)
			if err != nil {
				errs.invalid(k, item, "the kind is not in the runtimes manifest; kinds: "+strings.Join(m.Kinds(), ", "))
				continue
			}
			wanted[rk.Kind] = append(wanted[rk.Kind], sc)
		}
	}
	if err := errs.Err(); err != nil {
		return m, err
	}
	out := m
	out.Runtimes = make(map[string][]RuntimeKind, len(m.Runtimes))
	for fam, kinds := range m.Runtimes {
		ks := slices.Clone(kinds)
		for i := range ks {
			ks[i].StemCells = wanted[ks[i].Kind]
		}
		out.Runtimes[fam] = ks
	}
	return out, nil
}

// parseStemCellItem reads "KIND=COUNTxMEMORY".
func parseStemCellItem(item string) (string, StemCell, error) {
	const form = `must be KIND=COUNTxMEMORY, e.g. "nodejs:default=2x256MB", or the one item "none"`
	kind, spec, ok := strings.Cut(strings.TrimSpace(item), "=")
	count, mem, ok2 := strings.Cut(spec, "x")
	if !ok || !ok2 || strings.TrimSpace(kind) == "" {
		return "", StemCell{}, fmt.Errorf("%s", form)
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n <= 0 {
		return "", StemCell{}, fmt.Errorf("count %q: must be a whole number > 0 (%s)", count, form)
	}
	size, err := ParseByteSize(strings.TrimSpace(mem))
	if err != nil || size <= 0 {
		return "", StemCell{}, fmt.Errorf("memory %q: must be a size > 0 such as 256MB (%s)", mem, form)
	}
	return strings.TrimSpace(kind), StemCell{InitialCount: n, Memory: size}, nil
}

// Kinds lists every kind of the manifest, by family name and then manifest
// order.
func (m Manifest) Kinds() []string {
	var out []string
	for _, fam := range m.families() {
		for _, k := range m.Runtimes[fam] {
			out = append(out, k.Kind)
		}
	}
	return out
}
