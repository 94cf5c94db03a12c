package front

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/route"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	guestUUID = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502"
	guestKey  = "123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
	guestAuth = guestUUID + ":" + guestKey
	frontID   = "front-test"
)

func testKeys(t testing.TB) *server.Keys {
	t.Helper()
	keys, err := server.ParseKeys([]byte(guestAuth+" guest\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// seen is one request a fake invoker received.
type seen struct {
	method, path, query string
	header              http.Header
	body                string
}

// fakeInvoker is an httptest invoker whose handler the test chooses; it
// records every request it gets.
type fakeInvoker struct {
	id      string
	http    *httptest.Server
	handler atomic.Pointer[http.HandlerFunc]
	mu      sync.Mutex
	got     []seen
}

// set makes the invoker answer with h from now on.
func (fi *fakeInvoker) set(h http.HandlerFunc) { fi.handler.Store(&h) }

func (fi *fakeInvoker) requests() []seen {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return append([]seen(nil), fi.got...)
}

func (fi *fakeInvoker) invokes() int {
	n := 0
	for _, s := range fi.requests() {
		if s.method == http.MethodPost {
			n++
		}
	}
	return n
}

// newFakeInvoker serves h, after recording the request with its body.
func newFakeInvoker(t *testing.T, id string, h http.HandlerFunc) *fakeInvoker {
	t.Helper()
	fi := &fakeInvoker{id: id}
	fi.set(h)
	fi.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fi.mu.Lock()
		fi.got = append(fi.got, seen{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, header: r.Header.Clone(), body: string(b)})
		fi.mu.Unlock()
		(*fi.handler.Load())(w, r)
	}))
	t.Cleanup(fi.http.Close)
	return fi
}

// echoRecord answers an invoke as an invoker would, blocking or not, with
// the id the front chose.
func echoRecord(id string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		aid := r.Header.Get(server.HopActivationHeader)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(server.ActivationHeader, aid)
		if r.URL.Query().Get("blocking") != "true" {
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(map[string]string{"activationId": aid})
			return
		}
		result := map[string]string{"ranOn": id}
		if r.URL.Query().Get("result") == "true" {
			_ = json.NewEncoder(w).Encode(result)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"activationId": aid, "namespace": "guest", "name": "hello",
			"response": map[string]any{"status": "success", "success": true, "result": result},
		})
	}
}

// invokerOf is an invoker of 4 GB, all free, as a view lists it.
func invokerOf(id string) route.Invoker {
	return route.Invoker{ID: id, Incarnation: 1, Revision: 1, UserMemory: 4 * config.GB, Free: 4 * config.GB}
}

// testFront is a front over fake invokers.
type testFront struct {
	t     *testing.T
	front *Front
	http  *httptest.Server
	view  *StaticView
	store *store.Store
	fakes map[string]*fakeInvoker
}

type frontOption func(o *Options)

// newTestFront makes a front over the fakes, in the order given, each
// under its id.
func newTestFront(t *testing.T, fakes []*fakeInvoker, opts ...frontOption) *testFront {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	invs := make([]route.Invoker, len(fakes))
	addrs := make([]string, len(fakes))
	byID := map[string]*fakeInvoker{}
	for i, fi := range fakes {
		invs[i], addrs[i], byID[fi.id] = invokerOf(fi.id), fi.http.URL, fi
	}
	view := NewStaticView(invs, addrs)
	o := Options{
		Config: config.Default(), Server: config.DefaultServer(), ID: frontID, Store: st,
		Keys: testKeys(t), View: view, Log: zerolog.Nop(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	f, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	tf := &testFront{t: t, front: f, http: httptest.NewServer(f.Handler()), view: view, store: st, fakes: byID}
	t.Cleanup(func() {
		tf.http.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	return tf
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (r answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request with the guest's credentials and extra headers.
func (tf *testFront) do(method, path, body string, header ...string) answer {
	tf.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, tf.http.URL+path, rd)
	if err != nil {
		tf.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(guestAuth)))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tf.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tf.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

const helloJS = `{"exec":{"kind":"nodejs:default","code":"function main(p) { return p; }"},"limits":{"memory":256}}`

// createHello creates guest/hello through the front.
func (tf *testFront) createHello() {
	tf.t.Helper()
	if r := tf.do("PUT", "/api/v1/namespaces/_/actions/hello", helloJS); r.status != 200 {
		tf.t.Fatalf("create hello: %d %s", r.status, r.body)
	}
}

// ranking is the order in which route would try the view's invokers for
// guest/hello at 256 MB, from the placement function itself.
func (tf *testFront) ranking() []string {
	tf.t.Helper()
	doc, err := tf.store.GetAction("guest", "hello")
	if err != nil {
		tf.t.Fatal(err)
	}
	a := route.Action{Namespace: "guest", Name: "guest/hello", Version: doc.Version}
	p, err := route.Place(a, 256*config.MB, tf.view.Current().Invokers, nil, route.Options{Candidates: len(tf.fakes)})
	if err != nil {
		tf.t.Fatal(err)
	}
	ids := make([]string, len(p.Candidates))
	for i, c := range p.Candidates {
		ids[i] = c.ID
	}
	return ids
}

// metric reads one sample of the front's /metrics ("name" or
// `name{label="v"}`), or fails.
func (tf *testFront) metric(name string) string {
	tf.t.Helper()
	r := tf.do("GET", "/metrics", "")
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	tf.t.Fatalf("metric %s not in /metrics", name)
	return ""
}

// wantError checks an OpenWhisk error envelope whose message holds all of
// parts.
func wantError(t *testing.T, r answer, status int, parts ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	m := r.json(t)
	msg, _ := m["error"].(string)
	if _, ok := m["code"].(string); !ok {
		t.Errorf("envelope without a string code: %s", r.body)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}

func basic(auth string) string { return base64.StdEncoding.EncodeToString([]byte(auth)) }
