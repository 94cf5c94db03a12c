package e2e

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nativeProbe builds the factory tests' native action, which can answer
// questions about its container (params.probe), and returns it base64'd.
func nativeProbe(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "exec")
	build := exec.Command("go", "build", "-o", out, "./factory/docker/testdata/nativeaction")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the native action: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(bin)
}

// With invoker.api-host unset, actions get an __OW_API_HOST they can
// reach: the daemon listens on loopback only, so it also answers at the
// gateway of the actions' network, and that is the address they get.
func TestActionsReachTheAPIByDefault(t *testing.T) {
	d := newDaemon(t, "--user-memory", "256m", "--set", "runtimes-manifest.stem-cells=none")
	d.start()
	code := nativeProbe(t)
	create := map[string]any{"exec": map[string]any{"kind": "blackbox", "image": "stemcell/action-runtime:" + runtimeTag, "binary": true, "code": code}}
	if r := d.do("PUT", "/api/v1/namespaces/_/actions/probe", guestAuth, create); r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	r := d.do("POST", "/api/v1/namespaces/_/actions/probe?blocking=true&result=true", guestAuth, map[string]any{"probe": map[string]any{"get": "/healthz"}})
	if r.status != 200 {
		t.Fatalf("invoke: %v", r)
	}
	res := r.object(t)
	host, _ := res["apiHost"].(string)
	if !strings.HasPrefix(host, "http://") || strings.Contains(host, "127.0.0.1") || !strings.HasSuffix(host, ":"+d.addr[strings.LastIndex(d.addr, ":")+1:]) {
		t.Errorf("__OW_API_HOST %q: want http://<the network's gateway>:<the daemon's port> (daemon at %s)", host, d.addr)
	}
	if res["get"] != "200 OK" {
		t.Errorf("GET $__OW_API_HOST/healthz from the action: %v, want 200 OK", res["get"])
	}
}
