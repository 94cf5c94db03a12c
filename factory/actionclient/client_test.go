package actionclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	cfgpkg "github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// reply answers with status and body and an explicit Content-Length, as a
// conforming runtime does.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// memoryExhausted answers as Stemcell's runtime does for an action it
// aborted for memory: status and body, marked by MemoryExhaustedHeader.
func memoryExhausted(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(MemoryExhaustedHeader, "true")
		reply(status, body)(w, r)
	}
}

// chunked streams the body without Content-Length.
func chunked(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, body[:1])
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, body[1:])
	}
}

// hangUp closes the connection without answering, like a runtime that died.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// shortBody promises ten bytes, sends three and hangs up.
func shortBody(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a")
	_ = buf.Flush()
	_ = conn.Close()
}

// stall answers only after the client gave up. Reading the body first lets
// the server notice the client's hang-up.
func stall(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func client(t *testing.T, srv *httptest.Server, opts Options) *Client {
	t.Helper()
	c := New(srv.Listener.Addr().String(), opts)
	t.Cleanup(c.Close)
	return c
}

type wantErr int

const (
	noErr wantErr = iota
	healthErr
	connErr
)

func checkErr(t *testing.T, err error, want wantErr, op string, cause error) {
	t.Helper()
	var ce *ConnectionError
	isConn := errors.As(err, &ce)
	isHealth := errors.Is(err, factory.ErrHealth)
	switch want {
	case noErr:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case healthErr:
		if !isHealth || isConn {
			t.Fatalf("error %v: want ErrHealth only", err)
		}
	case connErr:
		if !isConn {
			t.Fatalf("error %v: want *ConnectionError", err)
		}
		if ce.Op != op {
			t.Errorf("ConnectionError.Op = %q, want %q", ce.Op, op)
		}
		if cause != nil && !errors.Is(err, cause) {
			t.Errorf("error %v does not wrap %v", err, cause)
		}
		if isHealth {
			t.Errorf("error %v: a connection error must not be ErrHealth", err)
		}
	}
}

func TestRunClassification(t *testing.T) {
	big := strings.Repeat("x", 100)
	tests := []struct {
		name       string
		h          http.HandlerFunc
		timeout    time.Duration
		max, trunc int64
		reschedule bool
		wantErr    wantErr
		cause      error
		status     factory.Status
		result     string
		timedOut   bool
	}{
		{name: "200 object", h: reply(200, `{"greeting":"hi"}`), status: factory.StatusSuccess, result: `{"greeting":"hi"}`},
		{name: "200 empty object", h: reply(200, `{}`), status: factory.StatusSuccess, result: `{}`},
		{name: "200 array", h: reply(200, `[1,{"a":2}]`), status: factory.StatusSuccess, result: `[1,{"a":2}]`},
		{name: "200 object with trailing newline", h: reply(200, "{\"a\":1}\n"), status: factory.StatusSuccess, result: `{"a":1}`},
		{name: "200 error string", h: reply(200, `{"error":"boom","other":1}`), status: factory.StatusApplicationError, result: `{"error":"boom"}`},
		{name: "200 error object", h: reply(200, `{"error":{"code":7}}`), status: factory.StatusApplicationError, result: `{"error":{"code":7}}`},
		{name: "200 number", h: reply(200, `42`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: 42"}`},
		{name: "200 string", h: reply(200, `"hi"`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: \"hi\""}`},
		{name: "200 null", h: reply(200, `null`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: null"}`},
		{name: "200 not JSON", h: reply(200, `hello <world>`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: hello <world>"}`},
		{name: "200 broken object", h: reply(200, `{"a":`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: {\"a\":"}`},
		{name: "200 empty body", h: reply(200, ``), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response."}`},
		{name: "502 object with error", h: reply(502, `{"error":"bad"}`), status: factory.StatusDeveloperError, result: `{"error":"bad"}`},
		{name: "500 object without error", h: reply(500, `{"x":1}`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: {\"x\":1}"}`},
		{name: "502 memory exhausted", h: memoryExhausted(502, `{"error":"out of memory"}`), status: factory.StatusDeveloperError,
			result: `{"error":"The action exhausted its memory and was aborted."}`},
		{name: "502 memory exhausted without body", h: memoryExhausted(502, ``), status: factory.StatusDeveloperError,
			result: `{"error":"The action exhausted its memory and was aborted."}`},
		{name: "200 with the memory header is a result", h: memoryExhausted(200, `{"a":1}`), status: factory.StatusSuccess, result: `{"a":1}`},
		{name: "500 array", h: reply(500, `[1]`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: [1]"}`},
		{name: "404 text", h: reply(404, `not found`), status: factory.StatusDeveloperError,
			result: `{"error":"The action did not produce a valid JSON or JSON Array response: not found"}`},
		{name: "oversized", h: reply(200, big), max: 10, trunc: 5, status: factory.StatusApplicationError,
			result: `{"error":"The action produced a response that exceeded the allowed length: 100 > 10 bytes. The truncated response was: xxxxx"}`},
		{name: "oversized error status", h: reply(500, big), max: 99, trunc: 3, status: factory.StatusApplicationError,
			result: `{"error":"The action produced a response that exceeded the allowed length: 100 > 99 bytes. The truncated response was: xxx"}`},
		{name: "exactly max", h: reply(200, `{"a":"`+big+`"}`), max: 108, trunc: 5, status: factory.StatusSuccess, result: `{"a":"` + big + `"}`},
		{name: "503", h: reply(503, `{"error":"shutting down"}`), wantErr: healthErr},
		{name: "204", h: reply(204, ``), wantErr: connErr, cause: ErrNoResponse},
		{name: "chunked", h: chunked(`{"a":1}`), wantErr: connErr, cause: ErrNoResponse},
		{name: "hang up", h: hangUp, wantErr: connErr},
		{name: "hang up with reschedule", h: hangUp, reschedule: true, wantErr: healthErr},
		{name: "body cut short", h: shortBody, wantErr: connErr, cause: io.ErrUnexpectedEOF},
		{name: "timeout", h: stall, timeout: 80 * time.Millisecond, status: factory.StatusDeveloperError,
			result: `{"error":"The action exceeded its time limits of 80 milliseconds."}`, timedOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.h)
			c := client(t, srv, Options{Pooled: true})
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			req := factory.RunRequest{
				Params: json.RawMessage(`{"name":"x"}`), ActivationID: "a1",
				Timeout: timeout, MaxPayload: limit(tt.max), Truncation: limit(tt.trunc), Reschedule: tt.reschedule,
			}
			before := time.Now()
			out, err := c.Run(context.Background(), req)
			checkErr(t, err, tt.wantErr, OpRun, tt.cause)
			if out.Start.Before(before) || out.End.Before(out.Start) {
				t.Errorf("interval [%v, %v] does not follow the call at %v", out.Start, out.End, before)
			}
			if tt.wantErr != noErr {
				return
			}
			if out.Status != tt.status || string(out.Result) != tt.result || out.TimedOut != tt.timedOut {
				t.Errorf("outcome = (%d, %s, timedOut %v), want (%d, %s, %v)",
					out.Status, out.Result, out.TimedOut, tt.status, tt.result, tt.timedOut)
			}
			if tt.timedOut && out.End.Sub(out.Start) < timeout {
				t.Errorf("timed out after %v, before the %v limit", out.End.Sub(out.Start), timeout)
			}
		})
	}
}

func TestInitClassification(t *testing.T) {
	tests := []struct {
		name     string
		h        http.HandlerFunc
		timeout  time.Duration
		opts     Options
		wantErr  wantErr
		cause    error
		status   factory.Status
		result   string
		timedOut bool
	}{
		{name: "200", h: reply(200, `{"ok":true}`), status: factory.StatusSuccess},
		{name: "200 body ignored", h: reply(200, `not json`), status: factory.StatusSuccess},
		{name: "502 object with error", h: reply(502, `{"error":"no main <fn>"}`), status: factory.StatusDeveloperError, result: `{"error":"no main <fn>"}`},
		{name: "403 object with error value", h: reply(403, `{"error":["a"]}`), status: factory.StatusDeveloperError, result: `{"error":["a"]}`},
		{name: "500 text", h: reply(500, `oops`), status: factory.StatusDeveloperError,
			result: `{"error":"The action failed during initialization: oops"}`},
		{name: "500 empty", h: reply(500, ``), status: factory.StatusDeveloperError,
			result: `{"error":"The action failed during initialization."}`},
		{name: "502 memory exhausted", h: memoryExhausted(502, `{"error":"out of memory"}`), status: factory.StatusDeveloperError,
			result: `{"error":"The action exhausted its memory and was aborted."}`},
		{name: "500 object without error", h: reply(500, `{"x":1}`), status: factory.StatusDeveloperError,
			result: `{"error":"The action failed during initialization: {\"x\":1}"}`},
		{name: "oversized 200", h: reply(200, strings.Repeat("y", 20)), opts: Options{InitMaxPayload: 8, InitTruncation: 4},
			status: factory.StatusDeveloperError,
			result: `{"error":"The action produced a response that exceeded the allowed length: 20 > 8 bytes. The truncated response was: yyyy"}`},
		{name: "503", h: reply(503, ``), wantErr: healthErr},
		{name: "hang up", h: hangUp, wantErr: connErr},
		{name: "chunked", h: chunked(`{"a":1}`), wantErr: connErr, cause: ErrNoResponse},
		{name: "timeout", h: stall, timeout: 60 * time.Millisecond, status: factory.StatusDeveloperError,
			result: `{"error":"The action exceeded its time limits of 60 milliseconds during initialization."}`, timedOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.h)
			c := client(t, srv, tt.opts)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			out, err := c.Init(context.Background(), factory.InitRequest{Name: "hello", Code: "x", Timeout: timeout})
			checkErr(t, err, tt.wantErr, OpInit, tt.cause)
			if tt.wantErr != noErr {
				return
			}
			if out.Status != tt.status || string(out.Result) != tt.result || out.TimedOut != tt.timedOut {
				t.Errorf("outcome = (%d, %s, timedOut %v), want (%d, %s, %v)",
					out.Status, out.Result, out.TimedOut, tt.status, tt.result, tt.timedOut)
			}
		})
	}
}

func limit(n int64) cfgpkg.ByteSize { return cfgpkg.ByteSize(n) }

func TestRequestBodies(t *testing.T) {
	type seen struct {
		path, contentType, accept string
		body                      map[string]any
	}
	got := make(chan seen, 4)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("%s: body is not JSON: %v", r.URL.Path, err)
		}
		got <- seen{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept"), b}
		reply(200, `{}`)(w, r)
	}))
	c := client(t, srv, Options{})
	ctx := context.Background()

	ok := func(out factory.Outcome, err error) {
		t.Helper()
		if err != nil || out.Status != factory.StatusSuccess {
			t.Fatalf("call failed: %+v %s, %v", out, out.Result, err)
		}
	}
	ok(c.Init(ctx, factory.InitRequest{
		Name: "guest/hello", Code: "function main(){}", Env: map[string]string{"__OW_NAMESPACE": "guest", "K": "v"},
		Timeout: time.Second,
	}))
	deadline := time.UnixMilli(1700000000123)
	ok(c.Run(ctx, factory.RunRequest{
		Params: json.RawMessage(`{"n": [1, 2]}`), Namespace: "guest", ActionName: "/guest/hello", ActionVersion: "0.0.1",
		ActivationID: "act1", TransactionID: "tid1", Deadline: deadline, APIKey: "k:s", Timeout: time.Second,
	}))
	ok(c.Init(ctx, factory.InitRequest{Name: "bin", Binary: true, Main: "run", Timeout: time.Second}))
	ok(c.Run(ctx, factory.RunRequest{ActivationID: "act2", Deadline: deadline, Timeout: time.Second}))

	want := []seen{
		{"/init", "application/json", "application/json", map[string]any{"value": map[string]any{
			"name": "guest/hello", "main": "main", "binary": false, "code": "function main(){}",
			"env": map[string]any{"__OW_NAMESPACE": "guest", "K": "v"},
		}}},
		{"/run", "application/json", "application/json", map[string]any{
			"value": map[string]any{"n": []any{1.0, 2.0}}, "namespace": "guest", "action_name": "/guest/hello",
			"action_version": "0.0.1", "activation_id": "act1", "transaction_id": "tid1",
			"deadline": "1700000000123", "api_key": "k:s",
		}},
		{"/init", "application/json", "application/json", map[string]any{"value": map[string]any{
			"name": "bin", "main": "run", "binary": true,
		}}},
		{"/run", "application/json", "application/json", map[string]any{
			"value": map[string]any{}, "namespace": "", "action_name": "", "action_version": "",
			"activation_id": "act2", "transaction_id": "", "deadline": "1700000000123",
		}},
	}
	for i, w := range want {
		g := <-got
		gb, _ := json.Marshal(g.body)
		wb, _ := json.Marshal(w.body)
		if g.path != w.path || g.contentType != w.contentType || g.accept != w.accept || string(gb) != string(wb) {
			t.Errorf("request %d = %s %s %s %s\nwant %s %s %s %s", i, g.path, g.contentType, g.accept, gb, w.path, w.contentType, w.accept, wb)
		}
	}
}

