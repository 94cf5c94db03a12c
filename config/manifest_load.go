package config

import (
	_ "embed"
	"fmt"
)

// RuntimeImage is the image of Stemcell's own action runtime, built locally
// from the invoker binary by the Docker factory. The embedded manifest uses
// it for js:goja and lists it as a blackbox (native, never pulled), since
// it also runs native executables.
var RuntimeImage = ImageName{Prefix: "stemcell", Name: "action-runtime", Tag: "dev"}

//go:embed runtimes.json
var defaultManifestJSON []byte

// DefaultManifestJSON returns the embedded default manifest's text.
func DefaultManifestJSON() []byte { return append([]byte(nil), defaultManifestJSON...) }

// DefaultManifest returns the embedded default manifest, used when neither
// runtimes-manifest.file nor runtimes-manifest.inline is set.
func DefaultManifest() Manifest {
	m, err := ParseManifest(defaultManifestJSON)
	if err != nil { // a test guards the embedded file
		panic(fmt.Sprintf("config: embedded runtimes.json: %v", err))
	}
	return m
}

// ParseManifest decodes a manifest in OpenWhisk's runtimes.json shape,
// rejecting unknown fields, and validates it. The error lists every problem.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if err := decodeStrict(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("runtimes manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}
