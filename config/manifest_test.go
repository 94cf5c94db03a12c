package config

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseStockManifest(t *testing.T) {
	data, err := os.ReadFile("testdata/openwhisk-runtimes.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	if got := len(m.Runtimes); got != 4 {
		t.Errorf("%d families, want 4", got)
	}
	cells := m.StemCells()
	want := []StemCellSpec{{
		Kind:         "nodejs:20",
		Image:        ImageName{Prefix: "openwhisk", Name: "action-nodejs-v20", Tag: "nightly"},
		Memory:       256 * MB,
		InitialCount: 2,
		Reactive:     &ReactiveConfig{MinCount: 1, MaxCount: 4, TTL: 2 * time.Minute, Threshold: 1, Increment: 1},
	}}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("StemCells() = %+v, want %+v", cells, want)
	}
	if !m.IsBlackbox(ImageName{Prefix: "openwhisk", Name: "dockerskeleton", Tag: "nightly"}) {
		t.Error("dockerskeleton:nightly is not a blackbox")
	}
	if m.IsBlackbox(ImageName{Prefix: "openwhisk", Name: "dockerskeleton", Tag: "latest"}) {
		t.Error("dockerskeleton:latest counted as the nightly blackbox")
	}
	java, err := m.ResolveKind("java:8")
	if err != nil || !java.RequireMain || java.Attached.AttachmentName != "jarfile" {
		t.Errorf("java:8 = %+v, %v", java, err)
	}
	goKind, _ := m.ResolveKind("go:1.22")
	if goKind.Sentinelled() || !java.Sentinelled() {
		t.Errorf("sentinelledLogs: go %v (want false), java %v (want true)", goKind.Sentinelled(), java.Sentinelled())
	}
}

