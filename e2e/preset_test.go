package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
)

// With OpenWhisk's kinds on a host that reaches no registry, an action of a
// kind whose image is not there answers a developer error that says why,
// and leaves no container behind; the built-in kind of the same manifest
// still runs.
func TestPresetKindWhoseImageCannotBePulled(t *testing.T) {
	needEngine(t)
	preset, err := os.ReadFile("../config/presets/openwhisk.json")
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(t.TempDir(), "openwhisk.json")
	preset = bytes.ReplaceAll(preset, []byte(`"tag": "dev"`), []byte(`"tag": "`+runtimeTag+`"`))
	if err := os.WriteFile(mf, preset, 0o644); err != nil {
		t.Fatal(err)
	}
	// Loopback port 1: nothing listens, as on a host without a registry,
	// and the engine learns it at once. The user images' registry is
	// unset, so the built-in image (a blackbox here) is found as built.
	d := newDaemon(t, "--user-memory", "512m", "--set", "container-factory.runtimes-registry.url=127.0.0.1:1")
	d.bin, d.manifest = binary, mf
	// The daemon builds its own image under the runtimes registry's
	// prefix for js:goja: remove that one too.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = engine.ImageRemove(ctx, "127.0.0.1:1/stemcell/action-runtime:"+runtimeTag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	d.start()

	goja := map[string]any{"exec": map[string]any{"kind": "js:goja", "code": helloJS}}
	if r := d.do("PUT", "/api/v1/namespaces/_/actions/hello", guestAuth, goja); r.status != 200 {
		t.Fatalf("create js:goja: %v", r)
	}
	if r := d.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", guestAuth, map[string]any{"name": "Ada"}); r.status != 200 {
		t.Fatalf("invoke js:goja: %v", r)
	}

	py := map[string]any{"exec": map[string]any{"kind": "python:default", "code": "def main(args):\n    return {}\n"}}
	if r := d.do("PUT", "/api/v1/namespaces/_/actions/py", guestAuth, py); r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	r := d.do("POST", "/api/v1/namespaces/_/actions/py?blocking=true", guestAuth, map[string]any{})
	if r.status != 502 {
		t.Fatalf("invoke: %v, want 502 (a developer error)", r)
	}
	resp, _ := r.object(t)["response"].(map[string]any)
	result, _ := resp["result"].(map[string]any)
	msg, _ := result["error"].(string)
	want := "Failed to pull container image '127.0.0.1:1/openwhisk/action-python-v3.10:nightly'. No registry could be reached from the invoker's host"
	if resp["status"] != "action developer error" || !strings.HasPrefix(msg, want) {
		t.Errorf("response %v, want a developer error starting %q", resp, want)
	}
	for _, c := range d.containers() {
		if !strings.Contains(c.Image, "action-runtime") {
			t.Errorf("container %v of image %s left behind by the failed pull", c.Names, c.Image)
		}
	}
	if !strings.Contains(d.logText(), `"message":"pulling image failed"`) {
		t.Errorf("the daemon's log does not say the pull failed")
	}
}
