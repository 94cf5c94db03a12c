package server

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/internal/ziptest"
	"github.com/stemcell-io/stemcell/runtime/jscheck"
	"github.com/stemcell-io/stemcell/store"
)

// execBody is a PUT body whose exec has kind and code.
func execBody(t *testing.T, kind, code string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"exec": map[string]any{"kind": kind, "code": code}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withOtherFamily adds a family whose kind runs on another image than the
// built-in one, as a preset's kinds do.
func withOtherFamily(cfg *config.Config, _ *config.ServerConfig) {
	m := cfg.RuntimesManifest.Manifest
	m.Runtimes = map[string][]config.RuntimeKind{
		"nodejs": m.Runtimes["nodejs"],
		"python": {{Kind: "python:3", Default: true, Image: config.ImageName{Prefix: "openwhisk", Name: "python3action"}}},
	}
	cfg.RuntimesManifest.Manifest = m
}

// TestPutRefusesRequire: code of the built-in kind that calls require is a
// 400 at create that names the file, line and module, the kind's limits
// and what to do; code that only mentions require, code of other kinds and
// code that does not parse are stored.
func TestPutRefusesRequire(t *testing.T) {
	h := newHarness(t, withOtherFamily)
	const clean = "function main() { return {} }"
	tests := []struct {
		name, kind, code string
		want             string // "" = stored
	}{
		{name: "single file", kind: "js:goja", code: "const fs = require('fs')\n" + clean,
			want: `The action's code cannot run on kind 'js:goja': line 1:12 calls require("fs").`},
		{name: "nodejs:default resolves to the built-in kind", kind: "nodejs:default", code: clean + "\nfunction f() { return require('./lib').x }",
			want: `The action's code cannot run on kind 'js:goja': line 2:23 calls require("./lib").`},
		{name: "zip whose entry requires another file", kind: "js:goja",
			code: ziptest.Base64(t, "index.js", "const {x} = require('./lib/x')\n"+clean, "lib/x.js", "exports.x = 1"),
			want: `The action's code cannot run on kind 'js:goja': index.js:1:13 calls require("./lib/x").`},
		{name: "zip whose second file requires", kind: "js:goja",
			code: ziptest.Base64(t, "index.js", clean, "lib/x.js", "\n\nconst http = require('http')"),
			want: `The action's code cannot run on kind 'js:goja': lib/x.js:3:14 calls require("http") (the runtime loads only the zip's entry file index.js, so lib/x.js could only run through a require).`},
		{name: "require in a string and a comment", kind: "js:goja", code: "// require('x')\nvar s = \"require('y')\"\n" + clean},
		{name: "own require", kind: "js:goja", code: "function require(m) { return {} }\nrequire('x')\n" + clean},
		{name: "does not parse", kind: "js:goja", code: "function main( { require('x')"},
		{name: "zip without require", kind: "js:goja", code: ziptest.Base64(t, "index.js", clean)},
		{name: "another image's kind", kind: "python:3", code: "require('x')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("PUT", "/api/v1/namespaces/_/actions/req?overwrite=true", guestAuth, execBody(t, tt.kind, tt.code))
			if tt.want == "" {
				if r.status != 200 {
					t.Fatalf("status %d, want 200: %s", r.status, r.body)
				}
				return
			}
			wantError(t, r, 400, tt.want)
			for _, part := range []string{jscheck.Limits, jscheck.Advice} {
				wantError(t, r, 400, part)
			}
		})
	}
	t.Run("blackbox code is not looked at", func(t *testing.T) {
		body := `{"exec":{"kind":"blackbox","image":"` + config.RuntimeImage.String() + `","code":"require('x')"}}`
		if r := h.do("PUT", "/api/v1/namespaces/_/actions/bb", guestAuth, body); r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
	t.Run("an update that adds require leaves the action as it was", func(t *testing.T) {
		if r := h.do("PUT", "/api/v1/namespaces/_/actions/upd", guestAuth, execBody(t, "js:goja", clean)); r.status != 200 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		r := h.do("PUT", "/api/v1/namespaces/_/actions/upd?overwrite=true", guestAuth, execBody(t, "js:goja", "require('x')\n"+clean))
		wantError(t, r, 400, `line 1:1 calls require("x")`)
		got := h.do("GET", "/api/v1/namespaces/_/actions/upd", guestAuth, "")
		if !strings.Contains(string(got.body), `"version":"0.0.1"`) || strings.Contains(string(got.body), "require") {
			t.Errorf("stored action changed: %s", got.body)
		}
	})
}

// TestUnknownKind keeps OpenWhisk's 400 and message for a kind the
// manifest lacks, and adds what the built-in kind is when the family has it.
func TestUnknownKind(t *testing.T) {
	const owPrefix = "The request content was malformed:\nThe specified runtime '%s' is not supported by this platform. Valid values are: 'js:goja', 'nodejs:default', 'blackbox'."
	h := newHarness(t)
	for _, tt := range []struct {
		kind     string
		withHint bool
	}{{"nodejs:20", true}, {" NodeJS:18 ", true}, {"nodejs", true}, {"cobol:1", false}, {"python:3", false}} {
		t.Run(tt.kind, func(t *testing.T) {
			r := h.do("PUT", "/api/v1/namespaces/_/actions/k", guestAuth, execBody(t, tt.kind, "function main() { return {} }"))
			var e errorBody
			if err := json.Unmarshal(r.body, &e); err != nil || r.status != 400 {
				t.Fatalf("status %d body %s (%v), want 400", r.status, r.body, err)
			}
			prefix := strings.Replace(owPrefix, "%s", tt.kind, 1)
			if !strings.HasPrefix(e.Error, prefix) {
				t.Fatalf("error %q\nwant it to start with OpenWhisk's %q", e.Error, prefix)
			}
			hint := e.Error[len(prefix):]
			if !tt.withHint {
				if hint != "" {
					t.Errorf("a kind of no family with the built-in kind got a hint: %q", hint)
				}
				return
			}
			for _, want := range []string{"This invoker's nodejs kind is 'js:goja' (nodejs:default names it): JavaScript on goja, not Node.js.",
				jscheck.Limits, "OpenWhisk's official nodejs images are available with the openwhisk runtimes preset (runtimes-manifest.preset: openwhisk)."} {
				if !strings.Contains(hint, want) {
					t.Errorf("hint %q lacks %q", hint, want)
				}
			}
		})
	}
	t.Run("the openwhisk preset", func(t *testing.T) {
		m, err := config.PresetManifest(config.PresetOpenWhisk)
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, func(cfg *config.Config, _ *config.ServerConfig) { cfg.RuntimesManifest.Manifest = m })
		r := h.do("PUT", "/api/v1/namespaces/_/actions/k", guestAuth, execBody(t, "nodejs:16", "function main() { return {} }"))
		wantError(t, r, 400, "The specified runtime 'nodejs:16' is not supported by this platform. Valid values are: ")
		if strings.Contains(string(r.body), "This invoker's") || !strings.Contains(string(r.body), "'nodejs:20'") {
			t.Errorf("want the list of kinds with nodejs:20 and no hint, as nodejs:default is Node.js here: %s", r.body)
		}
		if r := h.do("PUT", "/api/v1/namespaces/_/actions/k", guestAuth, execBody(t, "nodejs:default", "require('fs')")); r.status != 200 {
			t.Errorf("require refused on the preset's nodejs:default: %d %s", r.status, r.body)
		}
		wantError(t, h.do("PUT", "/api/v1/namespaces/_/actions/g", guestAuth, execBody(t, "js:goja", "require('fs')")), 400,
			`The action's code cannot run on kind 'js:goja': line 1:1 calls require("fs").`)
	})
	t.Run("no hint where the family runs Node.js", func(t *testing.T) {
		data, err := os.ReadFile("../config/testdata/openwhisk-runtimes.json")
		if err != nil {
			t.Fatal(err)
		}
		m, err := config.ParseManifest(data)
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, func(cfg *config.Config, _ *config.ServerConfig) { cfg.RuntimesManifest.Manifest = m })
		r := h.do("PUT", "/api/v1/namespaces/_/actions/k", guestAuth, execBody(t, "nodejs:16", "function main() { return {} }"))
		wantError(t, r, 400, "The specified runtime 'nodejs:16' is not supported by this platform. Valid values are: ")
		if strings.Contains(string(r.body), "goja") {
			t.Errorf("hint about the built-in kind where nodejs runs Node.js: %s", r.body)
		}
		if r := h.do("PUT", "/api/v1/namespaces/_/actions/k", guestAuth, execBody(t, "nodejs:20", "require('fs')")); r.status != 200 {
			t.Errorf("require refused on OpenWhisk's nodejs:20: %d %s", r.status, r.body)
		}
	})
}

