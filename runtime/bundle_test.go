package runtime

import (
	"os"
	"testing"

	"github.com/stemcell-io/stemcell/runtime/jscheck"
)

// TestBundledActions: an action with modules, bundled into one file as the
// README advises (testdata/bundle), passes the create-time check and runs
// on the built-in kind; a bundle that keeps a Node.js built-in is refused
// and, if it ran anyway, fails at /init with the kind's limits.
func TestBundledActions(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/bundle/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, name := range []string{"cjs.js", "esm.js"} {
		t.Run(name, func(t *testing.T) {
			src := read(name)
			if e := jscheck.Check(src, false); e != nil {
				t.Fatalf("refused at create: %v", e)
			}
			h := newHarness(t, Options{})
			h.mustInitJS(src)
			r := h.run(map[string]any{"name": "Ada"}, "a1")
			if r.status != 200 {
				t.Fatalf("/run: %d %s", r.status, r.body)
			}
			assertJSON(t, r.body, `{"msg": "hi Ada"}`)
		})
	}
	t.Run("node-platform.js", func(t *testing.T) {
		src := read("node-platform.js")
		if e := jscheck.Check(src, false); e == nil || e.Calls[0].Module != "fs" {
			t.Errorf("Check = %v, want its require(\"fs\")", e)
		}
		h := newHarness(t, Options{})
		r := h.initJS(src, "", nil)
		if want := "/init: the action code failed while loading: Error: " + jscheck.RequireMessage("fs"); r.status != 502 || r.errorText() != want {
			t.Errorf("/init: %d %q, want 502 %q", r.status, r.errorText(), want)
		}
	})
}
