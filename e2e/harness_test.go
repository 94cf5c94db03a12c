// Package e2e runs the built invoker daemon against the real Docker Engine
// and talks to it over HTTP, as an OpenWhisk client would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Credentials written into every daemon's keys file.
const (
	guestAuth = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
	aliceAuth = "a11ce000-71f6-4ed5-8c54-816aa4f8c502:alicealicealicealicealicealicealicealicealicealicealicealice0000"
)

var (
	binary  string         // the daemon, built once by TestMain
	engine  *client.Client // nil when the engine is unreachable
	skipWhy string
	// manifest is the default runtimes manifest with runtimeTag as the
	// runtime image's tag.
	manifest   string
	runtimeTag string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if target := os.Getenv(forwarderEnv); target != "" {
		return runForwarder(target)
	}
	dir, err := os.MkdirTemp("", "stemcell-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = cli.Ping(ctx)
		cancel()
	}
	if err != nil {
		skipWhy = fmt.Sprintf("Docker Engine unreachable (%v)", err)
	} else {
		engine = cli
		defer cli.Close()
	}
	if engine != nil {
		// Every daemon of this run uses its own runtime image tag, so that
		// no other build of stemcell/action-runtime:dev on this engine can
		// swap the image under it; TestMain removes the image at the end.
		var b [4]byte
		_, _ = rand.Read(b[:])
		runtimeTag = "t-e2e-" + hex.EncodeToString(b[:])
		m, err := os.ReadFile("../config/runtimes.json")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		manifest = filepath.Join(dir, "runtimes.json")
		m = bytes.ReplaceAll(m, []byte(`"tag": "dev"`), []byte(`"tag": "`+runtimeTag+`"`))
		if err := os.WriteFile(manifest, m, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, _ = engine.ImageRemove(ctx, "stemcell/action-runtime:"+runtimeTag, image.RemoveOptions{Force: true, PruneChildren: true})
		}()
	}
	// The daemon doubles as the runtime image, so it must be static. Tests
	// on the fake factory (the cluster's) need it without an engine too.
	binary = filepath.Join(dir, "invoker")
	build := exec.Command("go", "build", "-o", binary, "./cmd/invoker")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the daemon: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// needEngine skips (fails under CI=true) when there is no engine.
func needEngine(t testing.TB) {
	t.Helper()
	if engine != nil {
		return
	}
	msg := "!!! SKIPPING daemon end-to-end test: " + skipWhy
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// daemon is one running invoker process.
type daemon struct {
	t       testing.TB
	name    string // invoker name: prefixes and labels its containers
	dataDir string
	args    []string
	// bin and manifest replace binary and manifest when set (a baseline
	// build, baseline_test.go).
	bin, manifest string
	cmd           *exec.Cmd
	addr          string
	exited        chan struct{}
	exitErr       error

	mu  sync.Mutex
	log bytes.Buffer
}

// uniqueName is "t-e2e-<test>-<random>", valid as an invoker name; the
// e2e part keeps it apart from other packages' test containers.
func uniqueName(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	base := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	base = strings.TrimPrefix(strings.TrimPrefix(base, "test"), "benchmark")
	if len(base) > 30 {
		base = base[:30]
	}
	return "t-e2e-" + strings.Trim(base, "-") + "-" + hex.EncodeToString(b[:])
}

// newDaemon prepares a daemon with its own data directory and keys file.
// Cleanup kills it if still running and removes its containers.
func newDaemon(t testing.TB, args ...string) *daemon {
	t.Helper()
	needEngine(t)
	d := &daemon{t: t, name: uniqueName(t), dataDir: t.TempDir(), args: args}
	keys := fmt.Sprintf("%s guest\n%s alice\n", guestAuth, aliceAuth)
	if err := os.WriteFile(filepath.Join(d.dataDir, "keys"), []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.running() {
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
		d.removeContainers()
		if t.Failed() {
			t.Logf("daemon %s log:\n%s", d.name, d.logText())
		}
	})
	return d
}

func (d *daemon) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// start runs the daemon and waits for its "ready" log line.
func (d *daemon) start() {
	d.t.Helper()
	bin, mf := binary, manifest
	if d.bin != "" {
		bin, mf = d.bin, d.manifest
	}
	args := append([]string{"run", "--listen", "127.0.0.1:0", "--data-dir", d.dataDir,
		"--invoker-name", d.name, "--log-format", "json", "--runtimes-manifest", mf}, d.args...)
	d.cmd = exec.Command(bin, args...)
	stderr, err := d.cmd.StdoutPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	d.cmd.Stderr = d.cmd.Stdout
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.exited = make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.log.WriteString(line + "\n")
			d.mu.Unlock()
			var l struct {
				Message, Addr string
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "ready" {
				ready <- l.Addr
			}
		}
		d.exitErr = d.cmd.Wait()
		close(d.exited)
	}()
	select {
	case d.addr = <-ready:
	case <-d.exited:
		d.t.Fatalf("daemon exited before ready (%v):\n%s", d.exitErr, d.logText())
	case <-time.After(3 * time.Minute):
		d.t.Fatalf("daemon not ready after 3 minutes:\n%s", d.logText())
	}
}

// stop sends sig and waits for the exit; it returns the exit code.
func (d *daemon) stop(sig syscall.Signal) int {
	d.t.Helper()
	d.signal(sig)
	return d.wait()
}

// shutdown waits until no container is being created (see settle), then
// stops the daemon with SIGTERM and returns the exit code.
func (d *daemon) shutdown() int {
	d.t.Helper()
	d.settle()
	return d.stop(syscall.SIGTERM)
}

func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

// wait waits for the exit and returns the exit code.
func (d *daemon) wait() int {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(2 * time.Minute):
		d.t.Fatalf("daemon still running 2 minutes after a signal")
	}
	return d.cmd.ProcessState.ExitCode()
}

