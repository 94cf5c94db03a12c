package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunJS(t *testing.T) {
	tests := []struct {
		name       string
		code       string
		params     any
		wantStatus int
		wantBody   string // JSON, for 200
		wantErr    string // substring of "error", otherwise
	}{
		{name: "object", code: `function main(p) { return {greeting: "hello " + p.name} }`, params: map[string]any{"name": "ann"}, wantStatus: 200, wantBody: `{"greeting": "hello ann"}`},
		{name: "array", code: `function main(p) { return [1, "two", {three: 3}] }`, wantStatus: 200, wantBody: `[1, "two", {"three": 3}]`},
		{name: "array params", code: `function main(p) { return {n: p.length, first: p[0]} }`, params: []any{"x", "y"}, wantStatus: 200, wantBody: `{"n": 2, "first": "x"}`},
		{name: "error field is a result", code: `function main() { return {error: "app failed"} }`, wantStatus: 200, wantBody: `{"error": "app failed"}`},
		{name: "promise with setTimeout", code: `function main(p) { return new Promise(r => setTimeout(() => r({late: p.v}), 10)) }`, params: map[string]any{"v": 7}, wantStatus: 200, wantBody: `{"late": 7}`},
		{name: "setTimeout extra args", code: `function main() { return new Promise(r => setTimeout((a, b) => r({a, b}), 0, "x", 2)) }`, wantStatus: 200, wantBody: `{"a": "x", "b": 2}`},
		{name: "timers fire in due order", code: `function main() { const seen = []; return new Promise(r => { setTimeout(() => { seen.push("late"); r({seen}) }, 20); setTimeout(() => seen.push("early"), 5) }) }`, wantStatus: 200, wantBody: `{"seen": ["early", "late"]}`},
		{name: "clearTimeout", code: `function main() { return new Promise(r => { const t = setTimeout(() => r({cleared: false}), 0); clearTimeout(t); setTimeout(() => r({cleared: true}), 5) }) }`, wantStatus: 200, wantBody: `{"cleared": true}`},
		{name: "async function", code: `async function main(p) { const x = await Promise.resolve(p.n * 2); return {x} }`, params: map[string]any{"n": 21}, wantStatus: 200, wantBody: `{"x": 42}`},
		{name: "promise of array", code: `function main() { return Promise.resolve([true]) }`, wantStatus: 200, wantBody: `[true]`},
		{name: "rejected with object is an application error", code: `function main() { return Promise.reject({code: 42}) }`, wantStatus: 200, wantBody: `{"error": {"code": 42}}`},
		{name: "rejected with string", code: `function main() { return Promise.reject("nope") }`, wantStatus: 200, wantBody: `{"error": "nope"}`},
		{name: "toJSON is honoured", code: `function main() { return {d: {toJSON() { return "custom" }}} }`, wantStatus: 200, wantBody: `{"d": "custom"}`},
		{name: "number", code: `function main() { return 42 }`, wantStatus: 502, wantErr: errNotDictionary},
		{name: "string", code: `function main() { return "text" }`, wantStatus: 502, wantErr: errNotDictionary},
		{name: "null", code: `function main() { return null }`, wantStatus: 502, wantErr: errNotDictionary},
		{name: "function", code: `function main() { return main }`, wantStatus: 502, wantErr: errNotDictionary},
		{name: "promise of number", code: `function main() { return Promise.resolve(1) }`, wantStatus: 502, wantErr: errNotDictionary},
		{name: "toJSON to scalar", code: `function main() { return {toJSON() { return 5 }} }`, wantStatus: 502, wantErr: errNotDictionary},
		{name: "circular result", code: `function main() { const o = {}; o.self = o; return o }`, wantStatus: 502, wantErr: "cannot be converted to JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.mustInitJS(tc.code)
			params := tc.params
			if params == nil {
				params = map[string]any{}
			}
			r := h.run(params, "a1")
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.wantStatus, r.body)
			}
			if r.header.Get("Content-Length") == "" {
				t.Errorf("no Content-Length header")
			}
			if tc.wantStatus == http.StatusOK {
				assertJSON(t, r.body, tc.wantBody)
			} else if !strings.Contains(r.errorText(), tc.wantErr) {
				t.Fatalf("error = %q, want it to contain %q", r.errorText(), tc.wantErr)
			}
			// Every activation ends with the sentinels, whatever its outcome.
			assertLines(t, "stdout", h.stdout.lines(), []string{Sentinel})
			assertLines(t, "stderr", h.stderr.lines(), []string{Sentinel})
		})
	}
}

