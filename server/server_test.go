package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeInvoker stands in for the pool: refuse, when set, decides whether the
// pool accepts an activation (nil) or refuses it, as a full buffer does;
// run decides each accepted activation's result. Runs get stop, which the
// harness cancels when the test ends, as the pool answers everything at
// its shutdown.
type fakeInvoker struct {
	mu      sync.Mutex
	seen    []actors.Activation // accepted
	refused []actors.Activation
	refuse  func(a actors.Activation) error
	run     func(ctx context.Context, a actors.Activation) (actors.Result, error)
	stop    context.Context
}

func (f *fakeInvoker) Enqueue(_ context.Context, a actors.Activation) (<-chan *actors.RunResult, error) {
	f.mu.Lock()
	if f.refuse != nil {
		if err := f.refuse(a); err != nil {
			f.refused = append(f.refused, a)
			f.mu.Unlock()
			return nil, fmt.Errorf("activation %s: %w", a.ID, err)
		}
	}
	f.seen = append(f.seen, a)
	run := f.run
	f.mu.Unlock()
	ch := make(chan *actors.RunResult, 1)
	if run == nil {
		ch <- &actors.RunResult{Result: succeed(a)}
		return ch, nil
	}
	go func() {
		res, err := run(f.stop, a)
		ch <- &actors.RunResult{Result: res, Err: err}
	}()
	return ch, nil
}

func (f *fakeInvoker) Submit(a actors.Activation) <-chan *actors.RunResult {
	results, err := f.Enqueue(context.Background(), a)
	if err == nil {
		return results
	}
	ch := make(chan *actors.RunResult, 1)
	ch <- &actors.RunResult{Result: actors.Result{ActivationID: a.ID}, Err: err}
	return ch
}

func (f *fakeInvoker) Snapshot(context.Context) (actors.MemorySnapshot, error) {
	return actors.MemorySnapshot{Total: 1024 * config.MB}, nil
}

func (f *fakeInvoker) accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

func (f *fakeInvoker) last() actors.Activation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1]
}

// succeed echoes the parameters as the result, with one log line.
func succeed(a actors.Activation) actors.Result {
	now := distinctNow()
	return actors.Result{
		ActivationID: a.ID, Status: factory.StatusSuccess, Response: a.Params,
		Start: now, End: now.Add(3 * time.Millisecond), WaitTime: 2 * time.Millisecond,
		InitTime: 40 * time.Millisecond, StartKind: actors.StartCold,
		Logs: []string{"2024-06-01T12:00:00.201345678Z stdout: hi"},
	}
}

const (
	guestUUID = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502"
	guestKey  = "123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
	aliceUUID = "a1a1a1a1-71f6-4ed5-8c54-816aa4f8c502"
	aliceKey  = "alicealicealicealicealicealicealicealicealicealicealicealice0000"
)

var (
	guestAuth = guestUUID + ":" + guestKey
	aliceAuth = aliceUUID + ":" + aliceKey
)

type harness struct {
	t     testing.TB
	srv   *Server
	http  *httptest.Server
	inv   *fakeInvoker
	store *store.Store
	clock *testClock
}

// testClock is the server's clock: the real time until a test sets it.
type testClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return distinctNow()
	}
	return c.at
}

var distinct struct {
	mu   sync.Mutex
	last time.Time
}

// distinctNow is the real time, at least a millisecond after its previous
// answer: records and actions carry epoch milliseconds, and tests that list
// them newest first need no two of them in the same millisecond.
func distinctNow() time.Time {
	distinct.mu.Lock()
	defer distinct.mu.Unlock()
	t := time.Now()
	if next := distinct.last.Add(time.Millisecond); t.Before(next) {
		t = next
	}
	distinct.last = t
	return t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}

