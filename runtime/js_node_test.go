package runtime

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/runtime/jscheck"
)

// TestRunJSNodeAnswers checks the answers that follow OpenWhisk's Node.js
// runtime: undefined is {}, a rejection is an application error with the
// Error serialised, and a thrown error is "An error has occurred: ..." with
// its stack on stderr.
func TestRunJSNodeAnswers(t *testing.T) {
	tests := []struct {
		name       string
		code       string
		wantStatus int
		wantBody   string   // JSON, for 200
		wantErr    string   // the whole "error" text, otherwise
		wantStderr []string // before the sentinel
	}{
		{name: "undefined is an empty result", code: `function main() {}`, wantStatus: 200, wantBody: `{}`},
		{name: "bare return", code: `function main() { return }`, wantStatus: 200, wantBody: `{}`},
		{name: "async undefined", code: `async function main() { await null }`, wantStatus: 200, wantBody: `{}`},
		{name: "promise of undefined", code: `function main() { return Promise.resolve() }`, wantStatus: 200, wantBody: `{}`},
		{name: "null is not a dictionary", code: `function main() { return null }`, wantStatus: 502, wantErr: errNotDictionary},
		{
			name: "rejected with an Error", code: `function main() { return Promise.reject(new Error("boom")) }`, wantStatus: 200,
			wantBody: `{"error": {"name": "Error", "message": "boom", "stack": "Error: boom\n    at main (test-action:1:41(5))"}}`,
		},
		{
			name: "rejected Error keeps its own properties", code: `function main() { const e = new TypeError("bad"); e.code = 7; return Promise.reject(e) }`, wantStatus: 200,
			wantBody: `{"error": {"code": 7, "name": "TypeError", "message": "bad", "stack": "TypeError: bad\n    at main (test-action:1:29(3))"}}`,
		},
		{
			name: "async throws is a rejection", code: `async function main() { throw new RangeError("too far") }`, wantStatus: 200,
			wantBody: `{"error": {"name": "RangeError", "message": "too far", "stack": "RangeError: too far\n    at main (test-action:1:31(3))"}}`,
		},
		{name: "rejected without a reason", code: `function main() { return Promise.reject() }`, wantStatus: 200, wantBody: `{"error": {}}`},
		{name: "rejected with null", code: `function main() { return Promise.reject(null) }`, wantStatus: 200, wantBody: `{"error": {}}`},
		{
			name: "throws", code: `function main() { throw new Error("boom") }`, wantStatus: 502,
			wantErr:    "An error has occurred: Error: boom",
			wantStderr: []string{"Error: boom", "    at main (test-action:1:25(3))"},
		},
		{
			name: "throws a TypeError", code: `function main(p) { return p.missing.field }`, wantStatus: 502,
			wantErr:    "An error has occurred: TypeError: Cannot read property 'field' of undefined",
			wantStderr: []string{"TypeError: Cannot read property 'field' of undefined", "    at main (test-action:1:37(3))"},
		},
		{
			name: "throws a string", code: `function main() { throw "text" }`, wantStatus: 502,
			wantErr: "An error has occurred: text", wantStderr: []string{"text"},
		},
		{
			name: "timer callback throws", code: `function main() { return new Promise(() => setTimeout(() => { throw new Error("in timer") }, 1)) }`, wantStatus: 502,
			wantErr:    "An error has occurred: Error: in timer",
			wantStderr: []string{"Error: in timer", "    at test-action:1:69(3)"},
		},
		{
			name: "require at run time", code: `function main() { return require("os") }`, wantStatus: 502,
			wantErr:    "An error has occurred: Error: " + jscheck.RequireMessage("os"),
			wantStderr: []string{"Error: " + jscheck.RequireMessage("os"), "    at main (test-action:1:33(3))"},
		},
		{
			// Out of the create-time check's sight: the code is a string.
			name: "require through new Function", code: `function main() { return new Function("return require('./lib')")() }`, wantStatus: 502,
			wantErr:    "An error has occurred: Error: " + jscheck.RequireMessage("./lib"),
			wantStderr: []string{"Error: " + jscheck.RequireMessage("./lib"), "    at anonymous (<eval>:3:15(7))", "    at main (test-action:1:65(5))"},
		},
		{
			name: "setTimeout needs a function", code: `function main() { setTimeout("code", 1); return {} }`, wantStatus: 502,
			wantErr:    "An error has occurred: TypeError: setTimeout: the callback must be a function, got code",
			wantStderr: []string{"TypeError: setTimeout: the callback must be a function, got code", "    at main (test-action:1:29(4))"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.mustInitJS(tc.code)
			r := h.run(map[string]any{}, "a1")
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus == http.StatusOK {
				assertJSON(t, r.body, tc.wantBody)
			} else if r.errorText() != tc.wantErr {
				t.Fatalf("error = %q, want %q", r.errorText(), tc.wantErr)
			}
			assertLines(t, "stdout", h.stdout.lines(), []string{Sentinel})
			assertLines(t, "stderr", h.stderr.lines(), append(tc.wantStderr, Sentinel))
		})
	}
}

