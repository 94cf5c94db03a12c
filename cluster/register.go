package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// register grants a lease and creates the key under it if the key does not
// exist (a transaction, so two processes with one id cannot both win). On
// success the registry holds the new lease, keeps it alive, and the key's
// create revision is the new incarnation.
func (r *Registry) register(ctx context.Context, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.CallTimeout)
	defer cancel()
	g, err := r.cli.Grant(ctx, r.opts.ttlSeconds())
	if err != nil {
		return fmt.Errorf("cluster: invoker %q: granting a %d s lease: %w", r.opts.ID, r.opts.ttlSeconds(), err)
	}
	snap, draining := r.wanted()
	val := encodeRecord(r.opts.ID, r.opts.Address, draining, snap)
	// Two rounds: a key under one of our stale leases is revoked and the
	// create tried again.
	for range 2 {
		resp, err := r.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(r.key), "=", 0)).
			Then(clientv3.OpPut(r.key, val, clientv3.WithLease(g.ID))).
			Else(clientv3.OpGet(r.key)).
			Commit()
		if err != nil {
			r.revokeQuiet(g.ID)
			return fmt.Errorf("cluster: invoker %q: creating %q: %w", r.opts.ID, r.key, err)
		}
		if resp.Succeeded {
			return r.adopt(g.ID, resp.Header.Revision, now, snap, draining)
		}
		var holder int64
		var holderRev int64
		if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) > 0 {
			holder, holderRev = kvs[0].Lease, kvs[0].CreateRevision
		}
		if !slices.Contains(r.stale, clientv3.LeaseID(holder)) {
			r.revokeQuiet(g.ID)
			return r.duplicate(ctx, holder, holderRev)
		}
		r.log.Info().Int64("lease", holder).Msg("key still held by an earlier lease of ours: revoking it")
		if _, err := r.cli.Revoke(ctx, clientv3.LeaseID(holder)); err != nil && !isLeaseNotFound(err) {
			r.revokeQuiet(g.ID)
			return fmt.Errorf("cluster: invoker %q: revoking our earlier lease %x on %q: %w", r.opts.ID, holder, r.key, err)
		}
	}
	r.revokeQuiet(g.ID)
	return fmt.Errorf("cluster: invoker %q: %q still exists after revoking our earlier lease; retrying", r.opts.ID, r.key)
}

// adopt makes lease the registry's and starts keeping it alive.
func (r *Registry) adopt(lease clientv3.LeaseID, incarnation int64, now time.Time, snap Snapshot, draining bool) error {
	kaCtx, kaCancel := context.WithCancel(r.ctx)
	kaC, err := r.cli.KeepAlive(kaCtx, lease)
	if err != nil {
		kaCancel()
		r.revokeQuiet(lease)
		return fmt.Errorf("cluster: invoker %q: keeping lease %x alive: %w", r.opts.ID, int64(lease), err)
	}
	r.lease, r.incarnation = lease, incarnation
	r.kaCancel, r.kaC = kaCancel, kaC
	r.lastRenew = now
	r.pubSnap, r.pubDraining = snap, draining
	r.nextPut = now.Add(r.opts.SyncInterval)
	r.backoff = minBackoff
	if draining {
		r.drainOnce.Do(func() { close(r.drained) })
	}
	r.log.Info().Int64("lease", int64(lease)).Int64("incarnation", incarnation).Str("key", r.key).Msg("registered")
	r.setStatus(func(s *Status) {
		s.Registered, s.Fenced, s.FencedSince = true, false, time.Time{}
		s.Incarnation, s.Lease, s.LastRenewal = incarnation, int64(lease), now
		s.Registrations++
		s.Err = nil
	})
	return nil
}

// duplicate builds the refusal for an id another process holds.
func (r *Registry) duplicate(ctx context.Context, holder, holderRev int64) error {
	left := "unknown"
	if ttl, err := r.cli.TimeToLive(ctx, clientv3.LeaseID(holder)); err == nil && ttl.TTL > 0 {
		left = fmt.Sprintf("%d s", ttl.TTL)
	}
	return fmt.Errorf("cluster: invoker id %q is already registered at %q (lease %x, incarnation %d, lease expires in %s unless renewed): ids must be unique in a cluster; stop the other invoker or, if it died, wait for its lease to expire: %w",
		r.opts.ID, r.key, holder, holderRev, left, ErrDuplicateID)
}

// revokeQuiet gives back a lease we will not use; if etcd does not answer,
// the lease expires by itself with nothing under it.
func (r *Registry) revokeQuiet(lease clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CallTimeout)
	defer cancel()
	if _, err := r.cli.Revoke(ctx, lease); err != nil && !isLeaseNotFound(err) {
		r.log.Debug().Err(err).Int64("lease", int64(lease)).Msg("revoking an unused lease failed; it will expire")
	}
}

func isLeaseNotFound(err error) bool {
	return errors.Is(err, rpctypes.ErrLeaseNotFound)
}
