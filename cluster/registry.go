package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrDuplicateID is wrapped by Register's error when another live process
// holds the invoker id.
var ErrDuplicateID = errors.New("invoker id already registered")

// Backoff between registration attempts while etcd does not answer: short,
// so an invoker is back in the view soon after etcd is.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = time.Second
)

// Registry keeps one invoker registered in etcd and publishes its
// snapshots. Its methods never call etcd: a background goroutine does, so
// Publish is safe on any hot path.
type Registry struct {
	cli  *clientv3.Client
	opts Options
	key  string
	log  zerolog.Logger

	mu       sync.Mutex
	want     Snapshot
	draining bool
	status   Status
	statusC  chan Status

	wake      chan struct{}
	drained   chan struct{} // closed once draining is written
	drainOnce sync.Once

	ctx       context.Context // the registry's life; canceled by Close
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error

	// Owned by the goroutine that runs the registry (Register's until the
	// loop starts).
	lease       clientv3.LeaseID
	incarnation int64
	kaCancel    context.CancelFunc
	kaC         <-chan *clientv3.LeaseKeepAliveResponse
	lastRenew   time.Time
	pubSnap     Snapshot
	pubDraining bool
	nextPut     time.Time
	retryAt     time.Time
	backoff     time.Duration
	// stale holds our earlier leases: a key found under one of them is a
	// registration of ours that outlived our belief in it (the client
	// gave the lease up, the server had not), not another process.
	stale []clientv3.LeaseID
}

// Register registers invoker opts.ID in the cluster and keeps it
// registered until Close. It returns once the key is written, retrying
// while etcd does not answer until ctx ends; it fails at once, wrapping
// ErrDuplicateID, when another live process holds the id. cli stays the
// caller's: Close the registry before the client.
func Register(ctx context.Context, cli *clientv3.Client, opts Options) (*Registry, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Registry{
		cli: cli, opts: opts, key: InvokerKey(opts.Cluster, opts.ID),
		log:     opts.Logger.With().Str("component", "cluster-registry").Str("invoker", opts.ID).Logger(),
		want:    opts.Initial,
		statusC: make(chan Status, 1),
		wake:    make(chan struct{}, 1),
		drained: make(chan struct{}),
		done:    make(chan struct{}),
		backoff: minBackoff,
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for {
		err := r.register(ctx, time.Now())
		if err == nil {
			break
		}
		if errors.Is(err, ErrDuplicateID) || errors.Is(err, ErrInvalid) {
			r.cancel()
			return nil, err
		}
		select {
		case <-ctx.Done():
			r.cancel()
			return nil, fmt.Errorf("cluster: registering invoker %q at %q: %w (last error: %w)", opts.ID, r.key, ctx.Err(), err)
		case <-time.After(r.nextBackoff()):
		}
	}
	go r.run()
	return r, nil
}

// Publish hands the registry the pool's latest snapshot. It never blocks
// and never calls etcd: the registry writes the latest one it holds when
// it differs from the last written, at most once per SyncInterval.
func (r *Registry) Publish(s Snapshot) {
	r.mu.Lock()
	r.want = s
	r.mu.Unlock()
	r.poke()
}

// Drain marks the invoker draining: fronts stop sending it work. The mark
// is written at once, whatever the SyncInterval; Drain waits until it is
// (or ctx ends; the mark stays and is written when etcd answers).
func (r *Registry) Drain(ctx context.Context) error {
	r.mu.Lock()
	r.draining = true
	r.mu.Unlock()
	r.poke()
	select {
	case <-r.drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: invoker %q: draining mark not yet written to %q (it will be when etcd answers): %w", r.opts.ID, r.key, ctx.Err())
	}
}

// Key is the etcd key the invoker registers at.
func (r *Registry) Key() string { return r.key }

// Close stops the registry and revokes its lease, so the invoker leaves
// the views at once rather than after the TTL. The error is the revoke's
// (the lease then expires by itself).
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		r.cancel()
		<-r.done
	})
	return r.closeErr
}

func (r *Registry) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Registry) wanted() (Snapshot, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.want, r.draining
}

func (r *Registry) nextBackoff() time.Duration {
	d := r.backoff
	r.backoff = min(2*r.backoff, maxBackoff)
	return d
}

func (r *Registry) run() {
	defer close(r.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		r.step(now)
		timer.Reset(r.nextWake(time.Now()))
		select {
		case <-r.ctx.Done():
			r.shutdown()
			return
		case <-r.wake:
		case <-timer.C:
		case resp, ok := <-r.kaC:
			switch {
			case !ok:
				r.lose(time.Now(), errors.New("keep-alive stopped: no renewal within the TTL, or the lease was revoked"))
			case resp.TTL > 0:
				r.renewed(time.Now())
			}
		}
	}
}

