package runtime

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// actionloopSource is a native action speaking the actionloop protocol: one
// JSON line in on stdin, one result line out on fd 3. Some names trigger
// protocol behaviours the runtime must handle.
const actionloopSource = `package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	results := os.NewFile(3, "results")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var msg struct {
			Value        map[string]any ` + "`json:\"value\"`" + `
			ActivationID string         ` + "`json:\"activation_id\"`" + `
		}
		if err := json.Unmarshal(in.Bytes(), &msg); err != nil {
			fmt.Fprintln(results, ` + "`" + `{"error": "bad input line"}` + "`" + `)
			continue
		}
		name, _ := msg.Value["name"].(string)
		switch name {
		case "crash":
			fmt.Println("about to crash")
			os.Exit(3)
		case "scalar":
			fmt.Fprintln(results, "42")
			continue
		case "partial":
			fmt.Print("no newline")
		case "hang":
			time.Sleep(time.Hour)
		case "oomkill":
			// What the kernel does at the memory limit: count the kill
			// in the cgroup, and kill.
			_ = os.WriteFile(os.Getenv("OOM_EVENTS"), []byte(os.Getenv("OOM_EVENTS_AFTER")), 0o644)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		fmt.Println("log for", name, "in", msg.ActivationID)
		fmt.Fprintln(os.Stderr, "stderr for", name)
		out, _ := json.Marshal(map[string]string{"hello": name, "greeting": os.Getenv("GREETING"), "cwd_exec": fileExists("exec")})
		fmt.Fprintln(results, string(out))
	}
}

func fileExists(name string) string {
	if _, err := os.Stat(name); err != nil {
		return "missing"
	}
	return "present"
}
`

var (
	actionloopOnce sync.Once
	actionloopBin  []byte
	actionloopErr  error
)

// buildActionloop compiles the test action once per test binary: a static
// Go program, as a user would ship.
func buildActionloop(t testing.TB) []byte {
	t.Helper()
	actionloopOnce.Do(func() {
		dir, err := os.MkdirTemp("", "actionloop-build-")
		if err != nil {
			actionloopErr = err
			return
		}
		defer os.RemoveAll(dir)
		files := map[string]string{"main.go": actionloopSource, "go.mod": "module actionloop\n\ngo 1.22\n"}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				actionloopErr = err
				return
			}
		}
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "exec", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			actionloopErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		actionloopBin, actionloopErr = os.ReadFile(filepath.Join(dir, "exec"))
	})
	if actionloopErr != nil {
		t.Fatalf("building the actionloop test action: %v", actionloopErr)
	}
	return actionloopBin
}

func TestNativeAction(t *testing.T) {
	bin := buildActionloop(t)
	packages := []struct {
		name string
		code []byte
	}{
		{"bare executable", bin},
		{"zip with exec", zipOfBytes(t, map[string][]byte{"exec": bin, "data/extra.txt": []byte("x")})},
	}
	for _, pkg := range packages {
		t.Run(pkg.name, func(t *testing.T) {
			h := newHarness(t, Options{TempDir: t.TempDir()})
			if r := h.initBinary(pkg.code); r.status != http.StatusOK {
				t.Fatalf("/init: status %d body %s", r.status, r.body)
			}
			assertJSON(t, h.run(map[string]any{"name": "ann"}, "id-1").body, `{"hello": "ann", "greeting": "hi", "cwd_exec": "present"}`)
			assertJSON(t, h.run(map[string]any{"name": "bob"}, "id-2").body, `{"hello": "bob", "greeting": "hi", "cwd_exec": "present"}`)
			r := h.run(map[string]any{"name": "partial"}, "id-3")
			assertJSON(t, r.body, `{"hello": "partial", "greeting": "hi", "cwd_exec": "present"}`)
			if r.header.Get("Content-Length") == "" {
				t.Errorf("no Content-Length header")
			}
			if r := h.run(map[string]any{"name": "scalar"}, "id-4"); r.status != http.StatusBadGateway || r.errorText() != errNotDictionary {
				t.Errorf("scalar result: status %d body %s; want 502 %q", r.status, r.body, errNotDictionary)
			}
			assertLines(t, "stdout", h.stdout.lines(), []string{
				"log for ann in id-1", Sentinel,
				"log for bob in id-2", Sentinel,
				"no newlinelog for partial in id-3", Sentinel,
				Sentinel,
			})
			assertLines(t, "stderr", h.stderr.lines(), []string{
				"stderr for ann", Sentinel,
				"stderr for bob", Sentinel,
				"stderr for partial", Sentinel,
				Sentinel,
			})
		})
	}
}

func TestNativeActionExits(t *testing.T) {
	h := newHarness(t, Options{TempDir: t.TempDir()})
	if r := h.initBinary(buildActionloop(t)); r.status != http.StatusOK {
		t.Fatalf("/init: status %d body %s", r.status, r.body)
	}
	r := h.run(map[string]any{"name": "crash"}, "id-1")
	if r.status != http.StatusBadGateway || !strings.Contains(r.errorText(), "exited without a result") || !strings.Contains(r.errorText(), "exit status 3") {
		t.Fatalf("crash: status %d body %s; want 502 naming the exit", r.status, r.body)
	}
	r = h.run(map[string]any{"name": "ann"}, "id-2")
	if r.status != http.StatusBadGateway || r.errorText() == "" {
		t.Fatalf("after crash: status %d body %s; want 502", r.status, r.body)
	}
	// The crash's output still comes before its sentinel.
	assertLines(t, "stdout", h.stdout.lines(), []string{"about to crash", Sentinel, Sentinel})
}

// TestNativeUnpacking covers archives that must not start.
func TestNativeUnpacking(t *testing.T) {
	tests := []struct {
		name    string
		code    []byte
		wantErr string
	}{
		{"not an executable", zipOfBytes(t, map[string][]byte{"exec": []byte("plain text, not a program")}), "does not start"},
		{"escaping entry", zipOfBytes(t, map[string][]byte{"exec": []byte("x"), "../evil": []byte("x")}), "escapes the action directory"},
		{"truncated ELF", []byte("\x7fELF\x02\x01\x01"), "does not start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := newHarness(t, Options{TempDir: dir})
			r := h.initBinary(tc.code)
			if r.status != http.StatusBadGateway || !strings.Contains(r.errorText(), tc.wantErr) {
				t.Fatalf("status %d body %s; want 502 containing %q", r.status, r.body, tc.wantErr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed init left %d entries in %s", len(entries), dir)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil")); err == nil {
				t.Errorf("the escaping entry was written outside the action directory")
			}
		})
	}
}

// TestNativeCloseRemovesFiles: closing the runtime kills the child and
// removes what /init unpacked.
func TestNativeCloseRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Options{TempDir: dir})
	if r := h.initBinary(buildActionloop(t)); r.status != http.StatusOK {
		t.Fatalf("/init: status %d body %s", r.status, r.body)
	}
	if err := h.srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Close left %d entries in %s", len(entries), dir)
	}
	if r := h.run(map[string]any{}, "late"); r.status != http.StatusServiceUnavailable {
		t.Errorf("/run after Close: status %d body %s; want 503", r.status, r.body)
	}
}