func TestRunBadBody(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustInitJS(`function main() { return {} }`)
	for _, tc := range []struct {
		name, body, wantErr string
	}{
		{"bad JSON", `{"value":`, "not a valid JSON object"},
		{"array body", `[]`, "not a valid JSON object"},
		{"scalar value", `{"value": 3}`, "must be a JSON object or array"},
		{"string value", `{"value": "x"}`, "must be a JSON object or array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.post("/run", tc.body)
			if r.status != http.StatusBadRequest || !strings.Contains(r.errorText(), tc.wantErr) {
				t.Fatalf("status %d, body %s; want 400 containing %q", r.status, r.body, tc.wantErr)
			}
		})
	}
	// Absent or null params are an empty object, as the invoker may omit them.
	for _, body := range []string{`{}`, `{"value": null}`} {
		if r := h.post("/run", body); r.status != http.StatusOK {
			t.Errorf("/run %s: status %d, body %s", body, r.status, r.body)
		}
	}
}

func TestRunEnv(t *testing.T) {
	h := newHarness(t, Options{})
	code := `function main() {
		const e = process.env;
		return {ns: e.__OW_NAMESPACE, name: e.__OW_ACTION_NAME, version: e.__OW_ACTION_VERSION,
			id: e.__OW_ACTIVATION_ID, tx: e.__OW_TRANSACTION_ID, deadline: e.__OW_DEADLINE,
			key: e.__OW_API_KEY === undefined ? "absent" : e.__OW_API_KEY,
			initVar: e.INIT_VAR, base: e.BASE}
	}`
	if r := h.initJS(code, "", map[string]string{"INIT_VAR": "from-init", "BASE": "overridden"}); r.status != http.StatusOK {
		t.Fatalf("/init: %d %s", r.status, r.body)
	}
	withKey := h.post("/run", map[string]any{
		"value": map[string]any{}, "namespace": "ns1", "action_name": "/ns1/act", "action_version": "0.0.2",
		"activation_id": "id-1", "transaction_id": "tx-1", "deadline": "1700000000123", "api_key": "secret",
	})
	assertJSON(t, withKey.body, `{"ns": "ns1", "name": "/ns1/act", "version": "0.0.2", "id": "id-1", "tx": "tx-1",
		"deadline": "1700000000123", "key": "secret", "initVar": "from-init", "base": "overridden"}`)
	// The next activation does not see the previous one's api_key.
	withoutKey := h.run(map[string]any{}, "id-2")
	assertJSON(t, withoutKey.body, `{"ns": "guest", "name": "/guest/test-action", "version": "0.0.1", "id": "id-2",
		"tx": "tx-id-2", "deadline": "1700000000000", "key": "absent", "initVar": "from-init", "base": "overridden"}`)
}

func TestConsoleAndSentinels(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustInitJS(`function main(p) {
		console.log("hello", p.name, {a: [1, 2]}, 42, true, null, undefined);
		console.info("info line");
		console.error("oops", p.name);
		console.warn([1, "x"]);
		console.log(function named() {}, new Error("shown").message);
		return {done: p.name}
	}`)
	for _, name := range []string{"first", "second"} {
		if r := h.run(map[string]any{"name": name}, name); r.status != http.StatusOK {
			t.Fatalf("/run %s: %d %s", name, r.status, r.body)
		}
	}
	assertLines(t, "stdout", h.stdout.lines(), []string{
		`hello first { a: [ 1, 2 ] } 42 true null undefined`, "info line", "[Function: named] shown", Sentinel,
		`hello second { a: [ 1, 2 ] } 42 true null undefined`, "info line", "[Function: named] shown", Sentinel,
	})
	assertLines(t, "stderr", h.stderr.lines(), []string{
		"oops first", `[ 1, 'x' ]`, Sentinel,
		"oops second", `[ 1, 'x' ]`, Sentinel,
	})
}