type option func(cfg *config.Config, scfg *config.ServerConfig)

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	cfg := config.Default()
	scfg := config.DefaultServer()
	for _, o := range opts {
		o(cfg, &scfg)
	}
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseKeys([]byte(guestAuth+" guest\n"+aliceAuth+" alice\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	stop, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	inv := &fakeInvoker{stop: stop}
	clock := &testClock{}
	srv, err := New(Options{Config: cfg, Server: scfg, Store: st, Invoker: inv, Keys: keys, Log: zerolog.Nop(), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	h := &harness{t: t, srv: srv, http: httptest.NewServer(srv.Handler()), inv: inv, store: st, clock: clock}
	t.Cleanup(func() {
		h.http.Close()
		srv.Abandon()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.WaitIdle(ctx); err != nil {
			t.Errorf("WaitIdle: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	return h
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request; auth "" sends none. A body gets the JSON content type.
func (h *harness) do(method, path, auth, body string) reply {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.http.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

const helloJS = `{"namespace":"_","name":"hello","exec":{"kind":"nodejs:default","code":"function main(p) { return {payload: 'Hello, ' + p.name}; }"}}` + "\n"

func (h *harness) createHello() {
	h.t.Helper()
	if r := h.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=false", guestAuth, helloJS); r.status != 200 {
		h.t.Fatalf("create hello: %d %s", r.status, r.body)
	}
}

// wantError checks an OpenWhisk error envelope.
func wantError(t *testing.T, r reply, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var e struct {
		Error string  `json:"error"`
		Code  *string `json:"code"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if e.Code == nil || *e.Code == "" {
		t.Errorf("error body %s has no code", r.body)
	} else if got := r.header.Get("X-Request-Id"); got != *e.Code {
		t.Errorf("code %q differs from X-Request-Id %q", *e.Code, got)
	}
	if !strings.Contains(e.Error, msg) {
		t.Errorf("error = %q, want it to contain %q", e.Error, msg)
	}
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	tests := []struct {
		name, method, path, auth string
		status                   int
		msg                      string
	}{
		{"no credentials", "GET", "/api/v1/namespaces/_/actions", "", 401, msgNoAuth},
		{"garbled header", "GET", "/api/v1/namespaces/_/actions", "", 401, msgNoAuth},
		{"wrong key", "GET", "/api/v1/namespaces/_/actions", guestUUID + ":" + strings.Repeat("x", 64), 401, msgBadAuth},
		{"unknown uuid", "GET", "/api/v1/namespaces/_/actions", "nobody:" + guestKey, 401, msgBadAuth},
		{"other namespace action", "GET", "/api/v1/namespaces/guest/actions/hello", aliceAuth, 403, "not authorized to access 'guest/hello'."},
		{"other namespace list", "GET", "/api/v1/namespaces/guest/actions", aliceAuth, 403, "not authorized to access 'guest'."},
		{"other namespace invoke", "POST", "/api/v1/namespaces/guest/actions/hello", aliceAuth, 403, "not authorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, tt.auth, "")
			wantError(t, r, tt.status, tt.msg)
			if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// The explicit namespace works like "_", and alice sees her own (empty) list.
	if r := h.do("GET", "/api/v1/namespaces/guest/actions/hello", guestAuth, ""); r.status != 200 {
		t.Errorf("explicit own namespace: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/namespaces/_/actions", aliceAuth, ""); r.status != 200 || string(r.body) != "[]" {
		t.Errorf("alice's list: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/namespaces", guestAuth, ""); string(r.body) != `["guest"]` {
		t.Errorf("namespaces = %s", r.body)
	}
	if r := h.do("GET", "/api/v1", "", ""); r.status != 200 || !strings.Contains(string(r.body), "OpenWhisk API") {
		t.Errorf("info without auth: %d %s", r.status, r.body)
	}
}

func TestGarbledAuthorizationHeader(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"Basic !!!", "Bearer abc", "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon"))} {
		req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/namespaces/_/actions", nil)
		req.Header.Set("Authorization", v)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("Authorization %q: status %d, want 401", v, resp.StatusCode)
		}
	}
}

func TestCreateAction(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=false", guestAuth, helloJS)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var doc store.Action
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Namespace != "guest" || doc.Name != "hello" || doc.Version != "0.0.1" || doc.Exec.Kind != "js:goja" || doc.Exec.Binary {
		t.Errorf("created doc = %+v", doc)
	}
	if doc.Limits != (store.Limits{Timeout: 60000, Memory: 256, Logs: 10, Concurrency: 1}) {
		t.Errorf("default limits = %+v", doc.Limits)
	}
	ann, _ := json.Marshal(doc.Annotations)
	if string(ann) != `[{"key":"provide-api-key","value":false},{"key":"exec","value":"js:goja"}]` {
		t.Errorf("annotations = %s", ann)
	}
	if !strings.Contains(string(r.body), `"binary":false`) || !strings.Contains(string(r.body), `"parameters":[]`) {
		t.Errorf("body lacks binary or parameters: %s", r.body)
	}

	wantError(t, h.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=false", guestAuth, helloJS), 409, msgExists)
	wantError(t, h.do("PUT", "/api/v1/namespaces/_/actions/hello", guestAuth, helloJS), 409, msgExists)

	upd := h.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=true", guestAuth,
		`{"limits":{"memory":128},"parameters":[{"key":"name","value":"Ada"}],"annotations":[{"key":"a","value":1}]}`)
	if upd.status != 200 {
		t.Fatalf("update: %d %s", upd.status, upd.body)
	}
	var doc2 store.Action
	_ = json.Unmarshal(upd.body, &doc2)
	if doc2.Version != "0.0.2" || doc2.Limits.Memory != 128 || doc2.Limits.Timeout != 60000 || doc2.Exec.Code == nil || len(doc2.Parameters) != 1 {
		t.Errorf("updated doc = %+v", doc2)
	}
	ann, _ = json.Marshal(doc2.Annotations)
	if string(ann) != `[{"key":"provide-api-key","value":false},{"key":"exec","value":"js:goja"},{"key":"a","value":1}]` {
		t.Errorf("updated annotations = %s", ann)
	}

	got := h.do("GET", "/api/v1/namespaces/_/actions/hello?code=false", guestAuth, "")
	if got.status != 200 || strings.Contains(string(got.body), `"code"`) || !strings.Contains(string(got.body), `"binary":false`) {
		t.Errorf("GET code=false: %d %s", got.status, got.body)
	}
	if got := h.do("GET", "/api/v1/namespaces/_/actions/hello", guestAuth, ""); !strings.Contains(string(got.body), `"code":"function main`) {
		t.Errorf("GET: %s", got.body)
	}
	if del := h.do("DELETE", "/api/v1/namespaces/_/actions/hello", guestAuth, ""); del.status != 200 {
		t.Errorf("DELETE: %d %s", del.status, del.body)
	}
	wantError(t, h.do("GET", "/api/v1/namespaces/_/actions/hello", guestAuth, ""), 404, msgNotFound)
	wantError(t, h.do("DELETE", "/api/v1/namespaces/_/actions/hello", guestAuth, ""), 404, msgNotFound)
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", guestAuth, "{}"), 404, msgNotFound)
}

func TestActionPutRejections(t *testing.T) {
	h := newHarness(t, func(_ *config.Config, s *config.ServerConfig) { s.MaxBodySize = 4096 })
	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"bad JSON", `{"exec":`, 400, "The request content was malformed:\nthe JSON ends early"},
		{"syntax error", `{"exec" 1}`, 400, "invalid JSON at offset"},
		{"wrong type", `{"exec":{"kind":"js:goja","code":5}}`, 400, "exec.code: expected string"},
		{"trailing data", `{} {}`, 400, "unexpected data after the JSON value"},
		{"not an object", `[1]`, 400, "The request content was malformed"},
		{"fraction limit", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"memory":1.5}}`, 400, "limits.memory"},
		{"no exec", `{"parameters":[]}`, 400, msgExecUndefined},
		{"unknown kind", `{"exec":{"kind":"cobol:1","code":"x"}}`, 400, "The specified runtime 'cobol:1' is not supported by this platform. Valid values are: 'js:goja', 'nodejs:default', 'blackbox'."},
		{"no code", `{"exec":{"kind":"js:goja"}}`, 400, "'code' must be a string"},
		{"blackbox without image", `{"exec":{"kind":"blackbox"}}`, 400, "'image' must be a string"},
		{"memory high", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"memory":1024}}`, 400, "memory size 1024 MB exceeds allowed threshold of 512 MB"},
		{"memory low", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"memory":64}}`, 400, "memory size 64 MB below allowed threshold of 128 MB"},
		{"timeout high", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"timeout":400000}}`, 400, "duration 400000 milliseconds exceeds allowed threshold of 300000 milliseconds"},
		{"timeout low", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"timeout":50}}`, 400, "duration 50 milliseconds below allowed threshold of 100 milliseconds"},
		{"logs high", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"logs":11}}`, 400, "log size 11 MB exceeds allowed threshold of 10 MB"},
		{"concurrency high", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"concurrency":2}}`, 400, "concurrency 2 exceeds allowed threshold of 1"},
		{"concurrency low", `{"exec":{"kind":"js:goja","code":"x"},"limits":{"concurrency":0}}`, 400, "concurrency 0 below allowed threshold of 1"},
		{"too large", `{"exec":{"kind":"js:goja","code":"` + strings.Repeat("x", 5000) + `"}}`, 413, "Request larger than allowed: 5037 > 4096 bytes."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.do("PUT", "/api/v1/namespaces/_/actions/a", guestAuth, tt.body), tt.status, tt.msg)
		})
	}
	t.Run("no content type", func(t *testing.T) {
		req, _ := http.NewRequest("PUT", h.http.URL+"/api/v1/namespaces/_/actions/a", strings.NewReader(helloJS))
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(guestAuth)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 415 {
			t.Errorf("status = %d, want 415", resp.StatusCode)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		wantError(t, h.do("PUT", "/api/v1/namespaces/_/actions/-bad", guestAuth, helloJS), 400, msgBadEntityName)
		wantError(t, h.do("PUT", "/api/v1/namespaces/_/actions/"+strings.Repeat("a", 257), guestAuth, helloJS), 400, "Name segement longer than allowed: 257 > 256.")
		wantError(t, h.do("GET", "/api/v1/namespaces/b%21d/actions", guestAuth, ""), 400, msgBadNamespace)
		wantError(t, h.do("GET", "/api/v1/namespaces/_/actions/a/b/c", guestAuth, ""), 404, msgNoRoute)
	})
}

func TestBinaryAction(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/api/v1/namespaces/_/actions/zip", guestAuth, `{"exec":{"kind":"js:goja","code":"UEsDBA=="}}`)
	if r.status != 200 || !strings.Contains(string(r.body), `"binary":true`) || !strings.Contains(string(r.body), `"namespace":"guest"`) {
		t.Fatalf("binary action: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/namespaces/_/actions/zip?blocking=true", guestAuth, ""); r.status != 200 {
		t.Errorf("invoke: %d %s", r.status, r.body)
	}
	if a := h.inv.last(); a.Action.Namespace != "guest" || !a.Action.Binary || a.Action.Digest == "" {
		t.Errorf("activation action = %+v", a.Action)
	}
}

func TestListActionsPaging(t *testing.T) {
	h := newHarness(t)
	for i := range 5 {
		body := `{"exec":{"kind":"js:goja","code":"x"}}`
		if r := h.do("PUT", fmt.Sprintf("/api/v1/namespaces/_/actions/a%d", i), guestAuth, body); r.status != 200 {
			t.Fatal(r.status, string(r.body))
		}
	}
	names := func(r reply) string {
		var list []map[string]any
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatalf("%s: %v", r.body, err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a["name"].(string))
			if _, ok := a["exec"].(map[string]any)["code"]; ok {
				t.Errorf("list element carries code: %v", a)
			}
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		query, want string
	}{
		{"", "a4,a3,a2,a1,a0"},
		{"?limit=2&skip=0", "a4,a3"},
		{"?limit=2&skip=3", "a1,a0"},
		{"?limit=0&skip=4", "a0"},
	}
	for _, tt := range tests {
		r := h.do("GET", "/api/v1/namespaces/_/actions"+tt.query, guestAuth, "")
		if got := names(r); got != tt.want {
			t.Errorf("list%s = %s, want %s", tt.query, got, tt.want)
		}
	}
	if r := h.do("GET", "/api/v1/namespaces/_/actions?count=true", guestAuth, ""); string(r.body) != `{"actions":5}` {
		t.Errorf("count = %s", r.body)
	}
	wantError(t, h.do("GET", "/api/v1/namespaces/_/actions?limit=201", guestAuth, ""), 400, "The value '201' is not in the range of 0 to 200 for actions.")
	wantError(t, h.do("GET", "/api/v1/namespaces/_/actions?limit=x", guestAuth, ""), 400, "The value 'x' is not an integer for actions.")
	wantError(t, h.do("GET", "/api/v1/namespaces/_/actions?skip=-1", guestAuth, ""), 400, "The value '-1' is not greater than or equal to 0 for actions.")
}

func TestInvokeBlocking(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	h.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=true", guestAuth, `{"parameters":[{"key":"name","value":"Default"},{"key":"greeting","value":"hi"},{"key":"SECRET","value":"s","init":true}]}`)

	r := h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=false", guestAuth, `{"name":"Ada"}`+"\n")
	if r.status != 200 {
		t.Fatalf("blocking: %d %s", r.status, r.body)
	}
	var rec store.Activation
	if err := json.Unmarshal(r.body, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.ActivationID != r.header.Get(activationHeader) || len(rec.ActivationID) != 32 {
		t.Errorf("activation id %q, header %q", rec.ActivationID, r.header.Get(activationHeader))
	}
	if !rec.Response.Success || rec.Response.Status != "success" || rec.Namespace != "guest" || rec.Subject != "guest" || rec.Version != "0.0.2" {
		t.Errorf("record = %+v", rec)
	}
	if string(rec.Response.Result) != `{"greeting":"hi","name":"Ada"}` {
		t.Errorf("result = %s: the body must override defaults, init parameters stay out", rec.Response.Result)
	}
	ann := map[string]string{}
	for _, kv := range rec.Annotations {
		ann[kv.Key] = string(kv.Value)
	}
	want := map[string]string{"path": `"guest/hello"`, "kind": `"js:goja"`, "waitTime": "2", "initTime": "40", "timeout": "false",
		"startKind": `"cold"`, "limits": `{"timeout":60000,"memory":256,"logs":10,"concurrency":1}`}
	for k, v := range want {
		if ann[k] != v {
			t.Errorf("annotation %s = %s, want %s", k, ann[k], v)
		}
	}
	act := h.inv.last()
	if act.InitEnv["SECRET"] != "s" || act.APIKey != "" || act.TransactionID != r.header.Get("X-Request-Id") || act.Action.Limits.Memory != 256*config.MB {
		t.Errorf("activation = %+v", act)
	}

	r = h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", guestAuth, `{"name":"Bob"}`)
	if r.status != 200 || string(r.body) != `{"greeting":"hi","name":"Bob"}` {
		t.Errorf("result=true: %d %s", r.status, r.body)
	}
	// The record is readable as soon as the invoke returned.
	id := r.header.Get(activationHeader)
	if g := h.do("GET", "/api/v1/namespaces/_/activations/"+id, guestAuth, ""); g.status != 200 {
		t.Errorf("GET activation right after: %d %s", g.status, g.body)
	}
	if g := h.do("GET", "/api/v1/namespaces/_/activations/"+id+"/result", guestAuth, ""); string(g.body) != `{"status":"success","success":true,"result":{"greeting":"hi","name":"Bob"},"size":30}` {
		t.Errorf("result: %s", g.body)
	}
	if g := h.do("GET", "/api/v1/namespaces/_/activations/"+id+"/logs", guestAuth, ""); string(g.body) != `{"logs":["2024-06-01T12:00:00.201345678Z stdout: hi"]}` {
		t.Errorf("logs: %s", g.body)
	}
}

func TestInvokeOutcomes(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	tests := []struct {
		name       string
		res        actors.Result
		err        error
		resultOnly bool
		status     int
		body       string // substring
	}{
		{"application error", actors.Result{Status: factory.StatusApplicationError, Response: json.RawMessage(`{"error":"no name"}`)}, nil, true, 502, `{"error":"no name"}`},
		{"developer error record", actors.Result{Status: factory.StatusDeveloperError, Response: json.RawMessage(`{"error":"The action exceeded its time limits of 60000 milliseconds."}`), TimedOut: true}, nil, false, 502, `"status":"action developer error"`},
		{"internal error", actors.Result{Status: factory.StatusInternalError, Response: json.RawMessage(`{"error":"boom"}`)}, nil, false, 500, `"status":"whisk internal error"`},
		{"not accepted", actors.Result{}, errors.New("buffer full"), true, 500, `could not run the activation: buffer full`},
		{"array result", actors.Result{Status: factory.StatusSuccess, Response: json.RawMessage(`[1,2]`)}, nil, false, 200, `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.inv.mu.Lock()
			h.inv.run = func(context.Context, actors.Activation) (actors.Result, error) { return tt.res, tt.err }
			h.inv.mu.Unlock()
			r := h.do("POST", fmt.Sprintf("/api/v1/namespaces/_/actions/hello?blocking=true&result=%v", tt.resultOnly), guestAuth, "{}")
			if r.status != tt.status || !strings.Contains(string(r.body), tt.body) {
				t.Errorf("got %d %s, want %d containing %s", r.status, r.body, tt.status, tt.body)
			}
			if strings.Contains(string(r.body), `"code"`) {
				t.Errorf("an activation outcome must not look like an error envelope: %s", r.body)
			}
		})
	}
}

