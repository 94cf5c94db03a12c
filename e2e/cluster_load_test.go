package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stemcell-io/stemcell/cluster"
	"github.com/stemcell-io/stemcell/route"
	"github.com/stemcell-io/stemcell/store"
)

// Fake invokers of 1 GB (four 256 MB containers each) for 8 actions: more
// than one invoker can keep warm, fewer than the cluster can.
const (
	loadActions = 8
	loadWorkers = 2
)

var fakeInvokerArgs = []string{"--fake", "--user-memory", "1024m", "--lease-ttl", "2s",
	"--set", "container-factory.fake.create=100ms", "--set", "container-factory.fake.init=50ms",
	"--set", "container-factory.fake.run=20ms", "--set", "runtimes-manifest.stem-cells=none"}

// Three invokers on the fake factory and two fronts, under a bounded load:
// warm hits stay high, an invoker killed mid-load costs only the
// activations it held (each answered once, as a whisk internal error, and
// run at most once), no invoker goes above its memory, and a fourth
// invoker joining takes only its share of the actions.
func TestClusterUnderLoad(t *testing.T) {
	c := startLocalCluster(t, append([]string{"--invokers", "3", "--fronts", "2"}, fakeInvokerArgs...)...)
	fronts := []string{c.info.Fronts[0].URL, c.info.Fronts[1].URL}
	for i := range loadActions {
		body := map[string]any{"exec": map[string]any{"kind": "nodejs:default", "code": "function main(a) { return a }"}, "limits": map[string]int{"memory": 256}}
		if r, err := call(fronts[i%2], "PUT", fmt.Sprintf("/api/v1/namespaces/_/actions/a%d", i), body); err != nil || r.status != 200 {
			t.Fatalf("create a%d: %v %v", i, r, err)
		}
	}
	mem := watchMemory(t, c)
	gen := &loadGen{fronts: fronts, actions: loadActions}

	gen.run(4*time.Second, loadWorkers, 1) // warm-up
	steady := count(gen.run(6*time.Second, loadWorkers, 2))
	t.Logf("steady, 3 invokers: %v", steady)
	if steady.other+steady.lost > 0 || steady.warmShare() < 0.9 {
		t.Errorf("steady load: want every activation a success and over 90 %% warm; got %v", steady)
	}

	// Kill invoker-2 while it runs an activation, a second into a phase
	// that outlasts its lease: the activation in flight is lost, the
	// others go to the other invokers, and both fronts drop it from their
	// views within TTL + 1 s.
	victim := c.info.Invokers[1]
	killed := make(chan time.Time, 1)
	go func() { killed <- killWhileBusy(victim, time.Second, 4*time.Second) }()
	outs := gen.run(5*time.Second, loadWorkers, 3)
	at := <-killed
	if at.IsZero() {
		t.Fatalf("%s never ran an activation in the kill window", victim.Name)
	}
	kill := count(outs)
	t.Logf("%s killed (SIGKILL) while running an activation: %v", victim.Name, kill)
	if kill.other > 0 || kill.lost == 0 {
		t.Errorf("with an invoker killed: want every answer a success or a whisk internal error, and the activations it ran lost; got %v", kill)
	}
	for _, o := range outs {
		if o.status == 500 && !strings.Contains(o.result, victim.Name) {
			t.Errorf("lost activation %s: result %s does not name the lost invoker %s", o.id, o.result, victim.Name)
		}
	}
	for _, f := range c.info.Fronts {
		waitFor(t, f.Name+" dropping "+victim.Name, time.Until(at.Add(3*time.Second)), func() bool { return viewSize(f.URL) == 2 })
	}
	t.Logf("both fronts dropped %s within TTL + 1 s of the kill", victim.Name)

	// A fourth invoker joins: only the actions it now ranks first move.
	view := openView(t, c)
	before := liveInvokers(view)
	joiner := startInvoker(t, c, "invoker-4")
	waitFor(t, "invoker-4 in the view", 10*time.Second, func() bool { _, ok := view.Current().Get("invoker-4"); return ok })
	after := liveInvokers(view)
	moved, wrong := firstChoiceMoves(before, after, "invoker-4", 10000)
	t.Logf("invoker-4 joined %d live invokers: %.1f %% of 10,000 actions changed first choice (expected about %.1f %%), %d of them to another invoker than the joiner",
		len(before), 100*moved, 100/float64(len(after)), wrong)
	if wrong > 0 || moved > 1.5/float64(len(after)) {
		t.Errorf("join moved %.3f of the actions (%d not to the joiner); want about 1/%d, all to the joiner", moved, wrong, len(after))
	}
	gen.run(3*time.Second, loadWorkers, 4)
	joined := count(gen.run(6*time.Second, loadWorkers, 5))
	t.Logf("steady after the join: %v", joined)
	if joined.other+joined.lost > 0 || joined.warmShare() < 0.9 {
		t.Errorf("after the join: want every activation a success and over 90 %% warm; got %v", joined)
	}
	if err := mem.stop(); err != nil {
		t.Error(err)
	}
	joiner.stop()
	c.stop()
	checkRunOnce(t, c, outs)
}

// killWhileBusy polls inv's pool from after until it runs an activation,
// then kills it (SIGKILL) and returns when; zero if it never ran one
// before until.
func killWhileBusy(inv proc, after, until time.Duration) time.Time {
	start := time.Now()
	for time.Since(start) < until {
		if time.Since(start) >= after {
			if r, err := call(inv.URL, "GET", "/v1/pool", nil); err == nil && r.status == 200 {
				var p struct{ Busy struct{ Count int } }
				if json.Unmarshal(r.body, &p) == nil && p.Busy.Count > 0 {
					_ = syscall.Kill(inv.PID, syscall.SIGKILL)
					return time.Now()
				}
			}
		}
		time.Sleep(2 * time.Millisecond) // a polling interval, not a synchronisation
	}
	return time.Time{}
}

