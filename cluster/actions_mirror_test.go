package cluster

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stemcell-io/stemcell/store"
)

// heldActions is an Actions whose watch loop the test can stop before its
// next watch starts (hold), so its mirror falls behind.
type heldActions struct {
	*Actions
	holds  chan hold
	starts chan int64
}

func startHeldActions(t *testing.T, endpoint, cluster string) *heldActions {
	t.Helper()
	h := &heldActions{holds: make(chan hold, 1), starts: make(chan int64, 64)}
	a, err := newActions(newClient(t, endpoint), ActionsOptions{Cluster: cluster}, actionsHooks{
		beforeWatch: func(rev int64) {
			select {
			case hd := <-h.holds:
				hd.entered <- rev
				<-hd.release
			default:
			}
			select {
			case h.starts <- rev:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	h.Actions = a
	return h
}

// breakAndHold breaks the current watch and holds the next one until
// release (also called at the end of the test).
func (h *heldActions) breakAndHold(t *testing.T) (int64, func()) {
	t.Helper()
	select {
	case <-h.starts:
	case <-time.After(5 * time.Second):
		t.Fatal("mirror started no watch")
	}
	hd := hold{entered: make(chan int64, 1), release: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(hd.release) }) }
	t.Cleanup(release)
	h.holds <- hd
	select {
	case h.interrupt <- struct{}{}:
	case <-time.After(5 * time.Second):
		t.Fatal("watch loop did not take the interrupt")
	}
	select {
	case rev := <-hd.entered:
		return rev, release
	case <-time.After(5 * time.Second):
		t.Fatal("watch loop did not restart its watch")
		return 0, nil
	}
}

// changes records what OnChange reports.
type changes struct {
	mu   sync.Mutex
	seen map[string]int
	c    chan struct{} // closed at the next report
}

func recordChanges(a *Actions) *changes {
	ch := &changes{seen: map[string]int{}, c: make(chan struct{})}
	a.OnChange(func(ns, path string) {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		ch.seen[ns+"/"+path]++
		close(ch.c)
		ch.c = make(chan struct{})
	})
	return ch
}

// waitFor polls cond after each OnChange report until it holds or d
// passes.
func (ch *changes) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		ch.mu.Lock()
		next := ch.c
		ch.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-next:
		case <-timeout:
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

func (ch *changes) count(key string) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.seen[key]
}

// codeIs reports whether a's action ns/path has code (false when absent).
func codeIs(a *Actions, ns, path, code string) bool {
	doc, err := a.GetAction(ns, path)
	return err == nil && doc.Exec.Code != nil && *doc.Exec.Code == code
}

// TestActionsWatchReportsOtherWriters: B learns of A's creates, updates
// and deletes through its watch, reports each, and reads them from its
// mirror.
func TestActionsWatchReportsOtherWriters(t *testing.T) {
	srv := startEtcd(t)
	a := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	b := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	seen := recordChanges(b)
	inMirror := func(code string) func() bool {
		return func() bool {
			e, ok := b.mirror.get("guest/x")
			return ok && e.rec.Code != nil && e.rec.Code.Digest == refOf(code).Digest
		}
	}
	mustPut(t, a, "guest", "x", create("guest", "x", "v1"))
	seen.waitFor(t, 5*time.Second, "B's mirror has v1", inMirror("v1"))
	if !codeIs(b, "guest", "x", "v1") || seen.count("guest/x") != 1 {
		t.Fatalf("B after the create: %d reports", seen.count("guest/x"))
	}
	mustPut(t, a, "guest", "x", replace("guest", "x", "v2", 2))
	seen.waitFor(t, 5*time.Second, "B's mirror has v2", inMirror("v2"))
	if !codeIs(b, "guest", "x", "v2") || seen.count("guest/x") != 2 {
		t.Fatalf("B after the update: %d reports", seen.count("guest/x"))
	}
	if _, err := a.DeleteAction("guest", "x"); err != nil {
		t.Fatal(err)
	}
	seen.waitFor(t, 5*time.Second, "B's mirror without x", func() bool { _, ok := b.mirror.get("guest/x"); return !ok })
	if _, err := b.GetAction("guest", "x"); !errors.Is(err, store.ErrNotFound) || seen.count("guest/x") != 3 {
		t.Fatalf("B after the delete: %v, %d reports", err, seen.count("guest/x"))
	}
}

// TestActionsMirrorMissAndReadYourWrites: with B's watch held, an action
// A created is still found by B (read from etcd), and B's own writes are
// read back at once; late events do not undo them.
func TestActionsMirrorMissAndReadYourWrites(t *testing.T) {
	srv := startEtcd(t)
	a := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	b := startHeldActions(t, srv.endpoint, "c1")
	<-b.Ready()
	seen := recordChanges(b.Actions)
	_, release := b.breakAndHold(t)
	mustPut(t, a, "guest", "new", create("guest", "new", "fresh"))
	if _, ok := b.mirror.get("guest/new"); ok {
		t.Fatal("held mirror has the action already: the test proves nothing")
	}
	if !codeIs(b.Actions, "guest", "new", "fresh") {
		t.Fatal("B does not find an action A just created")
	}
	mustPut(t, b.Actions, "guest", "mine", create("guest", "mine", "b1"))
	mustPut(t, b.Actions, "guest", "mine", replace("guest", "mine", "b2", 2))
	if !codeIs(b.Actions, "guest", "mine", "b2") || seen.count("guest/mine") != 2 {
		t.Fatalf("B does not read its own write at once (%d reports)", seen.count("guest/mine"))
	}
	if _, err := b.DeleteAction("guest", "new"); err != nil {
		t.Fatal(err)
	}
	release()
	// The watch now replays A's create and B's writes: the mirror must end
	// where B's writes left it.
	// A marker written after everything else: once B has it, B's watch
	// has applied every earlier event.
	mustPut(t, a, "guest", "marker", create("guest", "marker", "m"))
	seen.waitFor(t, 5*time.Second, "watch caught up", func() bool { return seen.count("guest/marker") == 1 })
	if _, err := b.GetAction("guest", "new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a replayed create brought back a deleted action: %v", err)
	}
	if !codeIs(b.Actions, "guest", "mine", "b2") {
		t.Fatal("a replayed event undid B's last write")
	}
}

