package cluster

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// DefaultTTL is the lease TTL of a registration. reference/cluster.md: a
// keep-alive stream can need about 11 s to leave a dead etcd member, so a
// shorter TTL drops live invokers from the view when a member dies. Tests
// that kill invokers use 2 to 5 s.
const DefaultTTL = 15 * time.Second

// DefaultSyncInterval is the least time between two snapshot writes: the
// pool's default memory-sync-interval.
const DefaultSyncInterval = time.Second

// DefaultCallTimeout bounds each etcd call the registry and the view make,
// so a call on a dead connection is retried instead of hanging.
const DefaultCallTimeout = 2 * time.Second

// Options configure a Registry.
type Options struct {
	// Cluster names the cluster: keys live under /stemcell/v1/<Cluster>/.
	Cluster string
	// ID is the invoker's name, unique in the cluster (host:port by
	// default in the daemon).
	ID string
	// Address is where fronts reach this invoker, published with every
	// snapshot; optional.
	Address string
	// TTL of the lease (DefaultTTL when 0). etcd counts whole seconds: it
	// is rounded up; at least 1 s, and the server may raise it to its
	// minimum (1.5 election timeouts).
	TTL time.Duration
	// SyncInterval is the least time between two snapshot writes
	// (DefaultSyncInterval when 0); set it to memory-sync-interval.
	SyncInterval time.Duration
	// CallTimeout bounds each etcd call (DefaultCallTimeout when 0).
	CallTimeout time.Duration
	// Initial is the snapshot written at registration.
	Initial Snapshot
	// Logger receives the registry's events (component=cluster-registry).
	Logger zerolog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if err := checkName("cluster", o.Cluster); err != nil {
		return o, err
	}
	if err := checkName("id", o.ID); err != nil {
		return o, err
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.TTL < time.Second {
		return o, fmt.Errorf("%w: ttl: %v is invalid: must be >= 1s (etcd counts whole seconds)", ErrInvalid, o.TTL)
	}
	if o.SyncInterval < 0 {
		return o, fmt.Errorf("%w: sync-interval: %v is invalid: must be > 0", ErrInvalid, o.SyncInterval)
	}
	if o.CallTimeout < 0 {
		return o, fmt.Errorf("%w: call-timeout: %v is invalid: must be > 0", ErrInvalid, o.CallTimeout)
	}
	return o, nil
}

// ttlSeconds is the TTL etcd is asked for, rounded up to whole seconds.
func (o Options) ttlSeconds() int64 {
	return int64((o.TTL + time.Second - 1) / time.Second)
}
