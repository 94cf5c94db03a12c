package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultProbeInterval is how often the view checks that etcd answers. A
// watch on a dead connection just goes quiet, so without a probe a front
// could not tell "nothing changed" from "etcd is gone".
const DefaultProbeInterval = time.Second

// ViewOptions configure a View.
type ViewOptions struct {
	// Cluster names the cluster whose invokers the view follows.
	Cluster string
	// CallTimeout bounds each list and probe (DefaultCallTimeout when 0).
	CallTimeout time.Duration
	// ProbeInterval is the period of the reachability probe
	// (DefaultProbeInterval when 0).
	ProbeInterval time.Duration
	// Logger receives the view's events (component=cluster-view).
	Logger zerolog.Logger
}

// ViewStatus is how the view keeps up with etcd, for a front's /readyz.
type ViewStatus struct {
	// Listed: a first list succeeded; before it the Set is empty.
	Listed bool
	// Revision of the current Set.
	Revision int64
	// UnreachableSince is when the first of the current run of failed
	// etcd calls started; zero while etcd answers. The Set stays the last
	// one seen meanwhile.
	UnreachableSince time.Time
	// Err is the last failure; nil once etcd answers again.
	Err error
	// Lists counts full lists (the first, then one after each compaction
	// past the view's revision or failed list); Resumes counts watches
	// restarted from the last revision seen, without listing; Compacted
	// counts watches refused because their revision was compacted.
	Lists, Resumes, Compacted int
}

// View follows the invokers registered in a cluster: it lists them, then
// watches from the list's revision, and keeps the current state as an
// immutable Set. It never blocks its readers on etcd.
type View struct {
	cli    *clientv3.Client
	opts   ViewOptions
	prefix string
	log    zerolog.Logger
	follow *follower // lists and watches prefix into cur

	cur     atomic.Pointer[Set]
	mu      sync.Mutex
	status  ViewStatus
	statusC chan struct{} // closed at the next status change

	interrupt chan struct{} // breaks the current watch (tests)
}

// viewHooks let tests act at points of the watch loop.
type viewHooks struct {
	// beforeWatch runs before each watch starts from rev+1.
	beforeWatch func(rev int64)
}

// NewView starts following the invokers of opts.Cluster. The Set is empty
// until the first list: wait on Ready when that matters. Close stops it;
// cli stays the caller's.
func NewView(cli *clientv3.Client, opts ViewOptions) (*View, error) {
	return newView(cli, opts, viewHooks{})
}

func newView(cli *clientv3.Client, opts ViewOptions, hooks viewHooks) (*View, error) {
	if err := checkName("cluster", opts.Cluster); err != nil {
		return nil, err
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.ProbeInterval == 0 {
		opts.ProbeInterval = DefaultProbeInterval
	}
	if opts.CallTimeout < 0 || opts.ProbeInterval < 0 {
		return nil, fmt.Errorf("%w: call-timeout %v, probe-interval %v: must be > 0", ErrInvalid, opts.CallTimeout, opts.ProbeInterval)
	}
	v := &View{
		cli: cli, opts: opts, prefix: InvokersPrefix(opts.Cluster),
		log:       opts.Logger.With().Str("component", "cluster-view").Str("cluster", opts.Cluster).Logger(),
		statusC:   make(chan struct{}),
		interrupt: make(chan struct{}),
	}
	v.cur.Store(newSet(0, nil))
	v.follow = newFollower(cli, followConfig{
		prefix: v.prefix, what: "invokers", callTimeout: opts.CallTimeout, log: v.log,
		applyList:   v.applyList,
		applyEvents: v.applyEvents,
		counted: func(c followCounts) {
			v.update(func(s *ViewStatus) { c.addTo(&s.Lists, &s.Resumes, &s.Compacted) })
		},
		reached:     v.reach,
		beforeWatch: hooks.beforeWatch,
		interrupt:   v.interrupt,
	})
	v.follow.start(v.probe)
	return v, nil
}

// Current returns the current Set. It never blocks.
func (v *View) Current() *Set { return v.cur.Load() }

// Ready is closed once the first list is in.
func (v *View) Ready() <-chan struct{} { return v.follow.ready }

// Status returns how the view keeps up with etcd.
func (v *View) Status() ViewStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := v.status
	st.Revision = v.cur.Load().revision
	return st
}

