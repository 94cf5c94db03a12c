package server

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		json   string
		dup    bool
		path   string
		offset int
	}{
		{`{"a":1,"b":{"a":2}}`, false, "", 0},
		{`{"exec":{},"exec":{}}`, true, "exec", 11},
		{`{"exec":{"kind":"a","code":"x","kind":"b"}}`, true, "exec.kind", 31},
		{`{"parameters":[{"key":"a"},{"key":"a","value":1,"key":2}]}`, true, "parameters[1].key", 48},
		{`{"a":1, "\u0061":2}`, true, "a", 8},
		{`{"":1,"":2}`, true, "", 6},
		{`[{"x":"a\"b","x\\":1,"x":2}]`, true, "[0].x", 21},
		{`{"s":"` + strings.Repeat(`\"`, 1000) + `","t":[1,{"u":null,"u":true}]}`, true, "t[1].u", 2025},
		{`{"k":[` + strings.Repeat(`{"a":1,"b":2},`, 40) + `{"a":1}],"k2":{"z":1}}`, false, "", 0},
	}
	for _, tt := range tests {
		path, offset, dup := duplicateKey([]byte(tt.json))
		if dup != tt.dup || path != tt.path || offset != tt.offset {
			t.Errorf("duplicateKey(%.60s) = %q at %d (%v), want %q at %d (%v)", tt.json, path, offset, dup, tt.path, tt.offset, tt.dup)
		}
	}
	// Objects past 16 keys are checked through a map.
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		b.WriteString(`"k` + strconv.Itoa(i) + `":0,`)
	}
	b.WriteString(`"k7":1}`)
	if path, _, dup := duplicateKey([]byte(b.String())); !dup || path != "k7" {
		t.Errorf("40 keys then k7 again: %q (%v), want k7", path, dup)
	}
}

