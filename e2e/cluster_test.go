package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stemcell-io/stemcell/cluster"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/internal/etcdtest"
)

// A daemon with cluster.endpoints registers in the cluster, publishes its
// pool's memory as it changes, refuses a second daemon of its id, and
// leaves every view when it stops.
func TestDaemonJoinsCluster(t *testing.T) {
	needEngine(t)
	etcd := etcdtest.Start(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	view, err := cluster.NewView(cli, cluster.ViewOptions{Cluster: "e2e", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	clusterArgs := []string{"--set", "cluster.endpoints=" + etcd.Endpoint, "--set", "cluster.name=e2e", "--set", "cluster.lease-ttl=2s"}

	d := newDaemon(t, append([]string{"--user-memory", "512m", "--set", "runtimes-manifest.stem-cells=none"}, clusterArgs...)...)
	d.start()
	entry := func() (cluster.Entry, bool) { return view.Current().Get(d.name) }
	waitFor(t, "the daemon in the cluster's view", 10*time.Second, func() bool { _, ok := entry(); return ok })
	if e, _ := entry(); e.Snapshot.UserMemory != 512*config.MB || e.Snapshot.Idle.Count != 0 || e.Address != d.addr {
		t.Errorf("entry %+v: want 512 MB of user memory, nothing idle, address %s", e, d.addr)
	}

	// An invoke leaves a warm container: the published memory says so.
	if r := d.do("PUT", "/api/v1/namespaces/_/actions/hello", guestAuth, map[string]any{"exec": map[string]any{"kind": "nodejs:default", "code": helloJS}}); r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	if r := d.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", guestAuth, map[string]any{"name": "Ada"}); r.status != 200 {
		t.Fatalf("invoke: %v", r)
	}
	waitFor(t, "the warm container in the published memory", 10*time.Second, func() bool {
		e, _ := entry()
		return e.Snapshot.Idle.Count == 1 && e.Snapshot.Idle.Memory == 256*config.MB
	})

	// A second daemon of the same id refuses to start, naming the id.
	dup := exec.Command(binary, append([]string{"run", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--invoker-name", d.name + "-dup", "--runtimes-manifest", manifest, "--set", "cluster.id=" + d.name,
		"--set", "runtimes-manifest.stem-cells=none", "--log-format", "json"}, clusterArgs...)...)
	out, err := dup.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `invoker id "`+d.name+`" is already registered`) {
		t.Errorf("second daemon of id %s: %v\n%s\nwant a refusal naming the id", d.name, err, out)
	}

	// Stopping gives the lease back: the daemon leaves the view at once,
	// not a TTL later.
	if code := d.shutdown(); code != 0 {
		t.Fatalf("shutdown: exit %d", code)
	}
	waitFor(t, "the daemon to leave the view", time.Second, func() bool { _, ok := entry(); return !ok })
}
