package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/store"
)

// FuzzDecodeActionPut feeds arbitrary bodies to the action PUT decoder and
// the merge that follows it: every input is either refused with an API
// error or yields a document within the configured limits that encodes to
// JSON and decodes back unchanged.
func FuzzDecodeActionPut(f *testing.F) {
	for _, seed := range []string{
		helloJS,
		`{"exec":{"kind":"js:goja","code":"UEsDBA==","main":"m"},"limits":{"memory":128,"timeout":100,"logs":0,"concurrency":1}}`,
		`{"exec":{"kind":"blackbox","image":"stemcell/action-runtime:dev"},"parameters":[{"key":"a","value":{"b":[1,2]},"init":true}]}`,
		`{"annotations":[{"key":"final","value":true},{"key":"final"}],"delAnnotations":["x"],"publish":true,"version":"1.2.3"}`,
		`{"limits":{"memory":1.5}}`, `[]`, `null`, `{"exec":null}`, `{} x`, "",
	} {
		f.Add([]byte(seed))
	}
	s := &Server{cfg: config.Default()}
	s.kinds = manifestKinds(s.cfg.RuntimesManifest.Manifest)
	code := "old"
	old := &store.Action{Namespace: "guest", Name: "a", Version: "0.0.9", Exec: store.Exec{Kind: "js:goja", Code: &code},
		Limits: s.defaultLimits(), Parameters: []store.KeyValue{}, Annotations: []store.KeyValue{{Key: "x", Value: json.RawMessage("1")}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeActionPut(body)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status < 400 || ae.status > 499 {
				t.Fatalf("decode error %v is not a 4xx API error", err)
			}
			return
		}
		for _, prev := range []*store.Action{nil, old} {
			a, err := s.mergeAction(prev, p, "guest", actionPath{name: "a"}, true, 1)
			if err != nil {
				var ae *apiError
				if !errors.As(err, &ae) || ae.status != 400 {
					t.Fatalf("merge error %v is not a 400", err)
				}
				continue
			}
			if err := s.checkLimits(a.Limits); err != nil {
				t.Fatalf("merged limits out of range: %v", err)
			}
			if a.Exec.Kind == "" || !hasKey(a.Annotations, "exec") {
				t.Fatalf("merged action lacks a kind or its exec annotation: %+v", a)
			}
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatalf("merged action does not encode: %v", err)
			}
			var back store.Action
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("merged action does not decode: %v", err)
			}
			b2, _ := json.Marshal(&back)
			if string(b) != string(b2) {
				t.Fatalf("round trip changed the document:\n%s\n%s", b, b2)
			}
		}
	})
}

// FuzzDecodeArgs feeds arbitrary invoke bodies to the argument decoder and
// merge: the parameters sent to an action are always one JSON object that
// holds every argument of the body.
func FuzzDecodeArgs(f *testing.F) {
	for _, seed := range []string{`{"name":"Ada"}` + "\n", `{}`, ``, `  `, `null`, `[1]`, `{"a":1,"a":2}`, `{"a":{"b":[null,true,1e400]}}`, `"x"`, `{"a":1} {}`} {
		f.Add([]byte(seed))
	}
	defaults := map[string]json.RawMessage{"name": json.RawMessage(`"default"`), "n": json.RawMessage(`null`)}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameParams(t, body)
		args, err := decodeArgs(body)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 {
				t.Fatalf("decode error %v is not a 400", err)
			}
			return
		}
		for _, final := range []bool{false, true} {
			params, err := mergeArgs(defaults, args, final)
			if err != nil {
				if !final {
					t.Fatalf("merge without final failed: %v", err)
				}
				continue
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(params, &obj); err != nil || obj == nil {
				t.Fatalf("params %q are not a JSON object: %v", params, err)
			}
			for k := range args {
				if _, ok := obj[k]; !ok {
					t.Fatalf("argument %q lost in %s", k, params)
				}
			}
			if _, ok := obj["name"]; !ok {
				t.Fatalf("default parameter lost in %s", params)
			}
		}
	})
}

// FuzzAPI sends arbitrary methods, paths, queries and bodies through the
// whole handler with valid credentials: it must never panic or fail with a
// 500, and every error must be OpenWhisk's envelope with a code.
func FuzzAPI(f *testing.F) {
	seeds := []struct {
		method uint8
		path   string
		body   string
	}{
		{1, "/api/v1/namespaces/_/actions/hello?overwrite=true", helloJS},
		{2, "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", `{"name":"x"}`},
		{2, "/api/v1/namespaces/_/actions/hello?blocking=false", ``},
		{0, "/api/v1/namespaces/_/activations?limit=0&skip=1&since=1&upto=2&name=a/b&docs=true", ``},
		{0, "/api/v1/namespaces/_/activations/0123456789abcdef0123456789abcdef/logs", ``},
		{3, "/api/v1/namespaces/_/actions/pkg/hello", ``},
		{0, "/api/v1/namespaces/_/actions/pkg/?count=true", ``},
		{0, "/api/v1/namespaces/gu%20est/actions/a%2Fb", ``},
		{0, "/api/v1", ``},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, []byte(s.body))
	}
	h := newHarness(f)
	handler := h.srv.Handler()
	methods := []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"}
	f.Fuzz(func(t *testing.T, m uint8, path string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(methods[int(m)%len(methods)], "http://x/api/v1/namespaces"+path, bytes.NewReader(body))
		if err != nil {
			return // not a URL a client could send
		}
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(guestAuth)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		res := rec.Result()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, req.URL, res.StatusCode, b)
		}
		if res.StatusCode >= 400 {
			var e struct {
				Error string `json:"error"`
				Code  string `json:"code"`
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Error == "" || e.Code == "" {
				t.Fatalf("%s %s: %d with a body that is not an error envelope: %s", req.Method, req.URL, res.StatusCode, b)
			}
		}
	})
}

// sameParams checks that invocationParams without defaults (the fast path)
// accepts exactly the bodies the full decode and merge accept, with the
// same arguments.
func sameParams(t *testing.T, body []byte) {
	t.Helper()
	fast, ferr := invocationParams(body, nil, false)
	var slow json.RawMessage
	args, serr := decodeArgs(body)
	if serr == nil {
		slow, serr = mergeArgs(nil, args, false)
	}
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("body %q: fast path error %v, full path error %v", body, ferr, serr)
	}
	if ferr != nil {
		if ferr.Error() != serr.Error() {
			t.Fatalf("body %q: fast path says %q, full path %q", body, ferr, serr)
		}
		return
	}
	var fm, sm map[string]json.RawMessage
	if err := json.Unmarshal(fast, &fm); err != nil {
		t.Fatalf("body %q: fast params %q: %v", body, fast, err)
	}
	if err := json.Unmarshal(slow, &sm); err != nil {
		t.Fatalf("body %q: full params %q: %v", body, slow, err)
	}
	if len(fm) != len(sm) {
		t.Fatalf("body %q: fast %s, full %s", body, fast, slow)
	}
	for k, v := range sm {
		var a, b bytes.Buffer
		_ = json.Compact(&a, v)
		_ = json.Compact(&b, fm[k])
		if a.String() != b.String() {
			t.Fatalf("body %q: argument %q is %s on the fast path, %s on the full one", body, k, b.String(), a.String())
		}
	}
}