func TestActionPutDuplicateKeys(t *testing.T) {
	h := newHarness(t)
	tests := []struct{ name, body, path string }{
		{"exec twice", `{"exec":{"kind":"js:goja","code":"x"},"exec":{"kind":"blackbox","image":"evil/image"}}`, `"exec"`},
		{"kind twice", `{"exec":{"kind":"js:goja","code":"x","kind":"blackbox"}}`, `"exec.kind"`},
		{"escaped spelling", `{"exec":{"kind":"js:goja","code":"x"},"\u0065xec":{"kind":"blackbox"}}`, `"exec"`},
		{"parameter object", `{"exec":{"kind":"js:goja","code":"x"},"parameters":[{"key":"a","value":1,"value":2}]}`, `"parameters[0].value"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.do("PUT", "/api/v1/namespaces/_/actions/dup", guestAuth, tt.body), 400,
				msgMalformed+"the key "+tt.path+" appears twice in one object")
			wantError(t, h.do("GET", "/api/v1/namespaces/_/actions/dup", guestAuth, ""), 404, msgNotFound)
		})
	}
}

// Invoke bodies are held to the same rule, on the fast path (no default
// parameters) and on the merging one.
func TestInvokeDuplicateKeys(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	h.do("PUT", "/api/v1/namespaces/_/actions/withdefaults", guestAuth, `{"exec":{"kind":"js:goja","code":"x"},"parameters":[{"key":"a","value":1}]}`)
	for _, action := range []string{"hello", "withdefaults"} {
		t.Run(action, func(t *testing.T) {
			n := h.inv.accepted()
			wantError(t, h.do("POST", "/api/v1/namespaces/_/actions/"+action+"?blocking=true", guestAuth, `{"name":"a","name":"b"}`), 400,
				msgMalformed+`the key "name" appears twice in one object`)
			if got := h.inv.accepted(); got != n {
				t.Errorf("a refused invoke reached the pool (%d activations, want %d)", got, n)
			}
			if r := h.do("POST", "/api/v1/namespaces/_/actions/"+action+"?blocking=true", guestAuth, `{"name":"a","other":{"name":"b"}}`); r.status != 200 {
				t.Errorf("the same key in two objects: %d %s, want 200", r.status, r.body)
			}
		})
	}
}

func TestUnsupportedEntities(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	const ns = "/api/v1/namespaces/_/"
	tests := []struct {
		name, method, path, body string
		msg                      string
	}{
		{"package create", "PUT", ns + "packages/utils?overwrite=false", `{"publish":false}`, "does not serve packages"},
		{"package get", "GET", ns + "packages/utils", "", "does not serve packages"},
		{"trigger create", "PUT", ns + "triggers/t?overwrite=false", `{}`, "does not serve triggers"},
		{"trigger fire", "POST", ns + "triggers/t", `{}`, "does not serve triggers"},
		{"rule create", "PUT", ns + "rules/r?overwrite=false", `{"trigger":"/_/t","action":"/_/hello"}`, "does not serve rules"},
		{"rule enable", "POST", ns + "rules/r", `{"status":"active"}`, "does not serve rules"},
		{"packages list by POST", "POST", ns + "packages", `{}`, "does not serve packages"},
		{"action in a package", "PUT", ns + "actions/utils/hello?overwrite=false", helloJS,
			"does not serve packages, so the action 'hello' cannot be created in package 'utils'"},
		{"web action", "PUT", ns + "actions/web?overwrite=false",
			`{"exec":{"kind":"js:goja","code":"x"},"annotations":[{"key":"web-export","value":true},{"key":"final","value":true}]}`,
			"does not serve web actions: the annotation 'web-export' must be false or absent"},
		{"web action by update", "PUT", ns + "actions/hello?overwrite=true", `{"annotations":[{"key":"web-export","value":true}]}`,
			"does not serve web actions"},
		{"web action URL", "GET", "/api/v1/web/guest/default/hello.json", "", "does not serve web actions"},
		{"API create", "POST", "/api/v1/web/whisk.system/apimgmt/createApi.http?responsetype=json", `{"apidoc":{}}`, "does not serve APIs (the API gateway)"},
		{"API list", "GET", "/api/v1/web/whisk.system/apimgmt/getApi.http", "", "does not serve APIs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.do(tt.method, tt.path, guestAuth, tt.body), http.StatusNotImplemented, tt.msg)
		})
	}
	// wsk list reads these; they stay empty lists.
	for _, coll := range []string{"packages", "triggers", "rules"} {
		if r := h.do("GET", ns+coll+"?limit=0&skip=0", guestAuth, ""); r.status != 200 || string(r.body) != "[]" {
			t.Errorf("GET %s: %d %s, want 200 []", coll, r.status, r.body)
		}
	}
	// An explicit false is what wsk action update --web false sends.
	if r := h.do("PUT", ns+"actions/notweb", guestAuth, `{"exec":{"kind":"js:goja","code":"x"},"annotations":[{"key":"web-export","value":false}]}`); r.status != 200 {
		t.Errorf("web-export false: %d %s", r.status, r.body)
	}
}

func TestInfoReportsBuildDate(t *testing.T) {
	date := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	h := newHarness(t)
	info := h.do("GET", "/api/v1", "", "").json(t)
	if b, _ := info["build"].(string); !date.MatchString(b) {
		t.Errorf("build = %q, want a date like 2026-12-06T20:49:00Z", b)
	}
	if _, ok := info["buildno"].(string); !ok {
		t.Errorf("buildno = %v, want a string", info["buildno"])
	}
}

func TestKeysFileRules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	good := guestAuth + " guest\n"
	tests := []struct {
		name, text string
		mode       os.FileMode
		want       string // "" for success
	}{
		{"owner only", good, 0o600, ""},
		{"owner read only", good, 0o400, ""},
		{"group readable", good, 0o640, "has mode 0640: it must not be readable or writable by group or others"},
		{"world readable", good, 0o644, "has mode 0644"},
		{"group writable", good, 0o620, "has mode 0620"},
		{"short key", "# keys\n\nu-1:" + strings.Repeat("k", 31) + " guest\n", 0o600,
			`line 3: the key of uuid "u-1" has 31 characters: must have at least 32 (generated keys have 64)`},
		{"shortest key", "u-1:" + strings.Repeat("k", 32) + " guest\n", 0o600, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tt.name, " ", "-"), tt.text, tt.mode)
			_, created, err := LoadOrCreateKeys(p)
			switch {
			case created:
				t.Fatal("an existing file was created anew")
			case tt.want == "" && err != nil:
				t.Fatalf("load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p)):
				t.Fatalf("load error = %v, want one naming %s and containing %q", err, p, tt.want)
			}
			if tt.mode&0o077 != 0 && !strings.Contains(err.Error(), "chmod 600 "+p) {
				t.Errorf("error %q does not give the fix", err)
			}
		})
	}
}

// A large PUT round-trips byte for byte: its code shares the body's memory
// on the way in, is stored apart and is streamed on the way out.
func TestLargeActionRoundTrip(t *testing.T) {
	h := newHarness(t)
	code := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("stemcell", 200_000)))
	r := h.do("PUT", "/api/v1/namespaces/_/actions/big", guestAuth, `{"exec":{"kind":"js:goja","code":"`+code+`"}}`)
	if r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
		t.Fatalf("PUT: %d, Content-Length %s for %d bytes", r.status, r.header.Get("Content-Length"), len(r.body))
	}
	for _, got := range []reply{r, h.do("GET", "/api/v1/namespaces/_/actions/big", guestAuth, "")} {
		doc := got.json(t)
		exec, _ := doc["exec"].(map[string]any)
		if exec["code"] != code || exec["binary"] != true {
			t.Fatalf("code of %d characters came back as %.40v", len(code), exec["code"])
		}
	}
}

// A PUT that finds no room waits within read-timeout, then gets a 503 that
// says why; the room comes back when the PUT holding it ends.
func TestUploadGate(t *testing.T) {
	h := newHarness(t, func(_ *config.Config, s *config.ServerConfig) {
		s.MaxBodySize = 1 * config.MB
		s.PutBytesInFlight = 1 * config.MB
		s.ReadTimeout = 300 * time.Millisecond
	})
	body := `{"exec":{"kind":"js:goja","code":"` + strings.Repeat("x", 600_000) + `"}}`
	pr, pw := io.Pipe()
	// Should the test stop early, the first PUT's body ends, so that the
	// harness's cleanup does not wait for it for ever.
	t.Cleanup(func() { _ = pw.CloseWithError(errors.New("test ended")) })
	first := make(chan reply, 1)
	go func() {
		req, _ := http.NewRequest("PUT", h.http.URL+"/api/v1/namespaces/_/actions/first", pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(guestAuth)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- reply{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		first <- reply{status: resp.StatusCode, body: b}
	}()
	// The server reads a body only once the PUT has its room: the first
	// PUT holds 600 kB of the 1 MB once its headers are in, before any of
	// its body is written.
	deadline := time.Now().Add(10 * time.Second)
	for h.srv.uploads.inFlight.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first PUT was not admitted within 10 s")
		}
		runtime.Gosched()
	}
	r := h.do("PUT", "/api/v1/namespaces/_/actions/second", guestAuth, body)
	wantError(t, r, http.StatusServiceUnavailable, "Too many action uploads in progress: this PUT of "+strconv.Itoa(len(body))+" bytes waited")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if _, err := io.WriteString(pw, body); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	if got := <-first; got.status != 200 {
		t.Fatalf("first PUT: %d %s", got.status, got.body)
	}
	if r := h.do("PUT", "/api/v1/namespaces/_/actions/second", guestAuth, body); r.status != 200 {
		t.Errorf("second PUT after the first ended: %d %s", r.status, r.body)
	}
}