func TestRunRejectsInvalidParams(t *testing.T) {
	c := New("127.0.0.1:1", Options{})
	defer c.Close()
	_, err := c.Run(context.Background(), factory.RunRequest{Params: json.RawMessage(`{"a":`), ActivationID: "a9", Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "a9") {
		t.Fatalf("Run with invalid params: %v, want an error naming the activation", err)
	}
}

// reservePort returns a loopback address nobody listens on (for now).
func reservePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestInitRetriesUntilListening(t *testing.T) {
	addr := reservePort(t)
	c := New(addr, Options{RetryInterval: 5 * time.Millisecond})
	defer c.Close()
	refusals := make(chan error, 1)
	var n atomic.Int32
	c.onRetry = func(err error) {
		if n.Add(1) == 1 {
			refusals <- err
		}
	}
	type result struct {
		out factory.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := c.Init(context.Background(), factory.InitRequest{Name: "a", Timeout: 10 * time.Second})
		done <- result{out, err}
	}()

	select {
	case err := <-refusals:
		if !refused(err) {
			t.Fatalf("retried on %v, which is not a refusal", err)
		}
	case r := <-done:
		t.Fatalf("Init finished before the runtime listened: %+v", r)
	case <-time.After(5 * time.Second):
		t.Fatal("no refused attempt within 5 s")
	}

	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("reserved port %s was taken meanwhile: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(reply(200, `{"ok":true}`))
	srv.Listener = l
	srv.Start()
	defer srv.Close()

	select {
	case r := <-done:
		if r.err != nil || r.out.Status != factory.StatusSuccess {
			t.Fatalf("Init after the runtime came up = %+v, %v", r.out, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Init did not succeed within 5 s of the runtime listening")
	}
}

func TestInitRefusedUntilTimeout(t *testing.T) {
	c := New(reservePort(t), Options{RetryInterval: 5 * time.Millisecond})
	defer c.Close()
	var retries atomic.Int32
	c.onRetry = func(error) { retries.Add(1) }
	out, err := c.Init(context.Background(), factory.InitRequest{Name: "a", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":"The action exceeded its time limits of 100 milliseconds during initialization."}`
	if out.Status != factory.StatusDeveloperError || string(out.Result) != want || !out.TimedOut {
		t.Fatalf("outcome = %+v (%s), want developer error %s", out, out.Result, want)
	}
	if retries.Load() < 2 {
		t.Errorf("only %d retries in 100 ms at a 5 ms interval", retries.Load())
	}
}

func TestRunDoesNotRetryRefused(t *testing.T) {
	c := New(reservePort(t), Options{})
	defer c.Close()
	c.onRetry = func(err error) { t.Errorf("run retried after %v", err) }
	_, err := c.Run(context.Background(), factory.RunRequest{Timeout: 5 * time.Second})
	var ce *ConnectionError
	if !errors.As(err, &ce) || ce.Op != OpRun || !refused(err) {
		t.Fatalf("Run to a closed port: %v, want a refused *ConnectionError", err)
	}
}

func TestCancelledContextIsAnError(t *testing.T) {
	for _, pooled := range []bool{true, false} {
		t.Run(fmt.Sprintf("pooled=%v", pooled), func(t *testing.T) {
			arrived := make(chan struct{})
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				close(arrived)
				<-r.Context().Done()
			}))
			c := client(t, srv, Options{Pooled: pooled})
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-arrived
				cancel()
			}()
			// The runtime never answers: only the cancellation ends the
			// call, long before the action's timeout.
			_, err := c.Run(ctx, factory.RunRequest{Timeout: time.Hour})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run with a cancelled context: %v, want context.Canceled", err)
			}
		})
	}
}

// perConn serves h and counts the requests each TCP connection carried,
// by the client's address.
func perConn(t *testing.T, h http.Handler) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	counts := map[string]int{}
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counts[r.RemoteAddr]++
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(counts)
	}
}

