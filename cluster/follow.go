package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// follower keeps its owner (the View, the Actions mirror) up to date with
// every key under one etcd prefix: it lists the prefix at a revision,
// watches from the next one, resumes a broken watch after the last
// revision seen, and lists again when that revision was compacted. What
// the keys mean stays with the owner, behind followConfig's callbacks.
type follower struct {
	cli *clientv3.Client
	cfg followConfig

	// ctx ends at close; owners bound their own etcd calls by it too.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	ready     chan struct{}
	readyOnce sync.Once
}

// followConfig is what a follower follows and whom it tells.
type followConfig struct {
	// prefix is the key prefix followed.
	prefix string
	// what names the keys in log lines ("invokers", "actions").
	what string
	// callTimeout bounds each list.
	callTimeout time.Duration
	// log receives the loop's events, with the owner's fields.
	log zerolog.Logger

	// applyList installs a full list of the prefix, taken at revision rev.
	applyList func(rev int64, kvs []*mvccpb.KeyValue)
	// applyEvents applies one watch response's events; rev is the
	// revision the owner's state is at once they are applied.
	applyEvents func(rev int64, events []*clientv3.Event)
	// counted adds to the owner's counters of lists, resumed watches and
	// compacted ones.
	counted func(followCounts)
	// reached, when set, is told of each etcd call that answered (err
	// nil) or failed, and when it started.
	reached func(start time.Time, err error)

	// beforeWatch, when set, runs before each watch starts from rev+1
	// (tests hold the loop there).
	beforeWatch func(rev int64)
	// interrupt breaks the current watch, which resumes from the last
	// revision seen (tests).
	interrupt <-chan struct{}
}

// followCounts are increments of the counters that ViewStatus and
// ActionsStatus share: Lists counts full lists (successful or not),
// Resumes watches restarted from the last revision seen without listing,
// Compacted watches refused because their revision was compacted.
type followCounts struct{ lists, resumes, compacted int }

// addTo adds c to an owner's counters.
func (c followCounts) addTo(lists, resumes, compacted *int) {
	*lists += c.lists
	*resumes += c.resumes
	*compacted += c.compacted
}

// newFollower prepares a follower; start runs it. The owner builds it
// before starting so that the callbacks may use the owner's fields.
func newFollower(cli *clientv3.Client, cfg followConfig) *follower {
	f := &follower{cli: cli, cfg: cfg, ready: make(chan struct{})}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	return f
}

// start runs the follow loop and each of also (the owner's other
// goroutines, which must return once ctx is done) until close.
func (f *follower) start(also ...func()) {
	f.wg.Add(1 + len(also))
	go func() {
		defer f.wg.Done()
		f.run()
	}()
	for _, g := range also {
		go func() {
			defer f.wg.Done()
			g()
		}()
	}
}

// close stops the loop and the owner's goroutines and waits for them.
func (f *follower) close() {
	f.cancel()
	f.wg.Wait()
}

func (f *follower) run() {
	backoff := minBackoff
	var rev int64 // 0: list first
	for f.ctx.Err() == nil {
		if rev == 0 {
			r, err := f.list()
			if err != nil {
				f.cfg.log.Warn().Err(err).Msg("listing " + f.cfg.what + " failed; retrying")
				if !f.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			rev = r
		}
		next, progressed := f.watch(rev)
		if progressed {
			backoff = minBackoff
		}
		if next != 0 && f.ctx.Err() == nil {
			f.cfg.counted(followCounts{resumes: 1})
			// A watch that fails at once (no leader) must not spin.
			if !progressed {
				if !f.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
			}
		}
		rev = next
	}
}

// list hands the whole prefix to the owner and returns the revision to
// watch from.
func (f *follower) list() (int64, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(f.ctx, f.cfg.callTimeout)
	defer cancel()
	resp, err := f.cli.Get(ctx, f.cfg.prefix, clientv3.WithPrefix())
	f.reach(start, err)
	f.cfg.counted(followCounts{lists: 1})
	if err != nil {
		return 0, fmt.Errorf("cluster: listing %q: %w", f.cfg.prefix, err)
	}
	f.cfg.applyList(resp.Header.Revision, resp.Kvs)
	f.readyOnce.Do(func() { close(f.ready) })
	return resp.Header.Revision, nil
}

// watch hands the changes after rev to the owner. It returns the revision
// to resume from (0 to list again) and whether anything arrived.
func (f *follower) watch(rev int64) (next int64, progressed bool) {
	if f.cfg.beforeWatch != nil {
		f.cfg.beforeWatch(rev)
	}
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(f.ctx))
	defer cancel()
	wch := f.cli.Watch(ctx, f.cfg.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for {
		select {
		case <-f.ctx.Done():
			return rev, progressed
		case <-f.cfg.interrupt:
			return rev, progressed
		case resp, ok := <-wch:
			switch {
			case !ok:
				return rev, progressed
			case resp.CompactRevision != 0:
				f.cfg.log.Info().Int64("revision", rev).Int64("compacted", resp.CompactRevision).Msg("watch revision compacted: listing " + f.cfg.what + " again")
				f.cfg.counted(followCounts{compacted: 1})
				return 0, progressed
			case resp.Err() != nil:
				f.reach(time.Now(), resp.Err())
				f.cfg.log.Warn().Err(resp.Err()).Int64("revision", rev).Msg("watch broken: resuming from the last revision seen")
				return rev, progressed
			case resp.IsProgressNotify():
				rev = max(rev, resp.Header.Revision)
			case len(resp.Events) > 0:
				// Resume after the last event, not the header: the
				// header may be ahead of events still to come.
				for _, ev := range resp.Events {
					rev = max(rev, ev.Kv.ModRevision)
				}
				f.cfg.applyEvents(rev, resp.Events)
				progressed = true
				f.reach(time.Now(), nil)
			}
		}
	}
}

func (f *follower) reach(start time.Time, err error) {
	if f.cfg.reached != nil {
		f.cfg.reached(start, err)
	}
}

// sleep waits d or until close; false when closed.
func (f *follower) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-f.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
