package cluster

import (
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"go.etcd.io/etcd/pkg/v3/proxy"
	"go.uber.org/zap"
)

// waitStatus reads r's status changes until cond holds or d passes.
func waitStatus(t *testing.T, r *Registry, d time.Duration, what string, cond func(Status) bool) Status {
	t.Helper()
	if st := r.Status(); cond(st) {
		return st
	}
	timeout := time.After(d)
	for {
		select {
		case st := <-r.StatusChanges():
			if cond(st) {
				return st
			}
		case <-timeout:
			t.Fatalf("%s: not within %v; status %+v", what, d, r.Status())
		}
	}
}

// waitSet waits until the view's Set satisfies cond, or fails after d.
func waitSet(t *testing.T, v *View, d time.Duration, what string, cond func(*Set) bool) *Set {
	t.Helper()
	timeout := time.After(d)
	for {
		s := v.Current()
		if cond(s) {
			return s
		}
		select {
		case <-s.Changed():
		case <-timeout:
			t.Fatalf("%s: not within %v; view at revision %d has %v", what, d, s.Revision(), s.Entries())
		}
	}
}

func startView(t *testing.T, endpoint, cluster string) *View {
	t.Helper()
	v, err := NewView(newClient(t, endpoint), ViewOptions{Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func TestLeaseRevokedReRegistersWithNewIncarnation(t *testing.T) {
	srv := startEtcd(t)
	admin := newClient(t, srv.endpoint)
	r := register(t, newClient(t, srv.endpoint), Options{Cluster: "c1", ID: "inv", TTL: 2 * time.Second})
	v := startView(t, srv.endpoint, "c1")
	old := r.Status()
	waitSet(t, v, 5*time.Second, "registered invoker in the view", func(s *Set) bool {
		e, ok := s.Get("inv")
		return ok && e.Incarnation == old.Incarnation
	})

	revoked := time.Now()
	if _, err := admin.Revoke(testCtx(t, 5*time.Second), leaseID(old.Lease)); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, r, 10*time.Second, "re-registration", func(s Status) bool { return s.Registered && s.Registrations == 2 })
	t.Logf("re-registered %v after the revoke: incarnation %d -> %d", time.Since(revoked), old.Incarnation, st.Incarnation)
	if st.LeaseLosses != 1 || st.Incarnation <= old.Incarnation || st.Lease == old.Lease || st.Fenced {
		t.Fatalf("status after re-registration %+v; before %+v", st, old)
	}
	waitSet(t, v, 5*time.Second, "new incarnation in the view", func(s *Set) bool {
		e, ok := s.Get("inv")
		return ok && e.Incarnation == st.Incarnation
	})
}

// TestPartitionFencesThenReRegisters cuts the invoker's connection to etcd
// (a proxy holding every byte) for longer than the TTL: etcd expires the
// lease and the view drops the invoker; the registry fences itself at half
// the TTL and, once the connection is back, registers with a new
// incarnation.
func TestPartitionFencesThenReRegisters(t *testing.T) {
	srv := startEtcd(t)
	px := startProxy(t, srv.endpoint)
	const ttl = 2 * time.Second
	r := register(t, newClient(t, px.endpoint), Options{Cluster: "c1", ID: "inv", TTL: ttl, CallTimeout: 500 * time.Millisecond})
	v := startView(t, srv.endpoint, "c1")
	old := r.Status()
	waitSet(t, v, 5*time.Second, "registered invoker in the view", func(s *Set) bool { _, ok := s.Get("inv"); return ok })

	cut := time.Now()
	px.PauseTx()
	px.PauseRx()
	// Nothing the invoker calls waits on etcd: publishing goes on.
	busy := time.Now()
	for i := range 10000 {
		r.Publish(Snapshot{UserMemory: 1 << 30, Free: config.ByteSize(i)})
		r.Status()
	}
	if d := time.Since(busy); d > time.Second {
		t.Errorf("10000 Publish and Status calls with etcd cut off took %v", d)
	} else {
		t.Logf("10000 Publish and Status calls with etcd cut off: %v", d)
	}
	st := waitStatus(t, r, 2*ttl, "fenced", func(s Status) bool { return s.Fenced })
	t.Logf("fenced %v after the cut (TTL %v; last renewal %v after the cut)", time.Since(cut), ttl, st.LastRenewal.Sub(cut))
	waitSet(t, v, ttl+2*time.Second, "expired invoker gone from the view", func(s *Set) bool { _, ok := s.Get("inv"); return !ok })
	t.Logf("gone from the view %v after the cut", time.Since(cut))
	st = waitStatus(t, r, 2*ttl, "lease given up", func(s Status) bool { return s.LeaseLosses == 1 })
	if st.Registered || !st.Fenced {
		t.Fatalf("status with the lease lost %+v", st)
	}
	t.Logf("lease given up %v after the cut: %v", time.Since(cut), st.Err)

	healed := time.Now()
	px.UnpauseTx()
	px.UnpauseRx()
	st = waitStatus(t, r, 10*time.Second, "re-registration", func(s Status) bool { return s.Registered && s.Registrations == 2 })
	t.Logf("re-registered %v after the connection came back: incarnation %d -> %d", time.Since(healed), old.Incarnation, st.Incarnation)
	if st.Fenced || st.Incarnation <= old.Incarnation {
		t.Fatalf("status after re-registration %+v; before %+v", st, old)
	}
	waitSet(t, v, 5*time.Second, "new incarnation in the view", func(s *Set) bool {
		e, ok := s.Get("inv")
		return ok && e.Incarnation == st.Incarnation
	})
}

type etcdProxy struct {
	proxy.Server
	endpoint string
}

// startProxy puts etcd's fault-injection proxy in front of endpoint on a
// free loopback port.
func startProxy(t *testing.T, endpoint string) *etcdProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // the proxy listens there itself
	to, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := proxy.NewServer(proxy.ServerConfig{Logger: zap.NewNop(), From: url.URL{Scheme: "tcp", Host: addr}, To: url.URL{Scheme: "tcp", Host: to.Host}})
	select {
	case <-p.Ready():
	case err := <-p.Error():
		t.Fatalf("proxy on %s: %v", addr, err)
	}
	t.Cleanup(func() { p.Close() })
	return &etcdProxy{Server: p, endpoint: "http://" + addr}
}

// TestIDTakenDuringPartition: while invoker A is cut off, its lease expires
// and another process B registers the same id. When A's connection comes
// back it must not overwrite B's key: its re-registration is refused and A
// stays fenced, reporting the duplicate.
func TestIDTakenDuringPartition(t *testing.T) {
	srv := startEtcd(t)
	px := startProxy(t, srv.endpoint)
	const ttl = 2 * time.Second
	opts := Options{Cluster: "c1", ID: "inv", TTL: ttl, CallTimeout: 500 * time.Millisecond, SyncInterval: 50 * time.Millisecond}
	a := register(t, newClient(t, px.endpoint), opts)
	v := startView(t, srv.endpoint, "c1")
	waitSet(t, v, 5*time.Second, "a in the view", func(s *Set) bool { _, ok := s.Get("inv"); return ok })

	px.PauseTx()
	px.PauseRx()
	waitSet(t, v, ttl+2*time.Second, "a's key expired", func(s *Set) bool { _, ok := s.Get("inv"); return !ok })
	b := register(t, newClient(t, srv.endpoint), opts)
	waitStatus(t, a, 2*ttl, "a gives its lease up", func(s Status) bool { return s.LeaseLosses == 1 })
	a.Publish(Snapshot{Free: 1}) // a would write this if it still believed in its key

	px.UnpauseTx()
	px.UnpauseRx()
	st := waitStatus(t, a, 10*time.Second, "a refused", func(s Status) bool { return errors.Is(s.Err, ErrDuplicateID) })
	if st.Registered || !st.Fenced {
		t.Fatalf("a's status %+v, want fenced and not registered", st)
	}
	s := v.Current()
	if e, ok := s.Get("inv"); !ok || e.Incarnation != b.Status().Incarnation || e.Snapshot.Free == 1 {
		t.Fatalf("view entry %+v (present %v), want b's (incarnation %d) untouched", e, ok, b.Status().Incarnation)
	}
}