// TestConsoleFormatsAsNode checks console output against what Node's
// util.format and util.inspect print for the same arguments.
func TestConsoleFormatsAsNode(t *testing.T) {
	tests := []struct {
		name string
		args string // console.log's argument list
		want []string
	}{
		{"format string", `"fmt %s and %d", "str", 42`, []string{"fmt str and 42"}},
		{"object", `{a: 1}`, []string{"{ a: 1 }"}},
		{"object with a string", `{a: 1, b: 'x'}`, []string{"{ a: 1, b: 'x' }"}},
		{"array", `[1, 2, 3]`, []string{"[ 1, 2, 3 ]"}},
		{"empty object and array", `{}, []`, []string{"{} []"}},
		{"nested beyond depth 2", `{a: {b: {c: {d: 1}}}}`, []string{"{ a: { b: { c: [Object] } } }"}},
		{"nested array beyond depth 2", `[[[[1]]]]`, []string{"[ [ [ [Array] ] ] ]"}},
		{"top-level strings are raw", `"a", "b c"`, []string{"a b c"}},
		{"nested strings are quoted", `["it's", 'say "hi"', "both ' \" "]`, []string{"[ \"it's\", 'say \"hi\"', `both ' \" ` ]"}},
		{"escapes in nested strings", `{s: "a\nb"}`, []string{`{ s: 'a\nb' }`}},
		{"keys that need quotes", `{"a-b": 1, _ok: 2}`, []string{"{ 'a-b': 1, _ok: 2 }"}},
		{"primitives", `42, -0, true, null, undefined, NaN`, []string{"42 -0 true null undefined NaN"}},
		{"%i %f %j", `"%i %f %j", 4.7, "1.5", {x: [1]}`, []string{`4 1.5 {"x":[1]}`}},
		{"%o %O", `"%o and %O", [1], {y: 'z'}`, []string{"[ 1 ] and { y: 'z' }"}},
		{"%d of an object", `"%d", {}`, []string{"NaN"}},
		{"%s of an object inspects it", `"%s!", {a: 1}`, []string{"{ a: 1 }!"}},
		{"%c is dropped", `"%cred", "color: red"`, []string{"red"}},
		{"%% with arguments", `"100%% %s", "sure"`, []string{"100% sure"}},
		{"%% without arguments stays", `"100%%"`, []string{"100%%"}},
		{"missing argument stays", `"%s and %s", "one"`, []string{"one and %s"}},
		{"extra arguments follow", `"n=%d", 1, "more", {k: 1}`, []string{"n=1 more { k: 1 }"}},
		{"non-string first argument", `5, "%s", "x"`, []string{"5 %s x"}},
		{"functions", `function named() {}, () => 1`, []string{"[Function: named] [Function (anonymous)]"}},
		{"class instance", `new (class Point { constructor() { this.x = 1 } })()`, []string{"Point { x: 1 }"}},
		{"circular", `(() => { const c = {}; c.me = c; return c })()`, []string{"<ref *1> { me: [Circular *1] }"}},
		{
			"long object breaks over lines", `{first: "aaaaaaaaaaaaaaaaaaaa", second: "bbbbbbbbbbbbbbbbbbbb", third: "cccccccccccccccccccc"}`,
			[]string{"{", "  first: 'aaaaaaaaaaaaaaaaaaaa',", "  second: 'bbbbbbbbbbbbbbbbbbbb',", "  third: 'cccccccccccccccccccc'", "}"},
		},
		{"error prints its stack", `new Error("shown")`, []string{"Error: shown", "    at main (test-action:1:31(5))"}},
		{"seven numbers group in columns", `[1, 2, 3, 4, 5, 6, 7]`, []string{"[", "  1, 2, 3, 4,", "  5, 6, 7", "]"}},
		{"numbers align right", `[1, 22, 333, 4, 55, 666, 7, 88]`, []string{"[", "   1,  22, 333,  4,", "  55, 666,   7, 88", "]"}},
		{"strings align left", `["a", "bb", "ccc", "d", "ee", "fff", "g"]`, []string{"[", "  'a',   'bb',", "  'ccc', 'd',", "  'ee',  'fff',", "  'g'", "]"}},
		{"six items stay on one line", `[1, 2, 3, 4, 5, 6]`, []string{"[ 1, 2, 3, 4, 5, 6 ]"}},
		{"more than 100 items", `Array(102).fill(0)`, append(append([]string{"["}, func() []string {
			var rows []string
			for range 8 {
				rows = append(rows, "  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,")
			}
			return append(rows, "  0, 0, 0, 0,", "  ... 2 more items")
		}()...), "]")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.mustInitJS(`function main() { console.log(` + tc.args + `); return {} }`)
			if r := h.run(map[string]any{}, "a1"); r.status != http.StatusOK {
				t.Fatalf("/run: %d %s", r.status, r.body)
			}
			assertLines(t, "stdout", h.stdout.lines(), append(tc.want, Sentinel))
		})
	}
	// Every console method formats the same way; error and warn go to stderr.
	h := newHarness(t, Options{})
	h.mustInitJS(`function main() {
		for (const m of ["log", "info", "debug", "warn", "error"]) console[m]("%s: %d", m, 1, {m});
		return {}
	}`)
	if r := h.run(map[string]any{}, "a1"); r.status != http.StatusOK {
		t.Fatalf("/run: %d %s", r.status, r.body)
	}
	assertLines(t, "stdout", h.stdout.lines(), []string{"log: 1 { m: 'log' }", "info: 1 { m: 'info' }", "debug: 1 { m: 'debug' }", Sentinel})
	assertLines(t, "stderr", h.stderr.lines(), []string{"warn: 1 { m: 'warn' }", "error: 1 { m: 'error' }", Sentinel})
}

