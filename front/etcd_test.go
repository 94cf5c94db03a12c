package front

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/cluster"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/etcdtest"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

// echoPool stands in for an invoker's pool: every activation succeeds at
// once with {"ranOn": <invoker id>}.
type echoPool struct {
	id  string
	mu  sync.Mutex
	ran []string // activation ids
}

func (p *echoPool) Enqueue(_ context.Context, a actors.Activation) (<-chan *actors.RunResult, error) {
	p.mu.Lock()
	p.ran = append(p.ran, a.ID)
	p.mu.Unlock()
	now := time.Now()
	res, _ := json.Marshal(map[string]string{"ranOn": p.id})
	ch := make(chan *actors.RunResult, 1)
	ch <- &actors.RunResult{Result: actors.Result{
		ActivationID: a.ID, Status: factory.StatusSuccess, Response: res, Start: now, End: now.Add(time.Millisecond),
	}}
	return ch, nil
}

func (p *echoPool) Submit(a actors.Activation) <-chan *actors.RunResult {
	ch, _ := p.Enqueue(context.Background(), a)
	return ch
}

func (p *echoPool) Snapshot(context.Context) (actors.MemorySnapshot, error) {
	return actors.MemorySnapshot{Total: 2 * config.GB, Free: 2 * config.GB}, nil
}

func (p *echoPool) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ran)
}

// realInvoker is a server.Server with its own store and an echoPool,
// registered in the cluster under id.
type realInvoker struct {
	id    string
	pool  *echoPool
	store *store.Store
	reg   *cluster.Registry
}

const testCluster = "fronttest"

func startRealInvoker(t *testing.T, cli *clientv3.Client, id string, actions server.Actions) *realInvoker {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool := &echoPool{id: id}
	srv, err := server.New(server.Options{
		Config: config.Default(), Server: config.DefaultServer(), Store: st, Actions: actions,
		Invoker: pool, Keys: testKeys(t), Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A bare host:port, as `invoker run` publishes it.
	reg, err := cluster.Register(ctx, cli, cluster.Options{
		Cluster: testCluster, ID: id, Address: hs.Listener.Addr().String(), TTL: 5 * time.Second,
		Initial: cluster.Snapshot{UserMemory: 2 * config.GB, Free: 2 * config.GB}, Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = reg.Close()
		hs.Close()
		srv.Abandon()
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.WaitIdle(wctx)
		_ = st.Close()
	})
	return &realInvoker{id: id, pool: pool, store: st, reg: reg}
}

// TestClusterEndToEnd runs a front on a cluster.View of a real etcd over
// two real invoker servers: the invoke runs on exactly one of them, under
// the id the front chose, and the front finds its record there.
func TestClusterEndToEnd(t *testing.T) {
	etcd := etcdtest.Start(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	// One action store shared by the front and the invokers: what etcd's
	// actions are in cluster mode.
	actions, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { actions.Close() })
	invs := map[string]*realInvoker{}
	for _, id := range []string{"inv-1", "inv-2"} {
		invs[id] = startRealInvoker(t, cli, id, actions)
	}

	view, err := cluster.NewView(cli, cluster.ViewOptions{Cluster: testCluster, ProbeInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(view.Close)
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Options{
		Config: config.Default(), Server: config.DefaultServer(), ID: frontID, Store: st, Actions: actions,
		Keys: testKeys(t), View: ClusterView(view), Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(f.Handler())
	tf := &testFront{t: t, front: f, http: hs, store: actions}
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.Shutdown(ctx)
		_ = st.Close()
	})
	waitFor(t, 10*time.Second, "/readyz lists both invokers", func() bool {
		r := tf.do("GET", "/readyz", "")
		return r.status == 200 && r.json(t)["view"].(map[string]any)["invokers"] == 2.0
	})
	tf.createHello()

	r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`)
	if r.status != 200 {
		t.Fatalf("invoke through the front: %d %s", r.status, r.body)
	}
	id := r.header.Get(server.ActivationHeader)
	ranOn := r.json(t)["response"].(map[string]any)["result"].(map[string]any)["ranOn"].(string)
	ran := invs[ranOn]
	if ran == nil || ran.pool.count() != 1 {
		t.Fatalf("ran on %q", ranOn)
	}
	for other, inv := range invs {
		if other != ranOn && inv.pool.count() != 0 {
			t.Errorf("%s ran %d activations too", other, inv.pool.count())
		}
	}
	// The invoker recorded it under the front's id, and the front finds it.
	if _, err := ran.store.GetActivation("guest", id); err != nil {
		t.Fatalf("record %s on %s: %v", id, ranOn, err)
	}
	if g := tf.do("GET", "/api/v1/namespaces/_/activations/"+id, ""); g.status != 200 || g.json(t)["activationId"] != id {
		t.Fatalf("GET through the front: %d %s", g.status, g.body)
	}
	if got := ids(t, tf.do("GET", "/api/v1/namespaces/_/activations", "")); len(got) != 1 || got[0] != id {
		t.Fatalf("list through the front: %v", got)
	}

	// The invoker it ran on leaves the cluster: the next invoke goes to
	// the other one, as soon as the view shows it.
	if err := ran.reg.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the view drops "+ranOn, func() bool { return len(f.opts.View.Current().Invokers) == 1 })
	r = tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", `{}`)
	if r.status != 200 || r.json(t)["ranOn"] == ranOn {
		t.Fatalf("invoke after %s left: %d %s", ranOn, r.status, r.body)
	}
}