// TestInvokeKindGone: an action stored under a kind the manifest no longer
// has (nodejs:20, from before the built-in kind was named js:goja) is a
// 400 at invoke that says which kinds to update it with, and never reaches
// the pool; updated with nodejs:default, it runs.
func TestInvokeKindGone(t *testing.T) {
	h := newHarness(t)
	code := "function main() { return {} }"
	_, err := h.store.PutAction("guest", "old", func(*store.Action) (*store.Action, error) {
		return &store.Action{Namespace: "guest", Name: "old", Version: "0.0.1", Exec: store.Exec{Kind: "nodejs:20", Code: &code},
			Limits: store.Limits{Timeout: 60000, Memory: 256, Logs: 10, Concurrency: 1}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := h.do("POST", "/api/v1/namespaces/_/actions/old?blocking=true", guestAuth, "{}")
	wantError(t, r, 400, "The action's kind 'nodejs:20' is not in this invoker's runtimes manifest, so the action cannot run here: update it with one of the kinds served here, 'js:goja', 'nodejs:default', 'blackbox'. This invoker's nodejs kind is 'js:goja'")
	if n := h.inv.accepted(); n != 0 {
		t.Errorf("%d activations reached the pool", n)
	}
	if r := h.do("PUT", "/api/v1/namespaces/_/actions/old?overwrite=true", guestAuth, execBody(t, "nodejs:default", code)); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/namespaces/_/actions/old?blocking=true", guestAuth, "{}"); r.status != 200 {
		t.Errorf("invoke after the update: %d %s", r.status, r.body)
	}
}
