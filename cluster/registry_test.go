package cluster

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func register(t *testing.T, cli *clientv3.Client, opts Options) *Registry {
	t.Helper()
	r, err := Register(testCtx(t, 10*time.Second), cli, opts)
	if err != nil {
		t.Fatalf("Register(%q): %v", opts.ID, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func readRecord(t *testing.T, value []byte) record {
	t.Helper()
	var rec record
	if err := json.Unmarshal(value, &rec); err != nil {
		t.Fatalf("value %q: %v", value, err)
	}
	return rec
}

func TestRegisterAndClose(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	snap := Snapshot{UserMemory: 4 * config.GB, Free: 3 * config.GB, Busy: Usage{2, 512 * config.MB}, Idle: Usage{1, 256 * config.MB}, Prewarmed: Usage{1, 256 * config.MB}}
	r := register(t, cli, Options{Cluster: "c1", ID: "10.0.0.1:8080", Address: "http://10.0.0.1:8080", TTL: 5 * time.Second, Initial: snap})

	if want := "/stemcell/v1/c1/invokers/10.0.0.1:8080"; r.Key() != want {
		t.Fatalf("Key() = %q, want %q", r.Key(), want)
	}
	resp, err := cli.Get(testCtx(t, 5*time.Second), r.Key())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("Get(%q) = %v, %v; want one key", r.Key(), resp, err)
	}
	kv := resp.Kvs[0]
	st := r.Status()
	if !st.Registered || st.Fenced || st.Registrations != 1 || st.Incarnation != kv.CreateRevision || st.Lease != kv.Lease {
		t.Fatalf("status %+v, key created at %d under lease %x", st, kv.CreateRevision, kv.Lease)
	}
	e, err := decodeEntry("10.0.0.1:8080", kv.Value, kv.CreateRevision, kv.ModRevision, kv.Lease)
	if err != nil || !e.Snapshot.Equal(snap) || e.Address != "http://10.0.0.1:8080" || e.Draining {
		t.Fatalf("entry %+v, %v; want snapshot %+v", e, err, snap)
	}
	ttl, err := cli.TimeToLive(testCtx(t, 5*time.Second), clientv3.LeaseID(st.Lease))
	if err != nil || ttl.GrantedTTL != 5 {
		t.Fatalf("lease TTL %+v, %v; want granted 5 s", ttl, err)
	}

	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if resp, err := cli.Get(testCtx(t, 5*time.Second), r.Key()); err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("after Close: %v keys, %v; want the key gone at once", resp.Count, err)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []Options{
		{Cluster: "", ID: "a"},
		{Cluster: "c", ID: ""},
		{Cluster: "c/invokers", ID: "a"},
		{Cluster: "c", ID: "a/b"},
		{Cluster: "c", ID: "a\n"},
		{Cluster: "c", ID: "a", TTL: 500 * time.Millisecond},
	} {
		_, err := Register(testCtx(t, time.Second), nil, o)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Register(%+v) = %v, want ErrInvalid", o, err)
		}
	}
}

func TestDuplicateIDRefused(t *testing.T) {
	srv := startEtcd(t)
	cliA, cliB := newClient(t, srv.endpoint), newClient(t, srv.endpoint)
	opts := Options{Cluster: "c1", ID: "inv-a", TTL: 5 * time.Second}
	a := register(t, cliA, opts)

	_, err := Register(testCtx(t, 10*time.Second), cliB, opts)
	if !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("second Register = %v, want ErrDuplicateID", err)
	}
	for _, want := range []string{`"inv-a"`, `"/stemcell/v1/c1/invokers/inv-a"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	t.Logf("refusal: %v", err)
	// The refused process gave its lease back: only a's is left.
	leases, err := cliB.Leases(testCtx(t, 5*time.Second))
	if err != nil || len(leases.Leases) != 1 || int64(leases.Leases[0].ID) != a.Status().Lease {
		t.Fatalf("leases %+v, %v; want only a's %x", leases, err, a.Status().Lease)
	}

	first := a.Status().Incarnation
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := register(t, cliB, opts)
	if got := b.Status().Incarnation; got <= first {
		t.Fatalf("incarnation after the id was freed = %d, want > %d", got, first)
	}
}

// event is a watch event and when the test's watch received it.
type event struct {
	*clientv3.Event
	at time.Time
}

// keyEvents watches key from revision from on and delivers its events,
// stamped as they arrive.
func keyEvents(t *testing.T, cli *clientv3.Client, key string, from int64) <-chan event {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	wch := cli.Watch(ctx, key, clientv3.WithRev(from))
	out := make(chan event, 1024)
	go func() {
		defer close(out)
		for resp := range wch {
			now := time.Now()
			for _, ev := range resp.Events {
				out <- event{ev, now}
			}
		}
	}()
	return out
}

func nextEvent(t *testing.T, evs <-chan event, d time.Duration) event {
	t.Helper()
	select {
	case ev, ok := <-evs:
		if !ok {
			t.Fatal("watch ended")
		}
		return ev
	case <-time.After(d):
		t.Fatalf("no event within %v", d)
		return event{}
	}
}

func TestPublishRateLimitedAndOnChangeOnly(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	const interval = 250 * time.Millisecond
	snap := Snapshot{UserMemory: 8 * config.GB, Free: 8 * config.GB}
	start := time.Now() // the first write may come one interval after registration
	r := register(t, cli, Options{Cluster: "c1", ID: "inv", SyncInterval: interval, Initial: snap})
	evs := keyEvents(t, cli, r.Key(), r.Status().Incarnation+1)

	// A burst of distinct snapshots, as many as activations would cause,
	// for 1.5 s: at most one write per interval, the last one wins.
	const burst = 1500 * time.Millisecond
	n := 0
	for burstStart := time.Now(); time.Since(burstStart) < burst; {
		n++
		snap.Free = 8*config.GB - config.ByteSize(n%64)*config.MB
		snap.Busy = Usage{Count: n % 64, Memory: config.ByteSize(n%64) * config.MB}
		r.Publish(snap)
		time.Sleep(time.Millisecond) // the load's pace, not synchronisation
	}
	final := Snapshot{UserMemory: 8 * config.GB, Free: 5 * config.GB, Busy: Usage{3, 3 * config.GB}}
	r.Publish(final)
	var puts []time.Time
	for {
		ev := nextEvent(t, evs, 5*time.Second)
		puts = append(puts, ev.at)
		e, err := decodeEntry("inv", ev.Kv.Value, ev.Kv.CreateRevision, ev.Kv.ModRevision, ev.Kv.Lease)
		if err != nil {
			t.Fatal(err)
		}
		if e.Snapshot.Equal(final) {
			break
		}
	}
	elapsed := time.Since(start)
	maxPuts := int(elapsed/interval) + 1
	t.Logf("%d snapshots over %v: %d writes (at most %d allowed)", n, elapsed.Round(time.Millisecond), len(puts), maxPuts)
	if len(puts) > maxPuts || len(puts) < 2 {
		t.Fatalf("%d writes for %d snapshots in %v, want 2..%d", len(puts), n, elapsed, maxPuts)
	}
	for i := 1; i < len(puts); i++ {
		if gap := puts[i].Sub(puts[i-1]); gap < interval*8/10 {
			t.Errorf("writes %d and %d %v apart, want about %v or more", i-1, i, gap, interval)
		}
	}

	// The same snapshot again and again writes nothing: the next write is
	// the draining mark, which Drain writes at once. (The Published counter
	// is not compared: the watch may show a put before the publisher has
	// counted it.)
	for range 1000 {
		r.Publish(final)
	}
	if err := r.Drain(testCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, evs, 5*time.Second)
	rec := readRecord(t, ev.Kv.Value)
	if !rec.Draining || rec.Free != int64(final.Free) {
		t.Fatalf("write after 1000 unchanged snapshots = %s, want the draining mark", ev.Kv.Value)
	}
}

func TestDrainWrittenAtOnce(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	r := register(t, cli, Options{Cluster: "c1", ID: "inv", SyncInterval: time.Hour, Initial: Snapshot{UserMemory: config.GB, Free: config.GB}})
	changed := Snapshot{UserMemory: config.GB, Free: 512 * config.MB, Busy: Usage{1, 512 * config.MB}}
	r.Publish(changed) // held back by the hour-long interval
	start := time.Now()
	if err := r.Drain(testCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	t.Logf("draining written %v after Drain", time.Since(start))
	resp, err := cli.Get(testCtx(t, 5*time.Second), r.Key())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("Get: %v, %v", resp, err)
	}
	e, err := decodeEntry("inv", resp.Kvs[0].Value, 0, 0, 0)
	if err != nil || !e.Draining || !e.Snapshot.Equal(changed) {
		t.Fatalf("entry %+v, %v; want draining with the latest snapshot", e, err)
	}
}
