package cluster

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// putInvoker writes an invoker record as a registry would (without lease)
// and returns the revision of the write.
func putInvoker(t *testing.T, cli *clientv3.Client, cluster, id string, free config.ByteSize) int64 {
	t.Helper()
	val := encodeRecord(id, "", false, Snapshot{UserMemory: 4 * config.GB, Free: free})
	resp, err := cli.Put(testCtx(t, 5*time.Second), InvokerKey(cluster, id), val)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

func deleteInvoker(t *testing.T, cli *clientv3.Client, cluster, id string) int64 {
	t.Helper()
	resp, err := cli.Delete(testCtx(t, 5*time.Second), InvokerKey(cluster, id))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// hold stops the view's watch loop before its next watch starts, until
// released: the view falls behind while the test writes.
type hold struct {
	entered chan int64 // the revision the watch will start after
	release chan struct{}
}

// heldView is a view whose watch loop the test can hold (holds) and which
// reports each watch it starts (starts, after the hold check, so a hold
// sent after a start is taken by the next watch).
type heldView struct {
	*View
	holds  chan hold
	starts chan int64
}

func startHeldView(t *testing.T, endpoint, cluster string) *heldView {
	t.Helper()
	hv := &heldView{holds: make(chan hold, 1), starts: make(chan int64, 64)}
	v, err := newView(newClient(t, endpoint), ViewOptions{Cluster: cluster}, viewHooks{
		beforeWatch: func(rev int64) {
			select {
			case h := <-hv.holds:
				h.entered <- rev
				<-h.release
			default:
			}
			select {
			case hv.starts <- rev:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	hv.View = v
	return hv
}

// breakAndHold waits for the view's watch to have started, breaks it and
// holds the next one; it returns the revision the view will resume from
// and the release (also called when the test ends, so Close never waits
// on a held loop).
func (hv *heldView) breakAndHold(t *testing.T) (int64, func()) {
	t.Helper()
	select {
	case <-hv.starts:
	case <-time.After(5 * time.Second):
		t.Fatal("view started no watch")
	}
	h := hold{entered: make(chan int64, 1), release: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(h.release) }) }
	t.Cleanup(release)
	hv.holds <- h
	select {
	case hv.interrupt <- struct{}{}:
	case <-time.After(5 * time.Second):
		t.Fatal("watch loop did not take the interrupt")
	}
	select {
	case rev := <-h.entered:
		return rev, release
	case <-time.After(5 * time.Second):
		t.Fatal("watch loop did not restart its watch")
		return 0, nil
	}
}

func wantFree(t *testing.T, s *Set, want map[string]config.ByteSize) {
	t.Helper()
	if s.Len() != len(want) {
		t.Fatalf("view has %v, want %v", s.Entries(), want)
	}
	for id, free := range want {
		if e, ok := s.Get(id); !ok || e.Snapshot.Free != free {
			t.Fatalf("view entry %q = %+v (present %v), want free %v", id, e, ok, free)
		}
	}
}

func matches(want map[string]config.ByteSize) func(*Set) bool {
	return func(s *Set) bool {
		if s.Len() != len(want) {
			return false
		}
		for id, free := range want {
			if e, ok := s.Get(id); !ok || e.Snapshot.Free != free {
				return false
			}
		}
		return true
	}
}

func TestViewListsThenWatches(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	putInvoker(t, cli, "c1", "a", 1*config.GB)
	putInvoker(t, cli, "c2", "other-cluster", 1*config.GB)
	rev := putInvoker(t, cli, "c1", "b", 2*config.GB)
	if _, err := cli.Put(testCtx(t, 5*time.Second), InvokersPrefix("c1")+"x/nested", "{}"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(testCtx(t, 5*time.Second), InvokersPrefix("c1")+"broken", "not json"); err != nil {
		t.Fatal(err)
	}
	v := startView(t, srv.endpoint, "c1")
	select {
	case <-v.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("view not ready")
	}
	s := v.Current()
	wantFree(t, s, map[string]config.ByteSize{"a": 1 * config.GB, "b": 2 * config.GB})
	if s.Revision() < rev {
		t.Fatalf("set revision %d, want >= %d", s.Revision(), rev)
	}

	putInvoker(t, cli, "c1", "c", 3*config.GB)
	putInvoker(t, cli, "c1", "a", 512*config.MB)
	last := deleteInvoker(t, cli, "c1", "b")
	s = waitSet(t, v, 5*time.Second, "changes watched", matches(map[string]config.ByteSize{"a": 512 * config.MB, "c": 3 * config.GB}))
	if s.Revision() != last {
		t.Fatalf("set revision %d, want %d (the last write)", s.Revision(), last)
	}
	a, _ := s.Get("a")
	inv := s.Invokers()
	if len(inv) != 2 || inv[0].ID != "a" || !reflect.DeepEqual(inv[0], a.Invoker()) || inv[0].Free != 512*config.MB || inv[0].UserMemory != 4*config.GB {
		t.Fatalf("Invokers() = %+v, want a then c, a as %+v", inv, a.Invoker())
	}
	if st := v.Status(); st.Lists != 1 || st.Resumes != 0 || st.Compacted != 0 || !st.Listed || !st.UnreachableSince.IsZero() {
		t.Fatalf("status %+v, want one list and nothing else", st)
	}
}

func TestViewResumesFromLastRevision(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	putInvoker(t, cli, "c1", "a", 1*config.GB)
	putInvoker(t, cli, "c1", "b", 2*config.GB)
	v := startHeldView(t, srv.endpoint, "c1")
	s := waitSet(t, v.View, 5*time.Second, "first list", matches(map[string]config.ByteSize{"a": 1 * config.GB, "b": 2 * config.GB}))

	from, release := v.breakAndHold(t)
	if from != s.Revision() {
		t.Fatalf("resuming after revision %d, want %d (the last seen)", from, s.Revision())
	}
	putInvoker(t, cli, "c1", "c", 3*config.GB)
	putInvoker(t, cli, "c1", "a", 100*config.MB)
	deleteInvoker(t, cli, "c1", "b")
	release()
	waitSet(t, v.View, 5*time.Second, "changes made while the watch was broken", matches(map[string]config.ByteSize{"a": 100 * config.MB, "c": 3 * config.GB}))
	if st := v.Status(); st.Lists != 1 || st.Resumes != 1 || st.Compacted != 0 {
		t.Fatalf("status %+v, want 1 list and 1 resume", st)
	}
}

func TestViewRelistsAfterCompaction(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	putInvoker(t, cli, "c1", "a", 1*config.GB)
	putInvoker(t, cli, "c1", "b", 2*config.GB)
	v := startHeldView(t, srv.endpoint, "c1")
	waitSet(t, v.View, 5*time.Second, "first list", matches(map[string]config.ByteSize{"a": 1 * config.GB, "b": 2 * config.GB}))

	from, release := v.breakAndHold(t)
	putInvoker(t, cli, "c1", "c", 3*config.GB)
	putInvoker(t, cli, "c1", "a", 100*config.MB)
	last := deleteInvoker(t, cli, "c1", "b")
	if _, err := cli.Compact(testCtx(t, 5*time.Second), last, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	t.Logf("view behind at revision %d, store compacted at %d", from, last)
	release()
	s := waitSet(t, v.View, 5*time.Second, "state after the relist", matches(map[string]config.ByteSize{"a": 100 * config.MB, "c": 3 * config.GB}))
	if st := v.Status(); st.Lists != 2 || st.Compacted != 1 || s.Revision() < last {
		t.Fatalf("status %+v at revision %d, want 2 lists and 1 compaction, revision >= %d", st, s.Revision(), last)
	}
	// And it watches again after the relist.
	putInvoker(t, cli, "c1", "d", 4*config.GB)
	waitSet(t, v.View, 5*time.Second, "watch after the relist", matches(map[string]config.ByteSize{"a": 100 * config.MB, "c": 3 * config.GB, "d": 4 * config.GB}))
}

// TestViewReportsUnreachable cuts the view's connection to etcd: the view
// keeps its last Set, reports since when etcd is unreachable, and catches
// up with what changed once the connection is back.
func TestViewReportsUnreachable(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	putInvoker(t, cli, "c1", "a", 1*config.GB)
	px := startProxy(t, srv.endpoint)
	v, err := NewView(newClient(t, px.endpoint), ViewOptions{Cluster: "c1", ProbeInterval: 100 * time.Millisecond, CallTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	waitSet(t, v, 5*time.Second, "first list", matches(map[string]config.ByteSize{"a": 1 * config.GB}))

	cut := time.Now()
	px.PauseTx()
	px.PauseRx()
	st := waitViewStatus(t, v, 5*time.Second, "unreachable reported", func(s ViewStatus) bool { return !s.UnreachableSince.IsZero() })
	t.Logf("unreachable reported %v after the cut (since %v after it): %v", time.Since(cut), st.UnreachableSince.Sub(cut), st.Err)
	wantFree(t, v.Current(), map[string]config.ByteSize{"a": 1 * config.GB})
	putInvoker(t, cli, "c1", "b", 2*config.GB)

	px.UnpauseTx()
	px.UnpauseRx()
	waitSet(t, v, 10*time.Second, "change made during the cut", matches(map[string]config.ByteSize{"a": 1 * config.GB, "b": 2 * config.GB}))
	waitViewStatus(t, v, 5*time.Second, "reachable again", func(s ViewStatus) bool { return s.UnreachableSince.IsZero() })
}

func waitViewStatus(t *testing.T, v *View, d time.Duration, what string, cond func(ViewStatus) bool) ViewStatus {
	t.Helper()
	timeout := time.After(d)
	for {
		changed := v.StatusChanged()
		if st := v.Status(); cond(st) {
			return st
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%s: not within %v; status %+v", what, d, v.Status())
		}
	}
}
