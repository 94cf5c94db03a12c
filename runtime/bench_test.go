package runtime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dop251/goja"
)

const benchJS = `function main(p) { return {greeting: "hello " + p.name, n: p.n + 1} }`

var benchRunBody = []byte(`{"value": {"name": "bench", "n": 41}, "namespace": "guest", "action_name": "/guest/bench",
	"action_version": "0.0.1", "activation_id": "0123456789abcdef", "transaction_id": "tx", "deadline": "1700000000000"}`)

func benchServer(b *testing.B, opts Options, init []byte) *Server {
	b.Helper()
	opts.Stdout, opts.Stderr = io.Discard, io.Discard
	srv := NewServer(opts)
	b.Cleanup(func() { _ = srv.Close() })
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/init", bytes.NewReader(init)))
	if rec.Code != http.StatusOK {
		b.Fatalf("/init: %d %s", rec.Code, rec.Body)
	}
	return srv
}

func jsInitBody(b *testing.B) []byte {
	body, err := json.Marshal(map[string]any{"value": map[string]any{"name": "bench", "main": "main", "code": benchJS}})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func benchRun(b *testing.B, srv http.Handler) {
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/run", bytes.NewReader(benchRunBody)))
	if rec.Code != http.StatusOK {
		b.Fatalf("/run: %d %s", rec.Code, rec.Body)
	}
}

// BenchmarkWarmJSRun is a warm JavaScript /run through the handler: request
// parsing, env, params, the call, result serialisation, sentinels.
func BenchmarkWarmJSRun(b *testing.B) {
	srv := benchServer(b, Options{}, jsInitBody(b))
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, srv)
	}
}

// BenchmarkWarmJSRunConcurrent runs warm activations in parallel, each on an
// interpreter of its own.
func BenchmarkWarmJSRunConcurrent(b *testing.B) {
	srv := benchServer(b, Options{Concurrent: true}, jsInitBody(b))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchRun(b, srv)
		}
	})
}

// BenchmarkGojaCallBaseline is the floor under BenchmarkWarmJSRun: the same
// action called on a bare goja runtime with JSON in and out, no HTTP.
func BenchmarkGojaCallBaseline(b *testing.B) {
	rt := goja.New()
	if _, err := rt.RunString(benchJS); err != nil {
		b.Fatal(err)
	}
	main, _ := goja.AssertFunction(rt.Get("main"))
	jsonObj := rt.Get("JSON").ToObject(rt)
	parse, _ := goja.AssertFunction(jsonObj.Get("parse"))
	stringify, _ := goja.AssertFunction(jsonObj.Get("stringify"))
	params := rt.ToValue(`{"name": "bench", "n": 41}`)
	b.ReportAllocs()
	for b.Loop() {
		p, err := parse(goja.Undefined(), params)
		if err != nil {
			b.Fatal(err)
		}
		ret, err := main(goja.Undefined(), p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := stringify(goja.Undefined(), ret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmNativeRun is a warm /run of a native actionloop action: a
// round trip through the child's stdin, fd 3 and both output pipes.
func BenchmarkWarmNativeRun(b *testing.B) {
	bin := buildActionloop(b)
	init, err := json.Marshal(map[string]any{"value": map[string]any{"name": "bench", "binary": true, "code": base64.StdEncoding.EncodeToString(bin)}})
	if err != nil {
		b.Fatal(err)
	}
	srv := benchServer(b, Options{TempDir: b.TempDir()}, init)
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, srv)
	}
}