// viewSize is how many invokers a front's /readyz says its view holds.
func viewSize(front string) int {
	r, err := call(front, "GET", "/readyz", nil)
	if err != nil {
		return -1
	}
	var ready struct{ View struct{ Invokers int } }
	if json.Unmarshal(r.body, &ready) != nil {
		return -1
	}
	return ready.View.Invokers
}

// liveInvokers is the view's invokers, not draining.
func liveInvokers(v *cluster.View) []route.Invoker {
	var out []route.Invoker
	for _, inv := range v.Current().Invokers() {
		if !inv.Draining {
			out = append(out, inv)
		}
	}
	return out
}

// firstChoiceMoves ranks n synthetic actions over before and after and
// returns the share whose first choice changed, and how many of those did
// not move to joiner.
func firstChoiceMoves(before, after []route.Invoker, joiner string, n int) (share float64, wrong int) {
	movedN := 0
	for i := range n {
		a := route.Action{Namespace: "guest", Name: fmt.Sprintf("guest/synthetic-%d", i), Version: "0.0.1"}
		b, f := before[route.Rank(a, before)[0]].ID, after[route.Rank(a, after)[0]].ID
		if b != f {
			movedN++
			if f != joiner {
				wrong++
			}
		}
	}
	return float64(movedN) / float64(n), wrong
}

func openView(t *testing.T, c *localCluster) *cluster.View {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.info.Etcd}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	v, err := cluster.NewView(cli, cluster.ViewOptions{Cluster: c.info.Name, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	<-v.Ready()
	return v
}

// child is a process the test started and stops by pid.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *child) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startInvoker starts one more fake invoker in c's cluster, as
// local-cluster starts its own.
func startInvoker(t *testing.T, c *localCluster, id string) *child {
	t.Helper()
	args := []string{"run", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(c.dir, id), "--keys-file", c.info.KeysFile,
		"--invoker-name", c.info.Name + "-" + id, "--log-format", "json", "--user-memory", "1024m",
		"--set", "cluster.endpoints=" + c.info.Etcd, "--set", "cluster.name=" + c.info.Name, "--set", "cluster.id=" + id,
		"--set", "cluster.lease-ttl=2s", "--set", "container-factory.provider=fake",
		"--set", "container-factory.fake.create=100ms", "--set", "container-factory.fake.init=50ms",
		"--set", "container-factory.fake.run=20ms", "--set", "runtimes-manifest.stem-cells=none"}
	p := &child{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	return p
}

// memoryWatch polls every invoker's /v1/pool and remembers the first time
// one held more than its user memory.
type memoryWatch struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	polls  int
}

func watchMemory(t *testing.T, c *localCluster) *memoryWatch {
	ctx, cancel := context.WithCancel(context.Background())
	m := &memoryWatch{cancel: cancel}
	for _, inv := range c.info.Invokers {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			for ctx.Err() == nil {
				m.check(inv)
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
	}
	t.Cleanup(func() { _ = m.stop() })
	return m
}

func (m *memoryWatch) check(inv proc) {
	r, err := call(inv.URL, "GET", "/v1/pool", nil)
	if err != nil || r.status != 200 {
		return // a killed invoker answers nothing
	}
	var p struct {
		TotalMB                                   int64
		Busy, Idle, Prewarmed, Starting, Removing struct{ MemoryMB int64 }
	}
	if json.Unmarshal(r.body, &p) != nil {
		return
	}
	held := p.Busy.MemoryMB + p.Idle.MemoryMB + p.Prewarmed.MemoryMB + p.Starting.MemoryMB + p.Removing.MemoryMB
	m.mu.Lock()
	defer m.mu.Unlock()
	m.polls++
	if held > p.TotalMB && m.err == nil {
		m.err = fmt.Errorf("%s held %d MB of %d MB: %s", inv.Name, held, p.TotalMB, r.body)
	}
}

func (m *memoryWatch) stop() error {
	m.cancel()
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil && m.polls == 0 {
		return fmt.Errorf("memory watch: no invoker answered /v1/pool")
	}
	return m.err
}

// checkRunOnce reads every process's store once the cluster stopped: no
// request ran twice, and every lost activation is recorded on a front.
func checkRunOnce(t *testing.T, c *localCluster, outs []outcome) {
	t.Helper()
	runs := map[string][]string{} // req -> where it ran
	frontRecords := map[string]bool{}
	dirs, _ := filepath.Glob(filepath.Join(c.dir, "*", store.FileName))
	for _, db := range dirs {
		dir := filepath.Dir(db)
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Errorf("opening %s: %v", dir, err)
			continue
		}
		recs, err := st.ListActivations(store.Query{Namespace: "guest"})
		_ = st.Close()
		if err != nil {
			t.Errorf("listing %s: %v", dir, err)
			continue
		}
		for _, r := range recs {
			if strings.HasPrefix(filepath.Base(dir), "front-") {
				frontRecords[r.ActivationID] = true
				continue
			}
			if r.Response.Status == "success" {
				runs[string(r.Response.Result)] = append(runs[string(r.Response.Result)], filepath.Base(dir)+"/"+r.ActivationID)
			}
		}
	}
	for req, where := range runs {
		if len(where) > 1 {
			t.Errorf("request %s ran %d times: %v", req, len(where), where)
		}
	}
	for _, o := range outs {
		if o.status == 500 && !frontRecords[o.id] {
			t.Errorf("lost activation %s (req %d) has no record on a front", o.id, o.req)
		}
	}
	t.Logf("run-once check: %d successful runs recorded in %d stores", len(runs), len(dirs))
}