func TestInvokeNonBlockingAndTimeout(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	release := make(chan struct{})
	h.inv.run = func(ctx context.Context, a actors.Activation) (actors.Result, error) {
		select {
		case <-release:
			return succeed(a), nil
		case <-ctx.Done():
			return actors.Result{}, ctx.Err()
		}
	}
	r := h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=false&result=false", guestAuth, `{"name":"Bob"}`)
	if r.status != 202 {
		t.Fatalf("non-blocking: %d %s", r.status, r.body)
	}
	id := r.json(t)["activationId"].(string)
	if id != r.header.Get(activationHeader) {
		t.Errorf("body id %s != header %s", id, r.header.Get(activationHeader))
	}
	// Running: not found yet.
	wantError(t, h.do("GET", "/api/v1/namespaces/_/activations/"+id, guestAuth, ""), 404, msgNotFound)

	// Blocking past the wait limit: 202 with the id, the activation goes on.
	r = h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&timeout=50", guestAuth, `{}`)
	if r.status != 202 {
		t.Fatalf("blocking timeout: %d %s", r.status, r.body)
	}
	id2 := r.json(t)["activationId"].(string)
	if h.srv.InFlight() != 2 {
		t.Errorf("in flight = %d, want 2", h.srv.InFlight())
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, i := range []string{id, id2} {
		if g := h.do("GET", "/api/v1/namespaces/_/activations/"+i, guestAuth, ""); g.status != 200 || !strings.Contains(string(g.body), `"success":true`) {
			t.Errorf("activation %s after finishing: %d %s", i, g.status, g.body)
		}
	}
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&timeout=60001", guestAuth, `{}`), 400, "Timeout must be number of milliseconds up to 60000.")
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=maybe", guestAuth, `{}`), 400, "The query parameter 'blocking' was malformed")
}

func TestInvokeBodyRules(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *config.ServerConfig) { c.Limits.Payload.Max = 100 })
	h.createHello()
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello", guestAuth, `{"x":"`+strings.Repeat("y", 200)+`"}`), 413, "Request larger than allowed: 208 > 100 bytes.")
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello", guestAuth, `{"x":`), 400, "The request content was malformed")
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello", guestAuth, `[1]`), 400, "The request content was malformed")
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/nope", guestAuth, `{}`), 404, msgNotFound)

	h.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=true", guestAuth, `{"parameters":[{"key":"name","value":"fixed"}],"annotations":[{"key":"final","value":true},{"key":"provide-api-key","value":true}]}`)
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello", guestAuth, `{"name":"other"}`), 400, msgFinalParams)
	if r := h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", guestAuth, `{"extra":1}`); r.status != 200 {
		t.Errorf("final with a new key: %d %s", r.status, r.body)
	}
	if k := h.inv.last().APIKey; k != guestAuth {
		t.Errorf("provide-api-key true: APIKey = %q", k)
	}
}

