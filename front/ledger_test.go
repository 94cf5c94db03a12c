package front

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/route"
)

// The front counts what it sent each invoker since its snapshot: a burst
// that fills the first-ranked invoker's free memory spills to the next,
// and what was answered counts no more.
func TestBurstSpillsByWhatWasSent(t *testing.T) {
	fakes := threeFakes(t)
	tf := newTestFront(t, fakes)
	tf.createHello()
	order := tf.ranking()
	// Room for two activations of 256 MB on every invoker.
	invs := make([]route.Invoker, len(fakes))
	addrs := make([]string, len(fakes))
	for i, fi := range fakes {
		invs[i] = invokerOf(fi.id)
		invs[i].Free = 512 * config.MB
		addrs[i] = fi.http.URL
	}
	tf.view.Set(invs, addrs)
	release := make(chan struct{})
	for _, fi := range fakes {
		fi.set(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
				echoRecord(fi.id)(w, r)
			case <-r.Context().Done():
			}
		})
	}
	total := func() int {
		n := 0
		for _, fi := range fakes {
			n += fi.invokes()
		}
		return n
	}
	results := make(chan answer, 3)
	for k := 1; k <= 3; k++ {
		go func() { results <- tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`) }()
		waitFor(t, 5*time.Second, "invoke reaches an invoker", func() bool { return total() == k })
	}
	if a, b := tf.fakes[order[0]].invokes(), tf.fakes[order[1]].invokes(); a != 2 || b != 1 {
		t.Fatalf("burst of 3: first-ranked got %d, second %d; want 2 and 1", a, b)
	}
	close(release)
	for range 3 {
		if r := <-results; r.status != 200 {
			t.Fatalf("burst invoke: %d %s", r.status, r.body)
		}
	}
	// Answered: the first-ranked has room again.
	tf.fakes[order[0]].set(echoRecord(order[0]))
	r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", `{}`)
	if r.status != 200 || r.json(t)["ranOn"] != order[0] {
		t.Fatalf("after the burst: %d %s, want %s", r.status, r.body, order[0])
	}
}

// The front serves the rest of the API itself, from its action store.
func TestFrontServesActionsAndInfo(t *testing.T) {
	tf := newTestFront(t, threeFakes(t))
	tf.createHello()
	checks := []struct {
		method, path string
		status       int
		contains     string
	}{
		{"GET", "/api/v1", 200, `"api_version_path":"v1"`},
		{"GET", "/api/v1/namespaces", 200, `["guest"]`},
		{"GET", "/api/v1/namespaces/_/packages?limit=0&skip=0", 200, `[]`},
		{"GET", "/api/v1/namespaces/_/actions", 200, `"name":"hello"`},
		{"GET", "/api/v1/namespaces/_/actions/hello?code=false", 200, `"memory":256`},
		{"POST", "/api/v1/namespaces/_/actions/nothere", 404, "does not exist"},
		{"POST", "/api/v1/namespaces/other/actions/hello", 403, "not authorized"},
		{"DELETE", "/api/v1/namespaces/_/actions/hello", 200, `"name":"hello"`},
		{"GET", "/api/v1/namespaces/_/actions/hello", 404, "does not exist"},
	}
	for _, c := range checks {
		r := tf.do(c.method, c.path, "")
		if r.status != c.status || !strings.Contains(string(r.body), c.contains) {
			t.Errorf("%s %s: %d %s, want %d with %s", c.method, c.path, r.status, r.body, c.status, c.contains)
		}
	}
	for id, fi := range tf.fakes {
		if n := len(fi.requests()); n != 0 {
			t.Errorf("%s got %d requests: the front serves these itself", id, n)
		}
	}
}
