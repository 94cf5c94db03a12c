package config

import (
	"strings"
	"testing"
)

// The openwhisk preset passes the same checks as any manifest, every
// family's default resolves, and it keeps the built-in kind.
func TestOpenWhiskPresetLoadsAndResolves(t *testing.T) {
	c, err := Load(LoadOptions{Env: []string{"STEMCELL_RUNTIMES_MANIFEST__PRESET=openwhisk"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	m := c.RuntimesManifest.Manifest
	for fam, want := range map[string]string{
		"nodejs": "nodejs:20", "python": "python:3.10", "go": "go:1.20", "java": "java:8",
		"php": "php:8.1", "ruby": "ruby:2.5", "dotnet": "dotnet:3.1", "swift": "swift:5.3", "rust": "rust:1.34",
	} {
		k, err := m.ResolveKind(fam + ":default")
		if err != nil || k.Kind != want {
			t.Errorf("%s:default = %q, %v; want %s", fam, k.Kind, err, want)
		}
		if k.Image.Prefix != "openwhisk" || k.Image.Tag != "nightly" {
			t.Errorf("%s: image %s, want OpenWhisk's nightly image", want, k.Image)
		}
	}
	for _, kind := range m.Kinds() {
		if _, err := m.ResolveKind(kind); err != nil {
			t.Errorf("kind %s does not resolve: %v", kind, err)
		}
	}
	if k, err := m.ResolveKind("js:goja"); err != nil || k.Image != RuntimeImage {
		t.Errorf("js:goja = %+v, %v; want the built-in image", k, err)
	}
	if sc := m.StemCells(); len(sc) != 0 {
		t.Errorf("stem cells %+v: the preset must declare none (only the kinds the operator asks for)", sc)
	}
}

func TestStemCellsOverride(t *testing.T) {
	c, err := Load(LoadOptions{Env: []string{
		"STEMCELL_RUNTIMES_MANIFEST__PRESET=openwhisk",
		"STEMCELL_RUNTIMES_MANIFEST__STEM_CELLS=nodejs:default=2x256MB, python:3.11=1x128 MB",
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := c.RuntimesManifest.Manifest.StemCells()
	want := []StemCellSpec{
		{Kind: "nodejs:20", Image: ImageName{Prefix: "openwhisk", Name: "action-nodejs-v20", Tag: "nightly"}, Memory: 256 * MB, InitialCount: 2},
		{Kind: "python:3.11", Image: ImageName{Prefix: "openwhisk", Name: "action-python-v3.11", Tag: "nightly"}, Memory: 128 * MB, InitialCount: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("stem cells %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stem cell %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	c, err = Load(LoadOptions{Env: []string{"STEMCELL_RUNTIMES_MANIFEST__STEM_CELLS=none"}})
	if err != nil {
		t.Fatal(err)
	}
	if sc := c.RuntimesManifest.Manifest.StemCells(); len(sc) != 0 {
		t.Errorf("none: stem cells %+v, want none", sc)
	}
}

func TestPresetAndStemCellErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		want []string // substrings of the error
	}{
		{"unknown preset", []string{"STEMCELL_RUNTIMES_MANIFEST__PRESET=knative"},
			[]string{`runtimes-manifest.preset: "knative" is invalid: must be stemcell or openwhisk`}},
		{"unknown stem-cell kind", []string{"STEMCELL_RUNTIMES_MANIFEST__STEM_CELLS=python:3.10=1x256MB"},
			[]string{`runtimes-manifest.stem-cells[0]: "python:3.10=1x256MB" is invalid: the kind is not in the runtimes manifest; kinds: `}},
		{"bad shapes", []string{"STEMCELL_RUNTIMES_MANIFEST__STEM_CELLS=nodejs:default,nodejs:default=0x256MB,nodejs:default=2x0"},
			[]string{"stem-cells[0]", "must be KIND=COUNTxMEMORY", "stem-cells[1]", `count "0"`, "stem-cells[2]", `memory "0"`}},
		{"bad pull policy", []string{"STEMCELL_DOCKER__PULL_POLICY__RUNTIMES=sometimes"},
			[]string{`docker.pull-policy.runtimes: "sometimes" is invalid: must be missing, always or never`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{Env: tt.env})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

// The highest layer naming a manifest wins, whether it names a preset, a
// file or inline text.
func TestPresetLayers(t *testing.T) {
	file := writeFile(t, "c.yaml", "runtimes-manifest:\n  file: testdata/none.json\n")
	c, err := Load(LoadOptions{File: file, Env: []string{"STEMCELL_RUNTIMES_MANIFEST__PRESET=openwhisk"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.RuntimesManifest.File != "" || c.RuntimesManifest.Preset != PresetOpenWhisk {
		t.Errorf("env preset over file manifest: file %q preset %q", c.RuntimesManifest.File, c.RuntimesManifest.Preset)
	}
	inline := string(DefaultManifestJSON())
	c, err = Load(LoadOptions{File: writeFile(t, "p.yaml", "runtimes-manifest:\n  preset: openwhisk\n"), Env: []string{RuntimesManifestEnv + "=" + inline}})
	if err != nil {
		t.Fatal(err)
	}
	if c.RuntimesManifest.Preset != "" {
		t.Errorf("env inline over file preset: preset %q stays", c.RuntimesManifest.Preset)
	}
	if _, err := c.RuntimesManifest.Manifest.ResolveKind("python:default"); err == nil {
		t.Error("the inline manifest has no python, but python:default resolves")
	}
}