// StatusChanged is closed at the next change of Status; call it again
// for the one after.
func (v *View) StatusChanged() <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.statusC
}

// Close stops the view's goroutines.
func (v *View) Close() { v.follow.close() }

// applyList publishes a full list of the invokers, taken at rev, as a
// new Set.
func (v *View) applyList(rev int64, kvs []*mvccpb.KeyValue) {
	m := make(map[string]Entry, len(kvs))
	for _, kv := range kvs {
		id, ok := v.idOf(kv.Key)
		if !ok {
			continue
		}
		e, err := decodeEntry(id, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Lease)
		if err != nil {
			v.log.Warn().Err(err).Msg("skipping a malformed invoker record")
			continue
		}
		m[id] = e
	}
	v.publish(newSet(rev, m))
	v.update(func(s *ViewStatus) { s.Listed = true })
}

// applyEvents publishes the current Set changed by events, as of rev.
func (v *View) applyEvents(rev int64, events []*clientv3.Event) {
	m := v.cur.Load().entryMap()
	for _, ev := range events {
		id, ok := v.idOf(ev.Kv.Key)
		if !ok {
			continue
		}
		if ev.Type == clientv3.EventTypeDelete {
			delete(m, id)
			continue
		}
		e, err := decodeEntry(id, ev.Kv.Value, ev.Kv.CreateRevision, ev.Kv.ModRevision, ev.Kv.Lease)
		if err != nil {
			v.log.Warn().Err(err).Msg("dropping a malformed invoker record")
			delete(m, id)
			continue
		}
		m[id] = e
	}
	v.publish(newSet(rev, m))
}

func (v *View) publish(s *Set) {
	old := v.cur.Swap(s)
	close(old.changed)
}

func (v *View) idOf(key []byte) (string, bool) {
	id, ok := strings.CutPrefix(string(key), v.prefix)
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// probe checks that etcd answers a linearizable read (which needs a
// quorum), so UnreachableSince is set while the watch is merely quiet.
func (v *View) probe() {
	t := time.NewTicker(v.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-v.follow.ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(v.follow.ctx, v.opts.CallTimeout)
		_, err := v.cli.Get(ctx, v.prefix, clientv3.WithCountOnly())
		cancel()
		if v.follow.ctx.Err() != nil {
			return
		}
		v.reach(start, err)
	}
}

// reach records the outcome of an etcd call that started at start.
func (v *View) reach(start time.Time, err error) {
	v.update(func(s *ViewStatus) {
		if err == nil {
			if !s.UnreachableSince.IsZero() {
				v.log.Info().Time("since", s.UnreachableSince).Msg("etcd answers again")
			}
			s.UnreachableSince, s.Err = time.Time{}, nil
			return
		}
		if s.UnreachableSince.IsZero() {
			v.log.Warn().Err(err).Msg("etcd unreachable: keeping the last view")
			s.UnreachableSince = start
		}
		s.Err = err
	})
}

func (v *View) update(f func(*ViewStatus)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	before := v.status
	f(&v.status)
	if statusChanged(before, v.status) {
		close(v.statusC)
		v.statusC = make(chan struct{})
	}
}

// statusChanged compares two statuses without comparing the errors' values
// (an error's dynamic type need not be comparable): only whether there is
// one.
func statusChanged(a, b ViewStatus) bool {
	aErr, bErr := a.Err != nil, b.Err != nil
	a.Err, b.Err = nil, nil
	return a != b || aErr != bErr
}
