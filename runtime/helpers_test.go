package runtime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is an io.Writer tests read while the runtime writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the output split into lines, without the final newline.
func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSuffix(b.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type harness struct {
	t      testing.TB
	srv    *Server
	stdout *syncBuffer
	stderr *syncBuffer
}

// newHarness returns a runtime writing to buffers, closed at test end.
func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	opts.Stdout, opts.Stderr = h.stdout, h.stderr
	if opts.Environ == nil {
		opts.Environ = []string{"PATH=/usr/bin:/bin", "BASE=from-process"}
	}
	h.srv = NewServer(opts)
	t.Cleanup(func() {
		if err := h.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// response is a decoded runtime answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorText returns the "error" field of a JSON object body, or "".
func (r response) errorText() string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

func (h *harness) post(path string, body any) response {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatalf("encoding %s body: %v", path, err)
		}
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(raw)))
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// initJS posts JavaScript code with optional main name and env.
func (h *harness) initJS(code, main string, env map[string]string) response {
	h.t.Helper()
	value := map[string]any{"name": "test-action", "main": main, "binary": false, "code": code}
	if env != nil {
		value["env"] = env
	}
	return h.post("/init", map[string]any{"value": value})
}

// mustInitJS fails the test unless the code initialises.
func (h *harness) mustInitJS(code string) {
	h.t.Helper()
	if r := h.initJS(code, "", nil); r.status != http.StatusOK {
		h.t.Fatalf("/init: status %d, body %s", r.status, r.body)
	}
}

func (h *harness) initBinary(data []byte) response {
	h.t.Helper()
	return h.post("/init", map[string]any{"value": map[string]any{
		"name": "native-action", "main": "main", "binary": true,
		"code": base64.StdEncoding.EncodeToString(data),
		"env":  map[string]string{"GREETING": "hi"},
	}})
}

// run posts one activation with the usual context keys.
func (h *harness) run(params any, activationID string) response {
	h.t.Helper()
	return h.post("/run", map[string]any{
		"value":          params,
		"namespace":      "guest",
		"action_name":    "/guest/test-action",
		"action_version": "0.0.1",
		"activation_id":  activationID,
		"transaction_id": "tx-" + activationID,
		"deadline":       "1700000000000",
	})
}

// assertJSON compares a body with the expected JSON text semantically.
func assertJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected %q is not JSON: %v", want, err)
	}
	gj, _ := json.Marshal(g)
	wj, _ := json.Marshal(w)
	if !bytes.Equal(gj, wj) {
		t.Fatalf("body = %s, want %s", gj, wj)
	}
}

func assertLines(t testing.TB, stream string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s lines:\n got %q\nwant %q", stream, got, want)
	}
}

func newRecorder(h *harness, method, path string) response {
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("{}")))
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}
