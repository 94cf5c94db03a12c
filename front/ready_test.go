package front

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/server"
)

func TestReadyAndMetricsWhileEtcdUnreachable(t *testing.T) {
	tf := newTestFront(t, threeFakes(t))
	tf.createHello()
	r := tf.do("GET", "/readyz", "")
	m := r.json(t)
	view := m["view"].(map[string]any)
	if r.status != 200 || m["status"] != "ready" || view["listed"] != true || view["invokers"] != 3.0 || view["unreachableSince"] != nil {
		t.Fatalf("/readyz with etcd answering: %d %s", r.status, r.body)
	}
	if v := tf.metric("stemcell_front_etcd_unreachable"); v != "0" {
		t.Errorf("etcd_unreachable = %s, want 0", v)
	}

	since := time.Now().Add(-5 * time.Second)
	tf.view.SetStatus(ViewStatus{Listed: true, Revision: 7, UnreachableSince: since, Err: errors.New("context deadline exceeded")})
	r = tf.do("GET", "/readyz", "")
	m = r.json(t)
	view = m["view"].(map[string]any)
	if r.status != 200 || view["unreachableSince"] != since.UTC().Format(time.RFC3339Nano) || view["revision"] != 7.0 ||
		!strings.Contains(m["detail"].(string), "etcd unreachable since") || !strings.Contains(m["detail"].(string), "routing on the last view") ||
		view["error"] != "context deadline exceeded" {
		t.Fatalf("/readyz with etcd unreachable: %d %s", r.status, r.body)
	}
	if v := tf.metric("stemcell_front_etcd_unreachable"); v != "1" {
		t.Errorf("etcd_unreachable = %s, want 1", v)
	}
	if v := tf.metric("stemcell_front_invokers"); v != "3" {
		t.Errorf("invokers = %s, want 3", v)
	}
	// It still routes, on the last view.
	if r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`); r.status != 200 {
		t.Fatalf("invoke while etcd is unreachable: %d %s", r.status, r.body)
	}

	tf.view.SetStatus(ViewStatus{})
	if r := tf.do("GET", "/readyz", ""); r.status != 503 || r.json(t)["status"] != "starting" {
		t.Errorf("/readyz before the first list: %d %s", r.status, r.body)
	}
	if r := tf.do("GET", "/v1/pool", ""); r.status != 404 {
		t.Errorf("/v1/pool on a front: %d %s", r.status, r.body)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestShutdownWaitsForForwards(t *testing.T) {
	fakes := threeFakes(t)
	tf := newTestFront(t, fakes)
	tf.createHello()
	order := tf.ranking()
	release := make(chan struct{})
	slow := tf.fakes[order[0]]
	slow.set(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			echoRecord(slow.id)(w, r)
		case <-r.Context().Done():
		}
	})
	first := make(chan answer, 1)
	go func() { first <- tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`) }()
	waitFor(t, 5*time.Second, "the slow invoker gets the invoke", func() bool { return slow.invokes() == 1 })

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- tf.front.Shutdown(ctx)
	}()
	waitFor(t, 5*time.Second, "/readyz says stopping", func() bool { return tf.do("GET", "/readyz", "").status == 503 })
	wantError(t, tf.do("POST", "/api/v1/namespaces/_/actions/hello", `{}`), http.StatusServiceUnavailable, server.MsgUnavailable)
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while an invoke was being forwarded", err)
	default:
	}
	close(release)
	if r := <-first; r.status != 200 {
		t.Fatalf("the forwarded invoke: %d %s", r.status, r.body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownDeadlineRecordsLost(t *testing.T) {
	tf := newTestFront(t, threeFakes(t))
	tf.createHello()
	order := tf.ranking()
	stuck := tf.fakes[order[0]]
	stuck.set(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	first := make(chan answer, 1)
	go func() { first <- tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`) }()
	waitFor(t, 5*time.Second, "the stuck invoker gets the invoke", func() bool { return stuck.invokes() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := tf.front.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline", err)
	}
	r := <-first
	if r.status != 500 || !strings.Contains(string(r.body), "invoker "+order[0]+" was lost") {
		t.Fatalf("invoke cut off by the shutdown: %d %s", r.status, r.body)
	}
	if g := tf.do("GET", "/api/v1/namespaces/_/activations/"+r.header.Get(server.ActivationHeader), ""); g.status != 200 {
		t.Fatalf("its record: %d %s", g.status, g.body)
	}
}