func TestConnectionReuse(t *testing.T) {
	const runs = 5
	tests := []struct {
		name      string
		pooled    bool
		body      string
		wantConns int // connections that carried requests
	}{
		{"pooled reuses one connection", true, `{"ok":true}`, 1},
		{"pooled reuses after draining an oversized body", true, strings.Repeat("z", 4096), 1},
		{"unpooled uses one per request", false, `{"ok":true}`, runs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, counts := perConn(t, reply(200, tt.body))
			c := client(t, srv, Options{Pooled: tt.pooled})
			for range runs {
				if _, err := c.Run(context.Background(), factory.RunRequest{Timeout: 5 * time.Second, MaxPayload: 1024, Truncation: 16}); err != nil {
					t.Fatal(err)
				}
			}
			got := counts()
			if len(got) != tt.wantConns {
				t.Errorf("%d runs came on %d connections (%v), want %d", runs, len(got), got, tt.wantConns)
			}
			for addr, n := range got {
				if want := runs / tt.wantConns; n != want {
					t.Errorf("connection %s carried %d requests, want %d", addr, n, want)
				}
			}
		})
	}
}

func TestMaxConcurrencyBoundsConnections(t *testing.T) {
	for _, pooled := range []bool{true, false} {
		t.Run(fmt.Sprintf("pooled=%v", pooled), func(t *testing.T) { testMaxConcurrency(t, pooled) })
	}
}

