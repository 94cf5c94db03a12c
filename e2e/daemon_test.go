package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const helloJS = `function main(p) { console.log('hi ' + p.name); return {payload: 'Hello, ' + p.name}; }`

// slowJS answers after p.ms milliseconds.
const slowJS = `function main(p) { return new Promise(r => setTimeout(() => r({slept: p.ms}), p.ms)); }`

// TestDaemonAPI drives one daemon through OpenWhisk's calls: create,
// invoke blocking and non-blocking, read activations, the error statuses,
// admission, and a restart that keeps everything.
func TestDaemonAPI(t *testing.T) {
	d := newDaemon(t, "--user-memory", "512m", "--set", "limits.actions.invokes.concurrent=10")
	d.start()

	// Create, as `wsk action create hello hello.js` sends it.
	create := map[string]any{"namespace": "_", "name": "hello", "exec": map[string]any{"kind": "nodejs:default", "code": helloJS}}
	r := d.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=false", guestAuth, create)
	if r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	doc := r.object(t)
	if doc["namespace"] != "guest" || doc["version"] != "0.0.1" || doc["exec"].(map[string]any)["kind"] != "js:goja" {
		t.Errorf("created document: %s", r.body)
	}
	if r := d.do("PUT", "/api/v1/namespaces/_/actions/hello?overwrite=false", guestAuth, create); r.status != 409 || !strings.Contains(string(r.body), `"error":"resource already exists"`) {
		t.Errorf("create again: %v, want 409", r)
	}

	// Blocking: the record, then warm.
	r = d.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=false", guestAuth, map[string]any{"name": "Ada"})
	if r.status != 200 {
		t.Fatalf("blocking invoke: %v", r)
	}
	rec := r.object(t)
	resp := rec["response"].(map[string]any)
	if resp["success"] != true || resp["status"] != "success" || fmt.Sprint(resp["result"]) != "map[payload:Hello, Ada]" {
		t.Errorf("blocking record response: %s", r.body)
	}
	if rec["activationId"] != r.header.Get("X-Openwhisk-Activation-Id") {
		t.Errorf("record id %v, header %q", rec["activationId"], r.header.Get("X-Openwhisk-Activation-Id"))
	}
	first := annotations(rec)
	if _, cold := first["initTime"]; !cold {
		t.Errorf("first invoke has no initTime: it initialised a container, so it must: %s", r.body)
	}
	if k := first["startKind"]; k != "cold" && k != "prewarmed" {
		t.Errorf("first invoke startKind %v, want cold or prewarmed", k)
	}
	if first["path"] != "guest/hello" || first["kind"] != "js:goja" || first["timeout"] != false {
		t.Errorf("annotations: %v", first)
	}
	// As in OpenWhisk, a blocking answer comes before the logs are read;
	// the stored record has them as soon as the answer is out.
	if logs, ok := rec["logs"].([]any); !ok || len(logs) != 0 {
		t.Errorf("blocking answer logs: %v, want []", rec["logs"])
	}
	stored := d.activation(rec["activationId"].(string))
	if logs, _ := stored["logs"].([]any); len(logs) != 1 || !strings.HasSuffix(logs[0].(string), "stdout: hi Ada") {
		t.Errorf("stored logs: %v", stored["logs"])
	}

	r = d.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", guestAuth, map[string]any{"name": "Bob"})
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"payload":"Hello, Bob"}` {
		t.Errorf("blocking result=true: %v", r)
	}
	// The answer came before the logs were read; the very next request
	// finds them stored.
	if g := d.do("GET", "/api/v1/namespaces/_/activations/"+r.header.Get("X-Openwhisk-Activation-Id")+"/logs", guestAuth, nil); g.status != 200 || !strings.Contains(string(g.body), "stdout: hi Bob") {
		t.Errorf("logs right after a warm blocking invoke: %v", g)
	}
	warm := d.activation(r.header.Get("X-Openwhisk-Activation-Id"))
	if ann := annotations(warm); ann["initTime"] != nil || ann["startKind"] != "warm" {
		t.Errorf("second invoke was not warm: %v", warm["annotations"])
	}
	// The daemon's own log lines about that activation carry the request id.
	reqID := r.header.Get("X-Request-Id")
	if !strings.Contains(d.logText(), `"req_id":"`+reqID+`"`) || !logHasActivationWithRequest(d.logText(), reqID, warm["activationId"].(string)) {
		t.Errorf("no log line ties request %s to activation %v", reqID, warm["activationId"])
	}

	// Non-blocking: 202 with the id; the record comes later, with logs.
	r = d.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=false&result=false", guestAuth, map[string]any{"name": "Cy"})
	if r.status != 202 {
		t.Fatalf("non-blocking: %v", r)
	}
	nbID := r.object(t)["activationId"].(string)
	nb := d.activation(nbID)
	if nb["response"].(map[string]any)["success"] != true {
		t.Errorf("non-blocking record: %v", nb)
	}
	if r := d.do("GET", "/api/v1/namespaces/_/activations/"+nbID+"/logs", guestAuth, nil); !strings.Contains(string(r.body), "stdout: hi Cy") {
		t.Errorf("logs: %v", r)
	}
	if r := d.do("GET", "/api/v1/namespaces/_/activations/"+nbID+"/result", guestAuth, nil); !strings.Contains(string(r.body), `"result":{"payload":"Hello, Cy"}`) {
		t.Errorf("result: %v", r)
	}
	if r := d.do("GET", "/api/v1/namespaces/_/activations?limit=1&skip=0", guestAuth, nil); !strings.Contains(string(r.body), nbID) {
		t.Errorf("newest activation first: %v", r)
	}

	// Application error: 502 with the record.
	d.putAction("fails", `function main() { return {error: "no name"}; }`, nil)
	if r := d.do("POST", "/api/v1/namespaces/_/actions/fails?blocking=true", guestAuth, "{}"); r.status != 502 || !strings.Contains(string(r.body), `"status":"application error"`) {
		t.Errorf("application error: %v", r)
	}

	// Error statuses.
	errorCases := []struct {
		name, method, path, auth string
		body                     any
		status                   int
		msg                      string
	}{
		{"wrong key", "GET", "/api/v1/namespaces/_/actions", strings.Split(guestAuth, ":")[0] + ":" + strings.Repeat("k", 64), nil, 401, "The supplied authentication is invalid"},
		{"no key", "GET", "/api/v1/namespaces/_/actions", "", nil, 401, "The resource requires authentication"},
		{"other namespace", "POST", "/api/v1/namespaces/guest/actions/hello?blocking=true", aliceAuth, "{}", 403, "not authorized to access 'guest/hello'"},
		{"unknown action", "POST", "/api/v1/namespaces/_/actions/nope?blocking=true", guestAuth, "{}", 404, "The requested resource does not exist."},
		{"bad JSON", "PUT", "/api/v1/namespaces/_/actions/bad", guestAuth, `{"exec": {`, 400, "The request content was malformed"},
		{"bad invoke JSON", "POST", "/api/v1/namespaces/_/actions/hello", guestAuth, `{"name": }`, 400, "The request content was malformed"},
		{"oversized invoke", "POST", "/api/v1/namespaces/_/actions/hello", guestAuth, `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "Request larger than allowed"},
	}
	for _, c := range errorCases {
		r := d.do(c.method, c.path, c.auth, c.body)
		var e struct{ Error, Code string }
		_ = json.Unmarshal(r.body, &e)
		if r.status != c.status || !strings.Contains(e.Error, c.msg) || e.Code == "" {
			t.Errorf("%s: %v, want %d with %q and a code", c.name, r, c.status, c.msg)
		}
	}

	// Admission: a burst beyond what the pool runs at once (512 MB at
	// 128 MB is 4 containers) is queued, not refused, up to the namespace's
	// limit of 10 activations in flight; past it, OpenWhisk's 429.
	d.putAction("slow", slowJS, map[string]int{"memory": 128})
	var accepted []string
	var refused []string
	for range 12 {
		r := d.do("POST", "/api/v1/namespaces/_/actions/slow", guestAuth, map[string]any{"ms": 2000})
		switch r.status {
		case 202:
			accepted = append(accepted, r.object(t)["activationId"].(string))
		case 429:
			if r.header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After: %v", r.header)
			}
			refused = append(refused, string(r.body))
		default:
			t.Fatalf("burst invoke: %v", r)
		}
	}
	if len(accepted) != 10 || len(refused) != 2 || !strings.Contains(refused[0], `"Too many concurrent requests in flight (count: 10, allowed: 10)."`) {
		t.Errorf("burst of 12 at a limit of 10: %d accepted, refused %q; want 10 accepted and 2 refused for concurrency", len(accepted), refused)
	}
	for _, id := range accepted {
		if rec := d.activation(id); rec["response"].(map[string]any)["success"] != true {
			t.Errorf("accepted burst activation %s: %v", id, rec["response"])
		}
	}

	// One registry serves the API's, the pool's and the prewarm scheduler's series.
	metrics := string(d.do("GET", "/metrics", "", nil).body)
	for _, name := range []string{"stemcell_http_requests_total", "stemcell_api_activations_in_flight", "stemcell_pool_wait_seconds", "stemcell_prewarm_creations_total"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if r := d.do("GET", "/v1/pool", "", nil); r.status != 200 || r.object(t)["totalMB"] != float64(512) {
		t.Errorf("/v1/pool: %v", r)
	}

	// Restart: actions and activations are still there.
	if code := d.shutdown(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d", code)
	}
	if left := d.containers(); len(left) != 0 {
		t.Errorf("%d containers left after SIGTERM", len(left))
	}
	d.start()
	if r := d.do("GET", "/api/v1/namespaces/_/actions/hello", guestAuth, nil); r.status != 200 || !strings.Contains(string(r.body), "Hello, ") {
		t.Errorf("action after restart: %v", r)
	}
	for _, id := range []string{nbID, warm["activationId"].(string), accepted[0]} {
		if r := d.do("GET", "/api/v1/namespaces/_/activations/"+id, guestAuth, nil); r.status != 200 {
			t.Errorf("activation %s after restart: %v", id, r)
		}
	}
	if r := d.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", guestAuth, map[string]any{"name": "again"}); r.status != 200 {
		t.Errorf("invoke after restart: %v", r)
	}
	if code := d.shutdown(); code != 0 {
		t.Errorf("exit code = %d", code)
	}
}

