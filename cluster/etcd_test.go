package cluster

import (
	"context"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// etcdServer is an etcd run inside the test process: one member on random
// loopback ports, data in the test's temporary directory.
type etcdServer struct {
	e        *embed.Etcd
	endpoint string
}

// startEtcd starts a single-member etcd and stops it at the end of t.
// Heartbeat 10 ms and election 100 ms make it ready in well under a second
// and let leases as short as 1 s through.
func startEtcd(t testing.TB) *etcdServer {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "stemcell-test"
	cfg.Dir = t.TempDir()
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = true
	cfg.TickMs, cfg.ElectionMs = 10, 100
	client, _ := url.Parse("http://127.0.0.1:0")
	peer, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("starting etcd: %v", err)
	}
	t.Cleanup(func() {
		e.Close()
		<-e.Server.StopNotify()
	})
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(20 * time.Second):
		t.Fatal("etcd not ready after 20 s")
	}
	return &etcdServer{e: e, endpoint: "http://" + e.Clients[0].Addr().String()}
}

// newClient returns a client of srv closed at the end of t.
func newClient(t testing.TB, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := dial(endpoint)
	if err != nil {
		t.Fatalf("etcd client for %s: %v", endpoint, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// testCtx is a context for one test step, with a deadline instead of
// sleeps: a step that does not happen in time fails the test.
func testCtx(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func dial(endpoint string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
}

func leaseID(id int64) clientv3.LeaseID { return clientv3.LeaseID(id) }