func testMaxConcurrency(t *testing.T, pooled bool) {
	const limit = 2
	var inFlight, peak atomic.Int32
	arrived := make(chan struct{}, 3)
	release := make(chan struct{})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		inFlight.Add(-1)
		reply(200, `{}`)(w, r)
	}))
	c := client(t, srv, Options{Pooled: pooled, MaxConcurrency: limit})
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := c.Run(context.Background(), factory.RunRequest{Timeout: 10 * time.Second})
			errs <- err
		}()
	}
	for range limit {
		select {
		case <-arrived:
		case <-time.After(5 * time.Second):
			t.Fatal("the first runs did not reach the runtime")
		}
	}
	// A third connection would arrive promptly if the limit leaked.
	select {
	case <-arrived:
		t.Fatalf("a run beyond MaxConcurrency=%d reached the runtime", limit)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != limit {
		t.Errorf("peak concurrency %d, want %d", p, limit)
	}
}

func TestConnectionOutcome(t *testing.T) {
	start := time.Unix(100, 0)
	end := start.Add(time.Second)
	tests := []struct {
		op   string
		oom  bool
		want string
	}{
		{OpInit, false, `{"error":"The action did not initialize and exited unexpectedly."}`},
		{OpRun, false, `{"error":"The action did not produce a valid response and exited unexpectedly."}`},
		{OpInit, true, `{"error":"The action exhausted its memory and was aborted."}`},
		{OpRun, true, `{"error":"The action exhausted its memory and was aborted."}`},
	}
	for _, tt := range tests {
		out := ConnectionOutcome(tt.op, start, end, tt.oom)
		if out.Status != factory.StatusDeveloperError || string(out.Result) != tt.want || !out.Start.Equal(start) || !out.End.Equal(end) || out.TimedOut {
			t.Errorf("ConnectionOutcome(%s, oom=%v) = %+v (%s), want %s", tt.op, tt.oom, out, out.Result, tt.want)
		}
	}
}

func TestConnectionErrorMessage(t *testing.T) {
	err := &ConnectionError{Op: OpRun, Addr: "10.0.0.2:8080", Err: io.EOF}
	if got := err.Error(); !strings.Contains(got, "/run") || !strings.Contains(got, "10.0.0.2:8080") || !strings.Contains(got, "EOF") {
		t.Errorf("Error() = %q, want op, address and cause", got)
	}
}
