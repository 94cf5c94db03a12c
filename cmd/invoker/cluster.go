package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/cluster"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/pool"
)

// member is this invoker's membership of a cluster: its registration and
// the actor that feeds it the pool's memory snapshots.
type member struct {
	cli  *clientv3.Client
	reg  *cluster.Registry
	feed *actor.PID
	root *actor.RootContext
}

// joinCluster registers the invoker in the cluster of cfg.Cluster and
// publishes the pool's memory from then on. A live invoker of the same id
// is an error naming it. The activation path never waits on etcd: the
// registry writes from its own goroutine, and an unreachable etcd only
// takes the invoker out of the fronts' views.
func joinCluster(ctx context.Context, cfg *config.Config, root *actor.RootContext, p *pool.Pool, addr string, log zerolog.Logger) (*member, error) {
	cc := cfg.Cluster
	tlsCfg, err := clusterTLS(cc.TLS)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: cc.Endpoints, DialTimeout: cc.DialTimeout, TLS: tlsCfg,
		Username: cc.Username, Password: cc.Password,
		Logger: zap.NewNop(), // the registry logs what matters through zerolog
	})
	if err != nil {
		return nil, fmt.Errorf("cluster.endpoints %v: %w", cc.Endpoints, err)
	}
	first, err := p.Snapshot(ctx)
	if err != nil {
		_ = cli.Close()
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, cc.DialTimeout+cc.LeaseTTL)
	defer cancel()
	reg, err := cluster.Register(rctx, cli, cluster.Options{
		Cluster: cc.Name, ID: cc.InvokerID(cfg.Invoker), Address: addr, TTL: cc.LeaseTTL,
		SyncInterval: cfg.ContainerPool.MemorySyncInterval, Initial: clusterSnapshot(first),
		Logger: log,
	})
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("joining cluster %q at %v: %w", cc.Name, cc.Endpoints, err)
	}
	feed := root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if s, ok := c.Message().(*actors.MemorySnapshot); ok {
			reg.Publish(clusterSnapshot(*s)) // never blocks
		}
	}))
	p.Subscribe(feed)
	log.Info().Str("cluster", cc.Name).Str("id", cc.InvokerID(cfg.Invoker)).Int64("incarnation", reg.Status().Incarnation).Msg("joined the cluster")
	return &member{cli: cli, reg: reg, feed: feed, root: root}, nil
}

// drain tells the fronts to send nothing more; the invoker finishes what
// it has.
func (m *member) drain(ctx context.Context) error { return m.reg.Drain(ctx) }

// leave stops publishing, gives the lease back (the invoker leaves every
// view at once) and closes the client.
func (m *member) leave() error {
	m.root.Stop(m.feed)
	err := m.reg.Close()
	if cerr := m.cli.Close(); err == nil {
		err = cerr
	}
	return err
}

// clusterSnapshot is the pool's memory as the registry publishes it.
func clusterSnapshot(s actors.MemorySnapshot) cluster.Snapshot {
	u := func(x actors.Usage) cluster.Usage { return cluster.Usage{Count: x.Count, Memory: x.Memory} }
	return cluster.Snapshot{
		UserMemory: s.Total, Free: s.Free, Busy: u(s.Busy), Idle: u(s.Idle), Prewarmed: u(s.Prewarmed),
		Starting: u(s.Starting), Removing: u(s.Removing), Queued: u(s.Buffered),
	}
}

// clusterTLS reads cluster.tls; nil when no file is set.
func clusterTLS(t config.ClusterTLS) (*tls.Config, error) {
	if t.CAFile == "" && t.CertFile == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cluster.tls.ca-file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cluster.tls.ca-file %s: no PEM certificate in it", t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cluster.tls.cert-file %s, key-file %s: %w", t.CertFile, t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