func TestListActivations(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	h.do("PUT", "/api/v1/namespaces/_/actions/other", guestAuth, `{"exec":{"kind":"js:goja","code":"x"}}`)
	var ids []string
	for i := range 4 {
		path := "hello"
		if i%2 == 1 {
			path = "other"
		}
		r := h.do("POST", "/api/v1/namespaces/_/actions/"+path+"?blocking=true", guestAuth, "{}")
		ids = append(ids, r.header.Get(activationHeader))
	}
	r := h.do("GET", "/api/v1/namespaces/_/activations?limit=30&skip=0", guestAuth, "")
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 4 {
		t.Fatalf("list: %s (%v)", r.body, err)
	}
	if _, ok := list[0]["statusCode"]; !ok {
		t.Errorf("summary lacks statusCode: %v", list[0])
	}
	if _, ok := list[0]["response"]; ok {
		t.Errorf("summary carries response: %v", list[0])
	}
	r = h.do("GET", "/api/v1/namespaces/_/activations?docs=true&limit=1&name=other&skip=0", guestAuth, "")
	if !strings.Contains(string(r.body), ids[3]) || !strings.Contains(string(r.body), `"response"`) {
		t.Errorf("docs, name filter: %s", r.body)
	}
	if r := h.do("GET", "/api/v1/namespaces/_/activations?count=true&name=hello", guestAuth, ""); string(r.body) != `{"activations":2}` {
		t.Errorf("count: %s", r.body)
	}
	wantError(t, h.do("GET", "/api/v1/namespaces/_/activations?since=yesterday", guestAuth, ""), 400, "Parameter is not a valid value for epoch seconds: yesterday")
	wantError(t, h.do("GET", "/api/v1/namespaces/_/activations?name=a/b/c", guestAuth, ""), 400, "Parameter may be a 'simple' name or 'package-name/simple' name: a/b/c")
	wantError(t, h.do("GET", "/api/v1/namespaces/_/activations?docs=true&count=true", guestAuth, ""), 400, "The parameter 'docs' is not permitted with 'count'.")
	wantError(t, h.do("GET", "/api/v1/namespaces/_/activations/123", guestAuth, ""), 400, "Activation id length is 3 but must be 32.")
	wantError(t, h.do("GET", "/api/v1/namespaces/_/activations/"+strings.Repeat("z", 32), guestAuth, ""), 400, msgBadActivation)
	wantError(t, h.do("GET", "/api/v1/namespaces/_/activations/"+ids[0]+"/other", guestAuth, ""), 404, msgNoRoute)
	wantError(t, h.do("DELETE", "/api/v1/namespaces/_/activations/"+ids[0], guestAuth, ""), 405, "HTTP method not allowed")
	wantError(t, h.do("GET", "/api/v1/namespaces/alice/activations/"+ids[0], aliceAuth, ""), 404, msgNotFound)
}

