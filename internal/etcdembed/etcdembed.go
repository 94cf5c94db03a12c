// Package etcdembed starts a single-member etcd inside the process, on a
// loopback port: the etcd of `invoker local-cluster` and of the tests. It
// is go.etcd.io/etcd/server/v3/embed, the same version line as the client.
package etcdembed

import (
	"fmt"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Options configure a member.
type Options struct {
	// Dir holds its data.
	Dir string
	// Host is the address it listens on; empty: 127.0.0.1. Ports are
	// picked free.
	Host string
	// Fast trades durability and partition tolerance for speed: no fsync,
	// heartbeat 10 ms, election 100 ms, ready in well under a second, and
	// leases as short as 1 s work. For tests and throwaway clusters only.
	Fast bool
}

// Server is a running member.
type Server struct {
	Etcd     *embed.Etcd
	Endpoint string // its client URL, http://host:port
}

// Start starts the member and waits until it serves (at most 20 s).
func Start(o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	cfg := embed.NewConfig()
	cfg.Name = "stemcell-local"
	cfg.Dir = o.Dir
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	if o.Fast {
		cfg.UnsafeNoFsync = true
		cfg.TickMs, cfg.ElectionMs = 10, 100
	}
	u, err := url.Parse("http://" + o.Host + ":0")
	if err != nil {
		return nil, fmt.Errorf("etcd host %q: %w", o.Host, err)
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*u}, []url.URL{*u}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*u}, []url.URL{*u}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting etcd in %s: %w", o.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(20 * time.Second):
		e.Close()
		return nil, fmt.Errorf("etcd in %s not ready after 20 s", o.Dir)
	}
	return &Server{Etcd: e, Endpoint: "http://" + e.Clients[0].Addr().String()}, nil
}

// Close stops the member and waits until it has.
func (s *Server) Close() {
	s.Etcd.Close()
	<-s.Etcd.Server.StopNotify()
}