func TestActionsRelistAfterCompaction(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	a := startActions(t, cli, "c1", ActionsOptions{})
	mustPut(t, a, "guest", "x", create("guest", "x", "x1"))
	mustPut(t, a, "guest", "gone", create("guest", "gone", "g"))
	b := startHeldActions(t, srv.endpoint, "c1")
	<-b.Ready()
	seen := recordChanges(b.Actions)
	from, release := b.breakAndHold(t)
	mustPut(t, a, "guest", "x", replace("guest", "x", "x2", 2))
	mustPut(t, a, "guest", "y", create("guest", "y", "y1"))
	if _, err := a.DeleteAction("guest", "gone"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(testCtx(t, 5*time.Second), "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(testCtx(t, 5*time.Second), resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	t.Logf("mirror behind at revision %d, store compacted at %d", from, resp.Header.Revision)
	release()
	seen.waitFor(t, 5*time.Second, "relisted", func() bool { return b.Status().Lists == 2 })
	list, total, err := b.ListActions("guest", "", 0, 0)
	if err != nil || total != 2 || names(list) != "guest/x guest/y " {
		t.Fatalf("list after the relist: %s (%d), %v", names(list), total, err)
	}
	if st := b.Status(); st.Compacted != 1 {
		t.Fatalf("status %+v, want one compaction", st)
	}
	for _, k := range []string{"guest/x", "guest/y", "guest/gone"} {
		if seen.count(k) != 1 {
			t.Errorf("%s reported %d times by the relist, want once", k, seen.count(k))
		}
	}
	mustPut(t, a, "guest", "z", create("guest", "z", "z1"))
	seen.waitFor(t, 5*time.Second, "watching after the relist", func() bool { return seen.count("guest/z") == 1 })
}

// TestActionsServeWhileEtcdUnreachable: with B cut off from etcd, invokes
// keep reading actions from the mirror and the code cache; writes fail
// naming etcd.
func TestActionsServeWhileEtcdUnreachable(t *testing.T) {
	srv := startEtcd(t)
	px := startProxy(t, srv.endpoint)
	a := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	b := startActions(t, newClient(t, px.endpoint), "c1", ActionsOptions{CallTimeout: 300 * time.Millisecond})
	code := bigCode(2<<20, 5)
	mustPut(t, a, "guest", "x", create("guest", "x", code))
	if !codeIs(b, "guest", "x", code) { // B caches the code
		t.Fatal("B does not read x")
	}
	px.PauseTx()
	px.PauseRx()
	start := time.Now()
	for range 1000 {
		if !codeIs(b, "guest", "x", code) {
			t.Fatal("B does not serve x with etcd unreachable")
		}
	}
	t.Logf("1000 reads with etcd unreachable: %v", time.Since(start))
	if list, _, err := b.ListActions("guest", "", 0, 0); err != nil || len(list) != 1 {
		t.Fatalf("list with etcd unreachable: %v, %v", list, err)
	}
	_, err := b.PutAction("guest", "x", replace("guest", "x", "v2", 2))
	if err == nil || !strings.Contains(err.Error(), "etcd") || !strings.Contains(err.Error(), px.endpoint) {
		t.Fatalf("put with etcd unreachable: %v, want an error naming etcd at %s", err, px.endpoint)
	}
	t.Logf("put with etcd unreachable: %v", err)
	if _, err := b.GetAction("guest", "unknown"); err == nil || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "etcd") {
		t.Fatalf("get of an action the mirror lacks, etcd unreachable: %v, want an etcd error, not not-found", err)
	}
}
