package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/cluster"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/pool"
	"github.com/stemcell-io/stemcell/route"
	"github.com/stemcell-io/stemcell/server"
)

// member is this invoker's membership of a cluster: its registration and
// the actor that feeds it the pool's memory snapshots.
type member struct {
	reg  *cluster.Registry
	feed *actor.PID
	root *actor.RootContext
}

// Both method sets of the server's action documents: the server forgets
// its prepared copy of an action on every change another process makes.
var (
	_ server.Actions       = (*cluster.Actions)(nil)
	_ server.ActionChanges = (*cluster.Actions)(nil)
)

// clusterStore is the invoker's connection to the cluster's etcd and the
// action documents kept there, which every front and invoker shares; the
// invoker's activation records stay in its own store.
type clusterStore struct {
	cli     *clientv3.Client
	actions *cluster.Actions
	once    sync.Once
	err     error
}

// dialEtcd opens a client of the etcd of cc (endpoints, credentials, TLS).
// It does not wait for a connection: the first call does.
func dialEtcd(cc config.ClusterConfig) (*clientv3.Client, error) {
	tlsCfg, err := clusterTLS(cc.TLS)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: cc.Endpoints, DialTimeout: cc.DialTimeout, TLS: tlsCfg,
		Username: cc.Username, Password: cc.Password,
		Logger: zap.NewNop(), // the cluster package logs what matters through zerolog
	})
	if err != nil {
		return nil, fmt.Errorf("cluster.endpoints %v: %w", cc.Endpoints, err)
	}
	return cli, nil
}

// openClusterStore connects to etcd and starts mirroring the cluster's
// action documents. It waits up to dial-timeout for the first list, so
// that the first invokes find their actions in memory; without it reads
// go to etcd until the list is in.
func openClusterStore(cfg *config.Config, maxBody config.ByteSize, log zerolog.Logger) (*clusterStore, error) {
	cc := cfg.Cluster
	if max := config.ByteSize(cluster.MaxCodeSize); maxBody > max {
		return nil, fmt.Errorf("server.max-body-size %s: in cluster mode action code lives in etcd, at most %s per action (%d parts of %s); set it to %s or less",
			maxBody, max, cluster.MaxCodeParts, config.ByteSize(cluster.CodePartSize), max)
	}
	cli, err := dialEtcd(cc)
	if err != nil {
		return nil, err
	}
	acts, err := cluster.NewActions(cli, cluster.ActionsOptions{Cluster: cc.Name, Logger: log})
	if err != nil {
		_ = cli.Close()
		return nil, err
	}
	select {
	case <-acts.Ready():
	case <-time.After(cc.DialTimeout):
		log.Warn().Strs("endpoints", cc.Endpoints).Dur("waited", cc.DialTimeout).
			Msg("cluster: action documents not listed yet; reading them from etcd until they are")
	}
	return &clusterStore{cli: cli, actions: acts}, nil
}

// close stops the mirror and closes the client; later calls return the
// first one's error.
func (c *clusterStore) close() error {
	c.once.Do(func() {
		c.actions.Close()
		c.err = c.cli.Close()
	})
	return c.err
}

// joinCluster registers the invoker in the cluster of cfg.Cluster through
// cli and publishes the pool's memory from then on. A live invoker of the
// same id is an error naming it. The activation path never waits on etcd:
// the registry writes from its own goroutine, and an unreachable etcd only
// takes the invoker out of the fronts' views.
func joinCluster(ctx context.Context, cfg *config.Config, cli *clientv3.Client, root *actor.RootContext, p *pool.Pool, addr string, log zerolog.Logger) (*member, error) {
	cc := cfg.Cluster
	first, err := p.Snapshot(ctx)
	if err != nil {
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
		return nil, fmt.Errorf("joining cluster %q at %v: %w", cc.Name, cc.Endpoints, err)
	}
	feed := root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if s, ok := c.Message().(*actors.MemorySnapshot); ok {
			reg.Publish(clusterSnapshot(*s)) // never blocks
		}
	}))
	p.Subscribe(feed)
	log.Info().Str("cluster", cc.Name).Str("id", cc.InvokerID(cfg.Invoker)).Int64("incarnation", reg.Status().Incarnation).Msg("joined the cluster")
	return &member{reg: reg, feed: feed, root: root}, nil
}

// drain tells the fronts to send nothing more; the invoker finishes what
// it has.
func (m *member) drain(ctx context.Context) error { return m.reg.Drain(ctx) }

// leave stops publishing and gives the lease back: the invoker leaves
// every view at once. The client stays open (clusterStore.close).
func (m *member) leave() error {
	m.root.Stop(m.feed)
	return m.reg.Close()
}

// clusterSnapshot is the pool's memory as the registry publishes it.
func clusterSnapshot(s actors.MemorySnapshot) cluster.Snapshot {
	u := func(x actors.Usage) cluster.Usage { return cluster.Usage{Count: x.Count, Memory: x.Memory} }
	return cluster.Snapshot{
		UserMemory: s.Total, Free: s.Free, Busy: u(s.Busy), Idle: u(s.Idle), Prewarmed: u(s.Prewarmed),
		Starting: u(s.Starting), Removing: u(s.Removing), Queued: u(s.Buffered),
		Warm: warmKeys(s.Warm),
	}
}

// warmKeys are the route keys of the identities with an idle container,
// sorted and each once, as route.Invoker.Warm wants them. A container
// serves one identity (action version and invocation namespace), which is
// what route.Action names.
func warmKeys(ids []actors.Identity) []uint64 {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]uint64, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, route.WarmKey(route.Action{Namespace: id.InvocationNamespace, Name: id.Name, Version: id.Version}))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
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
