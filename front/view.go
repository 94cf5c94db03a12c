package front

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stemcell-io/stemcell/cluster"
	"github.com/stemcell-io/stemcell/route"
)

// View is where the front learns of the invokers: a cluster.View in
// production (ClusterView), a fixed list in tests (StaticView).
type View interface {
	// Current returns the invokers to place on. It never blocks; the same
	// pointer comes back until something changed.
	Current() *Snapshot
	// Status says how the view keeps up with its source.
	Status() ViewStatus
}

// Snapshot is one immutable state of the view.
type Snapshot struct {
	// Invokers are what route places on; shared, read only.
	Invokers []route.Invoker
	// Addresses[i] is the base URL of Invokers[i] ("http://host:port").
	Addresses []string
}

// address returns the base URL of invoker id, if the snapshot holds it.
func (s *Snapshot) address(id string) (string, bool) {
	for i := range s.Invokers {
		if s.Invokers[i].ID == id {
			return s.Addresses[i], true
		}
	}
	return "", false
}

// ViewStatus is the part of cluster.ViewStatus a front reports.
type ViewStatus struct {
	// Listed: the first list is in; before it the snapshot is empty.
	Listed bool
	// Revision is the source's revision of the snapshot (etcd's).
	Revision int64
	// UnreachableSince is when the source stopped answering; zero while
	// it answers. The front routes on the last snapshot meanwhile.
	UnreachableSince time.Time
	// Err is the source's last failure.
	Err error
}

// BaseURL turns an invoker's published address into a base URL: a bare
// host:port (what `invoker run` publishes) gets "http://".
func BaseURL(addr string) string {
	addr = strings.TrimRight(addr, "/")
	if addr == "" || strings.Contains(addr, "://") {
		return addr
	}
	return "http://" + addr
}

// StaticView is a View whose invokers and status the caller sets: tests,
// and fronts in front of a fixed list of invokers.
type StaticView struct {
	cur    atomic.Pointer[Snapshot]
	mu     sync.Mutex
	status ViewStatus
}

// NewStaticView returns a listed view of invokers; addrs[i] is where
// invokers[i] listens.
func NewStaticView(invokers []route.Invoker, addrs []string) *StaticView {
	v := &StaticView{status: ViewStatus{Listed: true}}
	v.Set(invokers, addrs)
	return v
}

// Set replaces the invokers. It panics if the two slices differ in
// length: a programming error.
func (v *StaticView) Set(invokers []route.Invoker, addrs []string) {
	if len(invokers) != len(addrs) {
		panic("front: StaticView.Set: invokers and addresses differ in length")
	}
	s := &Snapshot{Invokers: append([]route.Invoker(nil), invokers...), Addresses: make([]string, len(addrs))}
	for i, a := range addrs {
		s.Addresses[i] = BaseURL(a)
	}
	v.cur.Store(s)
}

// SetStatus replaces the status.
func (v *StaticView) SetStatus(st ViewStatus) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.status = st
}

// Current implements View.
func (v *StaticView) Current() *Snapshot { return v.cur.Load() }

// Status implements View.
func (v *StaticView) Status() ViewStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.status
}

// clusterView adapts a cluster.View: one Snapshot per cluster.Set, built
// at the first Current after the Set changed, not per invoke.
type clusterView struct {
	v    *cluster.View
	mu   sync.Mutex
	set  *cluster.Set
	snap *Snapshot
}

// ClusterView is the View of a cluster.View. Invokers that published no
// address cannot be reached and are left out.
func ClusterView(v *cluster.View) View { return &clusterView{v: v} }

func (c *clusterView) Current() *Snapshot {
	set := c.v.Current()
	c.mu.Lock()
	defer c.mu.Unlock()
	if set == c.set {
		return c.snap
	}
	snap := &Snapshot{}
	entries := set.Entries()
	invs := set.Invokers()
	for i := range entries {
		if entries[i].Address == "" {
			continue
		}
		snap.Invokers = append(snap.Invokers, invs[i])
		snap.Addresses = append(snap.Addresses, BaseURL(entries[i].Address))
	}
	c.set, c.snap = set, snap
	return snap
}

func (c *clusterView) Status() ViewStatus {
	st := c.v.Status()
	return ViewStatus{Listed: st.Listed, Revision: st.Revision, UnreachableSince: st.UnreachableSince, Err: st.Err}
}