func (d *daemon) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// containers lists the engine's containers of this daemon.
func (d *daemon) containers() []container.Summary {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := engine.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("name", "^/?"+regexp.QuoteMeta(d.name)+"_"))})
	if err != nil {
		d.t.Fatal(err)
	}
	return list
}

// removeContainers removes what a failed test left; it touches only
// containers named with this daemon's unique prefix.
func (d *daemon) removeContainers() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := engine.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("name", "^/?"+regexp.QuoteMeta(d.name)+"_"))})
	if err != nil {
		return
	}
	for _, c := range list {
		_ = engine.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

func (r reply) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

var httpClient = &http.Client{Timeout: 2 * time.Minute}

// do sends a request to the daemon as an OpenWhisk client does: basic auth,
// a JSON body with a trailing newline.
func (d *daemon) do(method, path, auth string, body any) reply {
	d.t.Helper()
	r, err := d.try(method, path, auth, body)
	if err != nil {
		d.t.Fatal(err)
	}
	return r
}

func (d *daemon) try(method, path, auth string, body any) (reply, error) {
	return send(httpClient, "http://"+d.addr, method, path, auth, body)
}

// send makes a request to base as an OpenWhisk client does: basic auth
// (none when auth is ""), a body given as a string, bytes, or a value
// sent as JSON with a trailing newline.
func send(client *http.Client, base, method, path, auth string, body any) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		var buf bytes.Buffer
		_ = json.NewEncoder(&buf).Encode(b)
		rd = &buf
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "OpenWhisk-CLI/1.0 (e2e) linux amd64")
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// waitFor polls cond every 50 ms until it holds or the deadline passes: the
// daemon is another process, so its HTTP answers are what we can observe.
func waitFor(t testing.TB, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(deadline)
	for !cond() {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("timed out after %v waiting for %s", deadline, what)
		}
	}
}

// settle waits until the pool creates no container, so that tests of
// other things stop a daemon at rest (a shutdown during creations has its
// own test, TestSIGTERMWhileCreatingStemCells).
func (d *daemon) settle() {
	d.t.Helper()
	waitFor(d.t, "no container being created", time.Minute, func() bool {
		r := d.do("GET", "/v1/pool", "", nil)
		return r.status == 200 && r.object(d.t)["starting"].(map[string]any)["count"].(float64) == 0
	})
}

// activation waits until a finished record of id is served.
func (d *daemon) activation(id string) map[string]any {
	d.t.Helper()
	var r reply
	waitFor(d.t, "activation "+id, time.Minute, func() bool {
		r = d.do("GET", "/api/v1/namespaces/_/activations/"+id, guestAuth, nil)
		return r.status == 200
	})
	return r.object(d.t)
}

// annotations returns a record's annotations as a map.
func annotations(rec map[string]any) map[string]any {
	out := map[string]any{}
	list, _ := rec["annotations"].([]any)
	for _, a := range list {
		kv := a.(map[string]any)
		out[kv["key"].(string)] = kv["value"]
	}
	return out
}

// putAction creates or replaces a JavaScript action.
func (d *daemon) putAction(name, code string, limits map[string]int) {
	d.t.Helper()
	body := map[string]any{"namespace": "_", "name": name, "exec": map[string]any{"kind": "nodejs:default", "code": code}}
	if limits != nil {
		body["limits"] = limits
	}
	if r := d.do("PUT", "/api/v1/namespaces/_/actions/"+name+"?overwrite=true", guestAuth, body); r.status != 200 {
		d.t.Fatalf("PUT %s: %v", name, r)
	}
}