func TestResolveKind(t *testing.T) {
	m := mustManifest(t, "testdata/openwhisk-runtimes.json")
	tests := []struct {
		kind, want string
		err        bool
	}{
		{"nodejs:20", "nodejs:20", false},
		{"nodejs:18", "nodejs:18", false},
		{"nodejs:default", "nodejs:20", false},
		{"python:default", "python:3", false},
		{"ruby:default", "", true},
		{"nodejs:16", "", true},
		{"blackbox", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		k, err := m.ResolveKind(tt.kind)
		if tt.err {
			if !errors.Is(err, ErrUnknownKind) || !strings.Contains(err.Error(), tt.kind) {
				t.Errorf("ResolveKind(%q) error = %v, want ErrUnknownKind naming the kind", tt.kind, err)
			}
			continue
		}
		if err != nil || k.Kind != tt.want {
			t.Errorf("ResolveKind(%q) = %q, %v; want %q", tt.kind, k.Kind, err, tt.want)
		}
	}
}

func mustManifest(t *testing.T, path string) Manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEmbeddedManifest(t *testing.T) {
	m := DefaultManifest()
	k, err := m.ResolveKind("nodejs:default")
	if err != nil || k.Kind != "js:goja" || k.Image != RuntimeImage || !k.BuiltIn() {
		t.Fatalf("nodejs:default = %+v, %v; want the built-in js:goja on %v", k, err, RuntimeImage)
	}
	if _, err := m.ResolveKind("nodejs:20"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("nodejs:20 resolves (%v): the built-in kind runs goja, not Node.js 20", err)
	}
	want := []StemCellSpec{{Kind: "js:goja", Image: RuntimeImage, Memory: 256 * MB, InitialCount: 2}}
	if got := m.StemCells(); !reflect.DeepEqual(got, want) {
		t.Errorf("StemCells() = %+v, want %+v", got, want)
	}
	if !m.IsBlackbox(RuntimeImage) {
		t.Error("the runtime image must be a native blackbox, never pulled")
	}
	if got := RuntimeImage.String(); got != "stemcell/action-runtime:dev" {
		t.Errorf("RuntimeImage = %q", got)
	}
}

func TestManifestCountAlias(t *testing.T) {
	m, err := ParseManifest([]byte(`{"runtimes":{"n":[{"kind":"n:1","default":true,"image":{"name":"i"},
		"stemCells":[{"count":3,"memory":"128 MB"}]}]},"blackboxes":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.StemCells()[0].InitialCount; got != 3 {
		t.Errorf("count alias gave initialCount %d, want 3", got)
	}
}

// manifestWith builds a one-family manifest around a kind's JSON.
func manifestWith(kinds string) string {
	return `{"runtimes":{"nodejs":[` + kinds + `]},"blackboxes":[{"name":"bb"}]}`
}

const stemKind = `{"kind":"nodejs:20","default":true,"image":{"name":"n"},"stemCells":[%s]}`

func kindWithCell(cell string) string { return manifestWith(strings.Replace(stemKind, "%s", cell, 1)) }

func reactiveCell(r string) string {
	return kindWithCell(`{"initialCount":1,"memory":"256 MB","reactive":` + r + `}`)
}

func TestManifestRejects(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"no default kind", manifestWith(`{"kind":"nodejs:20","image":{"name":"n"}}`), `runtimes.nodejs: must have exactly one kind with "default": true, has 0 []`},
		{"two default kinds", manifestWith(`{"kind":"nodejs:18","default":true,"image":{"name":"n"}},{"kind":"nodejs:20","default":true,"image":{"name":"n"}}`), `runtimes.nodejs: must have exactly one kind with "default": true, has 2 [nodejs:18 nodejs:20]`},
		{"empty family", `{"runtimes":{"nodejs":[]}}`, `runtimes.nodejs: must have exactly one kind with "default": true, has 0`},
		{"kind twice across families", `{"runtimes":{"a":[{"kind":"x","default":true,"image":{"name":"n"}}],"b":[{"kind":"x","default":true,"image":{"name":"n"}}]}}`, `runtimes.b[0].kind: "x" is invalid: kinds must be unique across families; already defined at runtimes.a[0]`},
		{"empty kind", manifestWith(`{"kind":"","default":true,"image":{"name":"n"}}`), `runtimes.nodejs[0].kind: "" is invalid: must not be empty`},
		{"reserved :default", manifestWith(`{"kind":"nodejs:default","default":true,"image":{"name":"n"}}`), `reserved`},
		{"empty image name", manifestWith(`{"kind":"nodejs:20","default":true,"image":{"prefix":"p"}}`), `runtimes.nodejs[0].image.name: "" is invalid: must not be empty`},
		{"empty blackbox name", `{"runtimes":{},"blackboxes":[{"prefix":"p"}]}`, `blackboxes[0].name: "" is invalid`},
		{"initialCount zero", kindWithCell(`{"initialCount":0,"memory":"256 MB"}`), `runtimes.nodejs[0].stemCells[0].initialCount: 0 is invalid: must be > 0`},
		{"initialCount missing", kindWithCell(`{"memory":"256 MB"}`), `stemCells[0].initialCount: 0 is invalid: must be > 0 (initialCount, or its old name count, is required)`},
		{"memory missing", kindWithCell(`{"initialCount":1}`), `stemCells[0].memory: 0 B is invalid: must be > 0 (memory is required)`},
		{"count and initialCount", kindWithCell(`{"initialCount":1,"count":2,"memory":"256 MB"}`), `sets both initialCount and its old name count`},
		{"bad memory", kindWithCell(`{"initialCount":1,"memory":"lots"}`), `invalid size: "lots"`},
		{"minCount negative", reactiveCell(`{"minCount":-1,"maxCount":4,"ttl":"2 minutes","threshold":1,"increment":1}`), `reactive.minCount: -1 is invalid: must be >= 0`},
		{"minCount above maxCount", reactiveCell(`{"minCount":5,"maxCount":4,"ttl":"2 minutes","threshold":1,"increment":1}`), `reactive.minCount: 5 is invalid: must be <= maxCount (4)`},
		{"maxCount zero", reactiveCell(`{"minCount":0,"maxCount":0,"ttl":"2 minutes","threshold":1,"increment":0}`), `reactive.maxCount: 0 is invalid: must be > 0`},
		{"ttl zero", reactiveCell(`{"minCount":1,"maxCount":4,"ttl":"0s","threshold":1,"increment":1}`), `reactive.ttl: 0s is invalid: must be > 0`},
		{"ttl missing", reactiveCell(`{"minCount":1,"maxCount":4,"threshold":1,"increment":1}`), `reactive.ttl: 0s is invalid: must be > 0 (ttl is required)`},
		{"ttl without unit", reactiveCell(`{"minCount":1,"maxCount":4,"ttl":120,"threshold":1,"increment":1}`), `reactive.ttl: invalid duration: "120": a unit is required`},
		{"threshold zero", reactiveCell(`{"minCount":1,"maxCount":4,"ttl":"2 minutes","threshold":0,"increment":1}`), `reactive.threshold: 0 is invalid: must be > 0`},
		{"increment zero", reactiveCell(`{"minCount":1,"maxCount":4,"ttl":"2 minutes","threshold":1,"increment":0}`), `reactive.increment: 0 is invalid: must be > 0 and <= maxCount (4)`},
		{"increment above maxCount", reactiveCell(`{"minCount":1,"maxCount":4,"ttl":"2 minutes","threshold":1,"increment":5}`), `reactive.increment: 5 is invalid`},
		{"unknown top-level field", `{"runtimes":{},"blackbox":[]}`, `unknown field "blackbox"`},
		{"unknown kind field", manifestWith(`{"kind":"nodejs:20","default":true,"image":{"name":"n"},"stemCell":[]}`), `unknown field "stemCell"`},
		{"unknown image field", manifestWith(`{"kind":"nodejs:20","default":true,"image":{"name":"n","registry":"r"}}`), `unknown field "registry"`},
		{"unknown stem cell field", kindWithCell(`{"initialCount":1,"memory":"256 MB","ttl":"1m"}`), `unknown field "ttl"`},
		{"unknown reactive field", reactiveCell(`{"minCount":1,"maxCount":4,"ttl":"2 minutes","threshold":1,"increment":1,"max":3}`), `unknown field "max"`},
		{"trailing data", `{"runtimes":{}} {}`, `unexpected data after the JSON value`},
		{"not JSON", `runtimes: {}`, `runtimes manifest: invalid character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tt.json))
			if err == nil {
				t.Fatalf("ParseManifest accepted %s", tt.json)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestManifestReportsEveryProblem(t *testing.T) {
	_, err := ParseManifest([]byte(reactiveCell(`{"minCount":-1,"maxCount":0,"ttl":"0s","threshold":0,"increment":0}`)))
	if got := len(strings.Split(err.Error(), "\n")); got != 5 {
		t.Errorf("got %d problems, want 5 (minCount, maxCount, ttl, threshold, increment):\n%v", got, err)
	}
}

func TestEmptyManifestIsValid(t *testing.T) {
	m, err := ParseManifest([]byte(`{"runtimes":{},"blackboxes":[]}`))
	if err != nil || len(m.StemCells()) != 0 {
		t.Errorf("empty manifest: %+v, %v", m, err)
	}
}

func TestManifestJSONRoundTrip(t *testing.T) {
	m := mustManifest(t, "testdata/openwhisk-runtimes.json")
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseManifest(data)
	if err != nil {
		t.Fatalf("re-parsing %s: %v", data, err)
	}
	if !reflect.DeepEqual(m, back) {
		t.Errorf("round trip changed the manifest:\n%+v\n%+v", m, back)
	}
}