// logHasActivationWithRequest finds a JSON log line with both ids.
func logHasActivationWithRequest(log, reqID, activationID string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"req_id":"`+reqID+`"`) && strings.Contains(line, activationID) {
			return true
		}
	}
	return false
}

// TestSIGTERMDuringRunningActivation: the running activation finishes and
// is answered, the one buffered behind it too or with an internal error,
// nothing is left in the engine, and the exit code is 0.
func TestSIGTERMDuringRunningActivation(t *testing.T) {
	d := newDaemon(t, "--user-memory", "256m", "--shutdown-deadline", "20s")
	d.start()
	d.putAction("slow", slowJS, nil)

	var wg sync.WaitGroup
	var blocking reply
	var blockingErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		blocking, blockingErr = d.try("POST", "/api/v1/namespaces/_/actions/slow?blocking=true&result=true", guestAuth, map[string]any{"ms": 3000})
	}()
	// Running means the pool reports a busy container.
	waitFor(t, "a busy container", time.Minute, func() bool {
		r, err := d.try("GET", "/v1/pool", "", nil)
		if err != nil || r.status != 200 {
			return false
		}
		return r.object(t)["busy"].(map[string]any)["count"].(float64) >= 1
	})
	nb := d.do("POST", "/api/v1/namespaces/_/actions/slow", guestAuth, map[string]any{"ms": 100})
	if nb.status != 202 {
		t.Fatalf("non-blocking before SIGTERM: %v", nb)
	}
	d.signal(syscall.SIGTERM)
	// Stopping: not ready, and new work is refused while the running
	// activation goes on.
	waitFor(t, "/readyz 503 after SIGTERM", 10*time.Second, func() bool {
		r, err := d.try("GET", "/readyz", "", nil)
		return err == nil && r.status == 503
	})
	if r, err := d.try("POST", "/api/v1/namespaces/_/actions/slow", guestAuth, map[string]any{"ms": 1}); err != nil || r.status != 503 {
		t.Errorf("invoke while stopping: %v %v, want 503", r, err)
	}
	if code := d.wait(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d\n%s", code, d.logText())
	}
	wg.Wait()
	if blockingErr != nil || blocking.status != 200 || !strings.Contains(string(blocking.body), `"slept":3000`) {
		t.Errorf("blocking activation across SIGTERM: %v %v", blocking, blockingErr)
	}
	if left := d.containers(); len(left) != 0 {
		t.Errorf("%d containers left in the engine after SIGTERM: %v", len(left), left[0].Names)
	}
	// The non-blocking one has a record: finished, or stopped.
	d.start()
	rec := d.do("GET", "/api/v1/namespaces/_/activations/"+nb.object(t)["activationId"].(string), guestAuth, nil)
	if rec.status != 200 {
		t.Errorf("non-blocking activation accepted before SIGTERM has no record: %v", rec)
	}
	d.shutdown()
}

// TestSIGKILLLeftoversAndCutOffActivation: a killed daemon leaves
// containers and a running non-blocking activation behind; the next start
// removes the containers and records the activation as an internal error.
func TestSIGKILLLeftoversAndCutOffActivation(t *testing.T) {
	d := newDaemon(t, "--user-memory", "512m")
	d.start()
	d.putAction("slow", slowJS, nil)
	r := d.do("POST", "/api/v1/namespaces/_/actions/slow", guestAuth, map[string]any{"ms": 30000})
	if r.status != 202 {
		t.Fatalf("non-blocking: %v", r)
	}
	id := r.object(t)["activationId"].(string)
	waitFor(t, "a busy container", time.Minute, func() bool {
		r := d.do("GET", "/v1/pool", "", nil)
		return r.object(t)["busy"].(map[string]any)["count"].(float64) >= 1
	})
	if code := d.stop(syscall.SIGKILL); code == 0 {
		t.Errorf("SIGKILL exit code 0")
	}
	before := d.containers()
	if len(before) == 0 {
		t.Fatal("a killed daemon left no container: nothing to show")
	}
	d.start()
	after := map[string]bool{}
	for _, c := range d.containers() {
		after[c.ID] = true
	}
	for _, c := range before {
		if after[c.ID] {
			t.Errorf("leftover container %v survived the next start", c.Names)
		}
	}
	d.settle()
	rec := d.do("GET", "/api/v1/namespaces/_/activations/"+id, guestAuth, nil)
	if rec.status != 200 || !strings.Contains(string(rec.body), `"status":"whisk internal error"`) ||
		!strings.Contains(string(rec.body), "The invoker stopped before the activation finished.") {
		t.Errorf("activation cut off by SIGKILL: %v", rec)
	}
	if code := d.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit code = %d", code)
	}
	if left := d.containers(); len(left) != 0 {
		t.Errorf("%d containers left after SIGTERM", len(left))
	}
}

// TestStartFailureNamesItsCause: a daemon that cannot start says why and
// exits non-zero, leaving nothing behind.
func TestStartFailureNamesItsCause(t *testing.T) {
	d := newDaemon(t)
	d.start()
	defer d.shutdown()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"port taken", []string{"--listen", d.addr, "--data-dir", t.TempDir()}, 1, "start: server.listen " + d.addr},
		{"data directory locked", []string{"--listen", "127.0.0.1:0", "--data-dir", d.dataDir}, 1, "start: server.data-dir"},
		{"invalid setting", []string{"--blocking-wait", "0s"}, 2, "server.blocking-wait: 0s is invalid: must be > 0"},
		{"invalid configuration", []string{"--user-memory", "0"}, 2, "container-pool.user-memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"run", "--invoker-name", d.name + "-x"}, tt.args...)...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %v, output:\n%s\nwant exit %d naming %q", err, out, tt.code, tt.want)
			}
		})
	}
}