func TestDrainingAndOps(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	if r := h.do("GET", "/readyz", "", ""); r.status != 200 {
		t.Errorf("readyz: %d", r.status)
	}
	if r := h.do("GET", "/v1/pool", "", ""); r.status != 200 || r.json(t)["totalMB"] != float64(1024) {
		t.Errorf("pool: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/metrics", "", ""); !strings.Contains(string(r.body), "stemcell_http_requests_total") {
		t.Errorf("metrics lack stemcell_http_requests_total")
	}
	h.srv.StopAccepting()
	wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/hello", guestAuth, "{}"), 503, msgUnavailable)
	if r := h.do("GET", "/readyz", "", ""); r.status != 503 {
		t.Errorf("readyz while stopping: %d", r.status)
	}
	if r := h.do("GET", "/api/v1/namespaces/_/actions/hello", guestAuth, ""); r.status != 200 {
		t.Errorf("reads go on while stopping: %d", r.status)
	}
	if r := h.do("GET", "/healthz", "", ""); r.status != 200 {
		t.Errorf("healthz: %d", r.status)
	}
	if r := h.do("GET", "/api/v1/namespaces/_/rules?limit=0&skip=0", guestAuth, ""); string(r.body) != "[]" {
		t.Errorf("rules: %s", r.body)
	}
}

func TestAbandonAnswersEveryActivation(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	// An invoker that never answers on its own.
	h.inv.run = func(ctx context.Context, a actors.Activation) (actors.Result, error) {
		<-ctx.Done()
		return actors.Result{}, ctx.Err()
	}
	r := h.do("POST", "/api/v1/namespaces/_/actions/hello", guestAuth, "{}")
	id := r.json(t)["activationId"].(string)
	h.srv.StopAccepting()
	h.srv.Abandon()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	g := h.do("GET", "/api/v1/namespaces/_/activations/"+id, guestAuth, "")
	if g.status != 200 || !strings.Contains(string(g.body), store.MsgStopped) || !strings.Contains(string(g.body), "whisk internal error") {
		t.Errorf("abandoned activation: %d %s", g.status, g.body)
	}
}

func TestKeysFile(t *testing.T) {
	path := t.TempDir() + "/sub/keys"
	k, created, err := LoadOrCreateKeys(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("generated keys file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	ns := k.Namespaces()
	if len(ns) != 1 || ns[0] != "guest" {
		t.Errorf("namespaces = %v", ns)
	}
	for _, id := range k.byUUID {
		if len(id.Key) != keyLength || len(id.UUID) != 36 {
			t.Errorf("generated %q:%q", id.UUID, id.Key)
		}
	}
	k2, created, err := LoadOrCreateKeys(path)
	if err != nil || created || fmt.Sprint(k2.byUUID) != fmt.Sprint(k.byUUID) {
		t.Errorf("reload: created=%v err=%v", created, err)
	}
	bad := []string{"", "uuid:key", "nocolon guest", "u:k bad!ns", "u:k a\nu:k b"}
	for _, b := range bad {
		if _, err := ParseKeys([]byte(b), "t"); err == nil {
			t.Errorf("ParseKeys(%q) accepted", b)
		}
	}
}

func TestPprofOnlyBehindItsFlag(t *testing.T) {
	for _, on := range []bool{false, true} {
		h := newHarness(t, func(_ *config.Config, s *config.ServerConfig) { s.Pprof = on })
		r := h.do("GET", "/debug/pprof/", "", "")
		if (r.status == 200) != on {
			t.Errorf("pprof=%v: /debug/pprof/ status %d", on, r.status)
		}
	}
}