// TestSerialRunsShareOneInterpreter: without concurrency the warm
// interpreter is reused, so global state persists as it does in Node.
func TestSerialRunsShareOneInterpreter(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustInitJS(`let calls = 0; function main() { calls++; return {calls} }`)
	for i := 1; i <= 3; i++ {
		assertJSON(t, h.run(map[string]any{}, fmt.Sprint(i)).body, fmt.Sprintf(`{"calls": %d}`, i))
	}
}

// TestConcurrentRunsUseSeparateInterpreters holds n activations inside main
// at once with a Go barrier: they can only all arrive if they run in
// parallel, and each must see its own global counter.
func TestConcurrentRunsUseSeparateInterpreters(t *testing.T) {
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	allIn := make(chan struct{})
	go func() { arrived.Wait(); close(allIn) }()
	h := newHarness(t, Options{Concurrent: true})
	h.srv.jsGlobals = map[string]any{"barrier": func() bool {
		arrived.Done()
		select {
		case <-allIn:
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	}}
	h.mustInitJS(`let calls = 0; function main(p) { calls++; const met = barrier(); return {calls, met, id: p.id} }`)
	results := make(chan response, n)
	for i := range n {
		go func() { results <- h.run(map[string]any{"id": i}, fmt.Sprint(i)) }()
	}
	seen := map[float64]bool{}
	for range n {
		r := <-results
		var got struct {
			Calls float64 `json:"calls"`
			Met   bool    `json:"met"`
			ID    float64 `json:"id"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK {
			t.Fatalf("/run: status %d body %s", r.status, r.body)
		}
		if !got.Met || got.Calls != 1 {
			t.Errorf("activation %v: calls=%v met=%v; want calls=1 (own interpreter) and the barrier met (parallel)", got.ID, got.Calls, got.Met)
		}
		seen[got.ID] = true
	}
	if len(seen) != n {
		t.Errorf("results for %d distinct activations, want %d", len(seen), n)
	}
	if lines := h.stdout.lines(); len(lines) != n {
		t.Errorf("stdout has %d lines, want %d sentinels: %q", len(lines), n, lines)
	}
}

// TestCancelledRunIsInterrupted: when the invoker gives up on an activation
// a busy loop is stopped, and the next activation gets a fresh interpreter.
func TestCancelledRunIsInterrupted(t *testing.T) {
	tests := []struct{ name, code string }{
		{"busy loop", `let calls = 0; function main(p) { calls++; if (p.spin) { while (true) {} } return {calls} }`},
		{"pending timer", `let calls = 0; function main(p) { calls++; if (p.spin) { return new Promise(r => setTimeout(r, 60000)) } return {calls} }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.mustInitJS(tc.code)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/run", strings.NewReader(`{"value": {"spin": true}}`)).WithContext(ctx)
			h.srv.ServeHTTP(rec, req)
			r := response{status: rec.Code, body: rec.Body.Bytes()}
			if r.status != http.StatusBadGateway || !strings.Contains(r.errorText(), "cancelled") {
				t.Fatalf("status %d body %s; want 502 cancelled", r.status, r.body)
			}
			// calls is 1 again: the interrupted interpreter was discarded.
			assertJSON(t, h.run(map[string]any{}, "after").body, `{"calls": 1}`)
		})
	}
}

// TestContentLengthOverTheWire checks on a real connection that results,
// large ones included, are never sent chunked.
func TestContentLengthOverTheWire(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustInitJS(`function main(p) { return p.fail ? 1 : {big: "x".repeat(256 * 1024)} }`)
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	for _, body := range []string{`{"value": {}}`, `{"value": {"fail": true}}`} {
		resp, err := http.Post(ts.URL+"/run", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentLength != int64(len(got)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("/run %s: Content-Length %d, transfer encoding %v, body %d bytes; want an exact Content-Length", body, resp.ContentLength, resp.TransferEncoding, len(got))
		}
	}
}