// TestPromiseThatNeverSettlesWaitsForTheDeadline: as Node waits for the time
// limit, the runtime answers only when the activation's context ends, and
// then as it does for any activation that outlives it.
func TestPromiseThatNeverSettlesWaitsForTheDeadline(t *testing.T) {
	const limit = 150 * time.Millisecond
	h := newHarness(t, Options{})
	h.mustInitJS(`let calls = 0; function main(p) { calls++; return p.hang ? new Promise(() => {}) : {calls} }`)
	start := time.Now() // before the deadline is set, so elapsed >= limit when it is met
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/run", strings.NewReader(`{"value": {"hang": true}}`)).WithContext(ctx)
	h.srv.ServeHTTP(rec, req)
	if elapsed := time.Since(start); elapsed < limit {
		t.Errorf("answered after %v, before the deadline of %v", elapsed, limit)
	}
	want := "the activation was cancelled while its Promise was pending: context deadline exceeded"
	r := response{status: rec.Code, body: rec.Body.Bytes()}
	if r.status != http.StatusBadGateway || r.errorText() != want {
		t.Fatalf("status %d body %s; want 502 %q", r.status, r.body, want)
	}
	// The interpreter that waited is discarded: the next activation starts fresh.
	assertJSON(t, h.run(map[string]any{}, "after").body, `{"calls": 1}`)
}
