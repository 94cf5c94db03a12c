// Package etcdtest runs an etcd inside a test process, for the tests of
// cluster mode: one member on random loopback ports, its data in the
// test's temporary directory, stopped at the end of the test.
package etcdtest

import (
	"net/url"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running member.
type Server struct {
	Etcd     *embed.Etcd
	Endpoint string // its client URL, http://127.0.0.1:<port>
}

// Start starts a single-member etcd and stops it at the end of t.
// Heartbeat 10 ms and election 100 ms make it ready in well under a second
// and let leases as short as 1 s through.
func Start(t testing.TB) *Server {
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
	return &Server{Etcd: e, Endpoint: "http://" + e.Clients[0].Addr().String()}
}
