package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
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

	cur       atomic.Pointer[Set]
	mu        sync.Mutex
	status    ViewStatus
	statusC   chan struct{} // closed at the next status change
	ready     chan struct{}
	readyOnce sync.Once

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	interrupt chan struct{} // breaks the current watch (tests)
	hooks     viewHooks
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
		ready:     make(chan struct{}),
		statusC:   make(chan struct{}),
		interrupt: make(chan struct{}),
		hooks:     hooks,
	}
	v.cur.Store(newSet(0, nil))
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.wg.Add(2)
	go v.run()
	go v.probe()
	return v, nil
}

// Current returns the current Set. It never blocks.
func (v *View) Current() *Set { return v.cur.Load() }

// Ready is closed once the first list is in.
func (v *View) Ready() <-chan struct{} { return v.ready }

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
func (v *View) Close() {
	v.cancel()
	v.wg.Wait()
}

func (v *View) run() {
	defer v.wg.Done()
	backoff := minBackoff
	var rev int64 // 0: list first
	for v.ctx.Err() == nil {
		if rev == 0 {
			r, err := v.list()
			if err != nil {
				v.log.Warn().Err(err).Msg("listing invokers failed; retrying")
				if !v.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			rev = r
		}
		next, progressed := v.watch(rev)
		if progressed {
			backoff = minBackoff
		}
		if next != 0 && v.ctx.Err() == nil {
			v.update(func(s *ViewStatus) { s.Resumes++ })
			// A watch that fails at once (no leader) must not spin.
			if !progressed {
				if !v.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
			}
		}
		rev = next
	}
}

// list reads every invoker and publishes them as a new Set; it returns
// the revision to watch from.
func (v *View) list() (int64, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(v.ctx, v.opts.CallTimeout)
	defer cancel()
	resp, err := v.cli.Get(ctx, v.prefix, clientv3.WithPrefix())
	v.reach(start, err)
	v.update(func(s *ViewStatus) { s.Lists++ })
	if err != nil {
		return 0, fmt.Errorf("cluster: listing %q: %w", v.prefix, err)
	}
	m := make(map[string]Entry, len(resp.Kvs))
	for _, kv := range resp.Kvs {
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
	v.publish(newSet(resp.Header.Revision, m))
	v.update(func(s *ViewStatus) { s.Listed = true })
	v.readyOnce.Do(func() { close(v.ready) })
	return resp.Header.Revision, nil
}

// watch follows changes after rev. It returns the revision to resume from
// (0 to list again) and whether anything arrived.
func (v *View) watch(rev int64) (next int64, progressed bool) {
	if v.hooks.beforeWatch != nil {
		v.hooks.beforeWatch(rev)
	}
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(v.ctx))
	defer cancel()
	wch := v.cli.Watch(ctx, v.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for {
		select {
		case <-v.ctx.Done():
			return rev, progressed
		case <-v.interrupt:
			return rev, progressed
		case resp, ok := <-wch:
			switch {
			case !ok:
				return rev, progressed
			case resp.CompactRevision != 0:
				v.log.Info().Int64("revision", rev).Int64("compacted", resp.CompactRevision).Msg("watch revision compacted: listing again")
				v.update(func(s *ViewStatus) { s.Compacted++ })
				return 0, progressed
			case resp.Err() != nil:
				v.reach(time.Now(), resp.Err())
				v.log.Warn().Err(resp.Err()).Int64("revision", rev).Msg("watch broken: resuming from the last revision seen")
				return rev, progressed
			case resp.IsProgressNotify():
				rev = max(rev, resp.Header.Revision)
			case len(resp.Events) > 0:
				// Resume after the last event, not the header: the
				// header may be ahead of events still to come.
				rev = v.apply(resp.Events)
				progressed = true
				v.reach(time.Now(), nil)
			}
		}
	}
}

func (v *View) apply(events []*clientv3.Event) int64 {
	cur := v.cur.Load()
	m := cur.entryMap()
	rev := cur.revision
	for _, ev := range events {
		rev = max(rev, ev.Kv.ModRevision)
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
	return rev
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
	defer v.wg.Done()
	t := time.NewTicker(v.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-v.ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(v.ctx, v.opts.CallTimeout)
		_, err := v.cli.Get(ctx, v.prefix, clientv3.WithCountOnly())
		cancel()
		if v.ctx.Err() != nil {
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

// sleep waits d or until Close; false when closed.
func (v *View) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-v.ctx.Done():
		return false
	case <-t.C:
		return true
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
