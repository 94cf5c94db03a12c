package cluster

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/stemcell-io/stemcell/internal/etcdtest"
)

// etcdServer is an etcd run inside the test process: one member on random
// loopback ports, data in the test's temporary directory.
type etcdServer struct {
	e        *embed.Etcd
	endpoint string
}

// startEtcd starts a single-member etcd and stops it at the end of t.
func startEtcd(t testing.TB) *etcdServer {
	t.Helper()
	s := etcdtest.Start(t)
	return &etcdServer{e: s.Etcd, endpoint: s.Endpoint}
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