// step does what is due at now: register when not registered, fence when
// renewals stopped, write the snapshot when it changed.
func (r *Registry) step(now time.Time) {
	if r.lease == 0 {
		if now.Before(r.retryAt) {
			return
		}
		if err := r.register(r.ctx, now); err != nil {
			if r.ctx.Err() != nil {
				return
			}
			r.log.Warn().Err(err).Msg("re-registration failed; retrying")
			r.setStatus(func(s *Status) { s.Err = err })
			wait := r.nextBackoff()
			if errors.Is(err, ErrDuplicateID) {
				// Another process holds the id: its lease ends at the
				// earliest when it stops renewing; no need to ask often.
				wait = max(wait, r.opts.TTL/3)
			}
			r.retryAt = now.Add(wait)
		}
		return
	}
	if lostAt := r.lastRenew.Add(r.opts.TTL); !now.Before(lostAt) {
		// By now etcd has expired the lease unless it lacks a quorum (and
		// then re-registration revokes it as ours). The client would close
		// the keep-alive channel about now too, but only by its own
		// bookkeeping: do not depend on it.
		r.lose(now, fmt.Errorf("no lease renewal acknowledged since %v, a full TTL (%v)", r.lastRenew.Format(time.RFC3339Nano), r.opts.TTL))
		return
	}
	if fenceAt := r.lastRenew.Add(r.opts.TTL / 2); !now.Before(fenceAt) && !r.stored().Fenced {
		r.log.Warn().Time("last_renewal", r.lastRenew).Msg("no lease renewal for half the TTL: fenced until one succeeds")
		r.setStatus(func(s *Status) { s.Fenced, s.FencedSince = true, fenceAt })
	}
	snap, draining := r.wanted()
	if snap.Equal(r.pubSnap) && draining == r.pubDraining {
		return
	}
	if draining != r.pubDraining || !now.Before(r.nextPut) {
		r.put(now, snap, draining)
	}
}

// nextWake is how long the loop may sleep when nothing arrives.
func (r *Registry) nextWake(now time.Time) time.Duration {
	if r.lease == 0 {
		return max(r.retryAt.Sub(now), 0)
	}
	next := r.lastRenew.Add(r.opts.TTL)
	if !r.stored().Fenced {
		next = r.lastRenew.Add(r.opts.TTL / 2)
	}
	if snap, draining := r.wanted(); !snap.Equal(r.pubSnap) || draining != r.pubDraining {
		if r.nextPut.Before(next) {
			next = r.nextPut
		}
	}
	return max(next.Sub(now), 0)
}

func (r *Registry) renewed(now time.Time) {
	r.lastRenew = now
	if st := r.stored(); st.Fenced && st.Registered {
		r.log.Info().Msg("lease renewed: no longer fenced")
	}
	r.setStatus(func(s *Status) {
		s.LastRenewal = now
		if s.Registered {
			s.Fenced, s.FencedSince = false, time.Time{}
		}
	})
}

// put writes the snapshot, only while the key is still the one this
// registration created: a key re-created by another process after our
// lease expired is not overwritten.
func (r *Registry) put(now time.Time, snap Snapshot, draining bool) {
	r.nextPut = now.Add(r.opts.SyncInterval)
	val := encodeRecord(r.opts.ID, r.opts.Address, draining, snap)
	// A write stuck on a dead connection must not hold back the fencing,
	// which this goroutine also does: end it when the fence is due.
	deadline := now.Add(r.opts.CallTimeout)
	for _, due := range []time.Time{r.lastRenew.Add(r.opts.TTL / 2), r.lastRenew.Add(r.opts.TTL)} {
		if due.After(now) && due.Before(deadline) {
			deadline = due
		}
	}
	ctx, cancel := context.WithDeadline(r.ctx, deadline)
	defer cancel()
	resp, err := r.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(r.key), "=", r.incarnation)).
		Then(clientv3.OpPut(r.key, val, clientv3.WithLease(r.lease))).
		Commit()
	switch {
	case err != nil && isLeaseNotFound(err):
		r.lose(now, fmt.Errorf("publishing to %q: lease %x not found: %w", r.key, int64(r.lease), err))
	case err != nil:
		if r.ctx.Err() == nil {
			r.log.Warn().Err(err).Msg("publishing the snapshot failed; retrying")
			r.setStatus(func(s *Status) { s.Err = fmt.Errorf("publishing to %q: %w", r.key, err) })
		}
	case !resp.Succeeded:
		r.lose(now, fmt.Errorf("publishing to %q: the key is no longer the one created at revision %d", r.key, r.incarnation))
	default:
		r.pubSnap, r.pubDraining = snap, draining
		r.setStatus(func(s *Status) { s.Published++; s.Err = nil })
		if draining {
			r.drainOnce.Do(func() { close(r.drained) })
		}
	}
}

// lose gives the lease up: fenced until registered again, which is tried
// at once.
func (r *Registry) lose(now time.Time, why error) {
	r.log.Warn().Err(why).Int64("lease", int64(r.lease)).Int64("incarnation", r.incarnation).Msg("lease lost: fenced, registering anew")
	if r.kaCancel != nil {
		r.kaCancel()
		r.kaCancel, r.kaC = nil, nil
	}
	r.stale = append(r.stale, r.lease)
	if len(r.stale) > 8 {
		r.stale = r.stale[1:]
	}
	r.lease = 0
	r.retryAt = now
	r.backoff = minBackoff
	r.setStatus(func(s *Status) {
		if !s.Fenced {
			s.Fenced, s.FencedSince = true, now
		}
		s.Registered = false
		s.LeaseLosses++
		s.Err = why
	})
}

// shutdown revokes the lease so the key goes at once.
func (r *Registry) shutdown() {
	if r.kaCancel != nil {
		r.kaCancel()
	}
	if r.lease == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CallTimeout)
	defer cancel()
	if _, err := r.cli.Revoke(ctx, r.lease); err != nil && !isLeaseNotFound(err) {
		r.closeErr = fmt.Errorf("cluster: invoker %q: revoking lease %x of %q (it expires by itself within %v): %w", r.opts.ID, int64(r.lease), r.key, r.opts.TTL, err)
	}
	r.setStatus(func(s *Status) { s.Registered = false })
}
