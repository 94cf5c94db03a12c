package runtime

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	b := make(map[string][]byte, len(files))
	for k, v := range files {
		b[k] = []byte(v)
	}
	return zipOfBytes(t, b)
}

func zipOfBytes(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInit(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	jsZip := zipOf(t, map[string]string{"index.js": "function main(){ return {from: 'index'} }"})
	pkgZip := zipOf(t, map[string]string{
		"package.json":  `{"main": "./lib/action.js"}`,
		"lib/action.js": "exports.main = () => ({from: 'package'})",
	})
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantErr    string // substring of the "error" field
		wantRun    string // result of a /run after a successful init
	}{
		{name: "bad JSON", body: `{"value": {`, wantStatus: 400, wantErr: "not a valid JSON object"},
		{name: "not an object", body: `[1,2]`, wantStatus: 400, wantErr: "not a valid JSON object"},
		{name: "no value", body: `{}`, wantStatus: 400, wantErr: `no "value"`},
		{name: "missing code", body: `{"value": {"name": "a", "main": "main"}}`, wantStatus: 400, wantErr: `"value.code" is missing`},
		{name: "empty code", body: `{"value": {"code": ""}}`, wantStatus: 400, wantErr: `"value.code" is missing`},
		{name: "syntax error", body: `{"value": {"code": "function main( { return {} }"}}`, wantStatus: 502, wantErr: "does not compile"},
		{name: "no main function", body: `{"value": {"code": "function other() { return {} }"}}`, wantStatus: 502, wantErr: `no main function "main"`},
		{name: "main is not a function", body: `{"value": {"code": "var main = 42"}}`, wantStatus: 502, wantErr: `no main function "main"`},
		{name: "custom main missing", body: `{"value": {"main": "handler", "code": "function main() { return {} }"}}`, wantStatus: 502, wantErr: `no main function "handler"`},
		{name: "top-level throw", body: `{"value": {"code": "throw new Error('load failed')"}}`, wantStatus: 502, wantErr: "Error: load failed"},
		{name: "require", body: `{"value": {"code": "const fs = require('fs'); function main() { return {} }"}}`, wantStatus: 502, wantErr: `require("fs") is not available. The built-in JavaScript kind runs one file of JavaScript on goja, without modules`},
		{name: "bad base64", body: `{"value": {"binary": true, "code": "%%%"}}`, wantStatus: 400, wantErr: "not valid base64"},
		{name: "zip without entry", body: map[string]any{"value": map[string]any{"binary": true, "code": b64(zipOf(t, map[string]string{"README": "x"}))}}, wantStatus: 502, wantErr: `no "index.js" entry`},
		{name: "function main", body: `{"value": {"code": "function main(p) { return {ok: 1} }"}}`, wantStatus: 200, wantRun: `{"ok": 1}`},
		{name: "const arrow main", body: `{"value": {"code": "const main = p => ({arrow: true})"}}`, wantStatus: 200, wantRun: `{"arrow": true}`},
		{name: "custom main name", body: `{"value": {"main": "handler", "code": "function handler() { return {handler: true} }"}}`, wantStatus: 200, wantRun: `{"handler": true}`},
		{name: "exports.main", body: `{"value": {"code": "exports.main = () => ({exported: true})"}}`, wantStatus: 200, wantRun: `{"exported": true}`},
		{name: "module.exports function", body: `{"value": {"code": "module.exports = () => ({moduleFn: true})"}}`, wantStatus: 200, wantRun: `{"moduleFn": true}`},
		{name: "binary JS text", body: map[string]any{"value": map[string]any{"binary": true, "code": b64([]byte("function main(){ return {b: 1} }"))}}, wantStatus: 200, wantRun: `{"b": 1}`},
		{name: "zip index.js", body: map[string]any{"value": map[string]any{"binary": true, "code": b64(jsZip)}}, wantStatus: 200, wantRun: `{"from": "index"}`},
		{name: "zip package.json main", body: map[string]any{"value": map[string]any{"binary": true, "code": b64(pkgZip)}}, wantStatus: 200, wantRun: `{"from": "package"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			r := h.post("/init", tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.wantStatus, r.body)
			}
			if r.header.Get("Content-Length") == "" {
				t.Errorf("no Content-Length header")
			}
			if tc.wantStatus != http.StatusOK {
				if !strings.Contains(r.errorText(), tc.wantErr) {
					t.Fatalf("error = %q, want it to contain %q", r.errorText(), tc.wantErr)
				}
				return
			}
			assertJSON(t, r.body, `{"ok": true}`)
			run := h.run(map[string]any{}, "a1")
			if run.status != http.StatusOK {
				t.Fatalf("/run status = %d, body %s", run.status, run.body)
			}
			assertJSON(t, run.body, tc.wantRun)
		})
	}
}

func TestInitOnce(t *testing.T) {
	h := newHarness(t, Options{})
	// A failed init loads nothing, so it does not use up the one init.
	if r := h.initJS("function main( {", "", nil); r.status != http.StatusBadGateway {
		t.Fatalf("broken init: status %d, body %s", r.status, r.body)
	}
	h.mustInitJS("function main() { return {first: true} }")
	r := h.initJS("function main() { return {second: true} }", "", nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.errorText(), "already initialized") {
		t.Fatalf("second init: status %d, body %s; want 403 already initialized", r.status, r.body)
	}
	assertJSON(t, h.run(map[string]any{}, "a1").body, `{"first": true}`)
}

func TestRunBeforeInit(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.run(map[string]any{}, "a1")
	if r.status != http.StatusForbidden || !strings.Contains(r.errorText(), "not initialized") {
		t.Fatalf("status %d, body %s; want 403 not initialized", r.status, r.body)
	}
}

func TestRoutes(t *testing.T) {
	h := newHarness(t, Options{})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/init", http.StatusMethodNotAllowed},
		{http.MethodGet, "/run", http.StatusMethodNotAllowed},
		{http.MethodPost, "/health", http.StatusNotFound},
	} {
		rec := newRecorder(h, tc.method, tc.path)
		if rec.status != tc.want || rec.errorText() == "" {
			t.Errorf("%s %s: status %d body %s, want %d with an error", tc.method, tc.path, rec.status, rec.body, tc.want)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t, Options{MaxBodyBytes: 64})
	r := h.initJS("function main() { return {padding: '"+strings.Repeat("x", 100)+"'} }", "", nil)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.errorText(), "64 bytes") {
		t.Fatalf("status %d, body %s; want 413 naming the limit", r.status, r.body)
	}
}
