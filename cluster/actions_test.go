package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stemcell-io/stemcell/store"
)

func startActions(t testing.TB, cli *clientv3.Client, cluster string, opts ActionsOptions) *Actions {
	t.Helper()
	opts.Cluster = cluster
	a, err := NewActions(cli, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	select {
	case <-a.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("actions mirror not listed within 5 s")
	}
	return a
}

// create is PUT with overwrite=false; replace with overwrite=true.
func create(ns, name, code string) func(old *store.Action) (*store.Action, error) {
	return func(old *store.Action) (*store.Action, error) {
		if old != nil {
			return nil, store.ErrExists
		}
		return newDoc(ns, name, code, 1), nil
	}
}

func replace(ns, name, code string, updated int64) func(old *store.Action) (*store.Action, error) {
	return func(*store.Action) (*store.Action, error) { return newDoc(ns, name, code, updated), nil }
}

func newDoc(ns, name, code string, updated int64) *store.Action {
	return &store.Action{
		Namespace: ns, Name: name, Version: "0.0.1", Updated: updated,
		Exec:   store.Exec{Kind: "nodejs:20", Code: &code},
		Limits: store.Limits{Timeout: 60000, Memory: 256, Logs: 10, Concurrency: 1},
	}
}

// bigCode is n pseudo-random printable bytes: parts that differ, so a
// misplaced part shows.
func bigCode(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('!' + r.IntN(90))
	}
	return string(b)
}

func mustPut(t *testing.T, a *Actions, ns, path string, fn func(*store.Action) (*store.Action, error)) *store.Action {
	t.Helper()
	doc, err := a.PutAction(ns, path, fn)
	if err != nil {
		t.Fatalf("put %s/%s: %v", ns, path, err)
	}
	return doc
}

func codeOf(t *testing.T, doc *store.Action) string {
	t.Helper()
	if doc.Exec.Code == nil {
		t.Fatalf("%s/%s has no code", doc.Namespace, doc.Name)
	}
	return *doc.Exec.Code
}

// keys lists the keys under prefix.
func keys(t *testing.T, cli *clientv3.Client, prefix string) []string {
	t.Helper()
	resp, err := cli.Get(testCtx(t, 5*time.Second), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		out[i] = string(kv.Key)
	}
	return out
}

func TestActionsRoundTripSmallAndLarge(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	a := startActions(t, cli, "c1", ActionsOptions{})
	big := bigCode(5<<20+123, 1)
	for _, tc := range []struct {
		path, code string
		parts      int
	}{{"hello", "function main() { return {} }", 1}, {"pkg/big", big, 6}} {
		t.Run(tc.path, func(t *testing.T) {
			mustPut(t, a, "guest", tc.path, create("guest", tc.path, tc.code))
			ref := refOf(tc.code)
			if ref.Parts != tc.parts {
				t.Fatalf("%d parts, want %d", ref.Parts, tc.parts)
			}
			parts := keys(t, cli, a.codePrefix(ref.Digest))
			if len(parts) != tc.parts+1 { // and the meta key
				t.Fatalf("code keys %v, want %d parts and meta", parts, tc.parts)
			}
			// A second process, cache empty: the code comes from etcd.
			b := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
			doc, err := b.GetAction("guest", tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := codeOf(t, doc); got != tc.code {
				t.Fatalf("code read back differs: %d bytes, want %d", len(got), len(tc.code))
			}
			if doc.Limits.Memory != 256 || doc.Exec.Kind != "nodejs:20" {
				t.Fatalf("document read back %+v", doc)
			}
			if st := b.Status(); st.CachedCodes != 1 || st.CachedBytes != len(tc.code) {
				t.Fatalf("cache after one read: %+v", st)
			}
		})
	}
	// The returned document is the caller's: changing it leaves the
	// mirror alone.
	doc, _ := a.GetAction("guest", "hello")
	doc.Exec.Code = nil
	doc.Parameters = append(doc.Parameters, store.KeyValue{Key: "x"})
	again, err := a.GetAction("guest", "hello")
	if err != nil || again.Exec.Code == nil || len(again.Parameters) != 0 {
		t.Fatalf("mirror changed through a returned document: %+v, %v", again, err)
	}
}

func TestActionsNotFoundAndBadNames(t *testing.T) {
	srv := startEtcd(t)
	a := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	if _, err := a.GetAction("guest", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get of a missing action: %v, want ErrNotFound", err)
	}
	if _, err := a.DeleteAction("guest", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete of a missing action: %v, want ErrNotFound", err)
	}
	for _, c := range []struct{ ns, path string }{{"", "a"}, {"a/b", "c"}, {"guest", ""}, {"guest", "a/b/c"}, {"guest", "/a"}, {"guest", "a\x00"}} {
		if _, err := a.GetAction(c.ns, c.path); !errors.Is(err, ErrInvalid) {
			t.Errorf("get %q %q: %v, want ErrInvalid", c.ns, c.path, err)
		}
	}
	// fn's own error comes back, wrapped, and nothing is written.
	type apiErr struct{ error }
	_, err := a.PutAction("guest", "x", func(*store.Action) (*store.Action, error) { return nil, &apiErr{errors.New("bad kind")} })
	var ae *apiErr
	if !errors.As(err, &ae) {
		t.Fatalf("put with a refusing fn: %v, want the fn's error", err)
	}
	if ks := keys(t, a.cli, a.root); len(ks) != 0 {
		t.Fatalf("a refused put wrote %v", ks)
	}
}

// TestActionsCreateRace: two fronts create the same action at once, many
// times; exactly one wins each time, the other gets ErrExists.
func TestActionsCreateRace(t *testing.T) {
	srv := startEtcd(t)
	a := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	b := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	for i := range 20 {
		name := fmt.Sprintf("race%d", i)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, x := range []*Actions{a, b} {
			wg.Go(func() { _, errs[j] = x.PutAction("guest", name, create("guest", name, fmt.Sprintf("code from %d", j))) })
		}
		wg.Wait()
		wins, exists := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrExists):
				exists++
			default:
				t.Fatalf("%s: %v", name, err)
			}
		}
		if wins != 1 || exists != 1 {
			t.Fatalf("%s: %d winners and %d ErrExists (%v), want one each", name, wins, exists, errs)
		}
	}
}

// TestActionsNoLostUpdate: read-modify-write updates (each appends a
// parameter) from two processes at once all survive.
func TestActionsNoLostUpdate(t *testing.T) {
	srv := startEtcd(t)
	a := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	b := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	seenA, seenB := recordChanges(a), recordChanges(b)
	mustPut(t, a, "guest", "counter", create("guest", "counter", "code"))
	const perWriter = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*perWriter)
	for j, x := range []*Actions{a, b} {
		for i := range perWriter {
			wg.Go(func() {
				_, err := x.PutAction("guest", "counter", func(old *store.Action) (*store.Action, error) {
					n := *old
					v, _ := json.Marshal(fmt.Sprintf("%d-%d", j, i))
					n.Parameters = append(append([]store.KeyValue(nil), old.Parameters...), store.KeyValue{Key: "p", Value: v})
					return &n, nil
				})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// etcd holds every update; each mirror gets there once its watch has
	// delivered the other instance's last write.
	e, ok, err := a.readDoc("guest/counter")
	if err != nil || !ok {
		t.Fatalf("reading the document from etcd: %v", err)
	}
	wantAll(t, e.rec.Action.Parameters, 2*perWriter)
	for x, seen := range map[*Actions]*changes{a: seenA, b: seenB} {
		seen.waitFor(t, 5*time.Second, "mirror up to date", func() bool {
			doc, err := x.GetAction("guest", "counter")
			return err == nil && len(doc.Parameters) == 2*perWriter
		})
	}
}

func wantAll(t *testing.T, params []store.KeyValue, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range params {
		seen[string(p.Value)] = true
	}
	if len(params) != n || len(seen) != n {
		t.Fatalf("%d parameters (%d distinct) after %d updates: %v", len(params), len(seen), n, params)
	}
}

// TestActionsCollectCode: overwriting and deleting remove the code no
// action refers to any more; code two actions share stays while one of
// them has it.
func TestActionsCollectCode(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	a := startActions(t, cli, "c1", ActionsOptions{})
	v1, v2, shared := bigCode(2<<20, 2), "second version", bigCode(1500<<10, 3)
	mustPut(t, a, "guest", "x", create("guest", "x", v1))
	mustPut(t, a, "guest", "x", replace("guest", "x", v2, 2))
	if ks := keys(t, cli, a.codePrefix(refOf(v1).Digest)); len(ks) != 0 {
		t.Fatalf("overwritten code left %v", ks)
	}
	if ks := keys(t, cli, a.refsPrefix(refOf(v1).Digest)); len(ks) != 0 {
		t.Fatalf("overwritten code's references left %v", ks)
	}
	mustPut(t, a, "guest", "s1", create("guest", "s1", shared))
	mustPut(t, a, "guest", "s2", create("guest", "s2", shared))
	if _, err := a.DeleteAction("guest", "s1"); err != nil {
		t.Fatal(err)
	}
	sd := refOf(shared).Digest
	if ks := keys(t, cli, a.codePrefix(sd)); len(ks) != 3 {
		t.Fatalf("shared code after deleting one of its actions: %v, want 2 parts and meta", ks)
	}
	b := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	if doc, err := b.GetAction("guest", "s2"); err != nil || codeOf(t, doc) != shared {
		t.Fatalf("action sharing the code: %v", err)
	}
	deleted, err := a.DeleteAction("guest", "s2")
	if err != nil || codeOf(t, deleted) != shared {
		t.Fatalf("delete returns the action with its code: %v", err)
	}
	if ks := keys(t, cli, a.codePrefix(sd)); len(ks) != 0 {
		t.Fatalf("code of deleted actions left %v", ks)
	}
	if _, err := a.DeleteAction("guest", "x"); err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, cli, a.root); len(ks) != 0 {
		t.Fatalf("keys left after deleting every action: %v", ks)
	}
	if st := a.Status(); st.Collected != 3 {
		t.Fatalf("collected %d codes, want 3", st.Collected)
	}
}

// TestActionsCodeCollectedBeforeCommit: a collection that runs after a
// put wrote the parts but before its document transaction makes that
// transaction fail and the put write the parts again: the action never
// points at missing code.
func TestActionsCodeCollectedBeforeCommit(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	code := bigCode(3<<20, 4)
	var a *Actions
	commits := 0
	a, err := newActions(cli, ActionsOptions{Cluster: "c1"}, actionsHooks{beforeCommit: func(digest string) {
		commits++
		if commits == 1 {
			a.collect(digest) // no action refers to it yet: deleted
			if ks := keys(t, cli, a.codePrefix(digest)); len(ks) != 0 {
				t.Errorf("collection left %v", ks)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	mustPut(t, a, "guest", "x", create("guest", "x", code))
	if commits != 2 {
		t.Fatalf("%d document transactions, want 2 (the first refused)", commits)
	}
	b := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	got, err := b.GetAction("guest", "x")
	if err != nil || codeOf(t, got) != code {
		t.Fatalf("code after a collection raced the put: %v", err)
	}
}

func TestActionsListOrderAndPaging(t *testing.T) {
	srv := startEtcd(t)
	a := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	puts := []struct {
		path    string
		updated int64
	}{{"b", 5}, {"a", 5}, {"pkg/c", 7}, {"pkg/d", 1}, {"z", 9}, {"pkg2/e", 3}}
	for _, p := range puts {
		ns, name := "guest", p.path
		if pkg, n, ok := strings.Cut(p.path, "/"); ok {
			ns, name = "guest/"+pkg, n
		}
		mustPut(t, a, "guest", p.path, replace(ns, name, "c", p.updated))
		if _, err := st.PutAction("guest", p.path, replace(ns, name, "c", p.updated)); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, a, "other", "o", replace("other", "o", "c", 100))
	direct := startActions(t, newClient(t, srv.endpoint), "c1", ActionsOptions{})
	for _, c := range []struct {
		pkg         string
		skip, limit int
	}{{"", 0, 0}, {"", 1, 2}, {"pkg", 0, 0}, {"", 10, 0}, {"nope", 0, 0}, {"", 0, 3}} {
		want, wantTotal, _ := st.ListActions("guest", c.pkg, c.skip, c.limit)
		got, total, err := a.ListActions("guest", c.pkg, c.skip, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		// Before its first list an Actions reads etcd itself.
		direct.mirror.mu.Lock()
		direct.mirror.listed = false
		direct.mirror.mu.Unlock()
		got2, total2, err := direct.ListActions("guest", c.pkg, c.skip, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if total != wantTotal || total2 != wantTotal || names(got) != names(want) || names(got2) != names(want) {
			t.Errorf("list %+v: mirror %s (%d), etcd %s (%d); the store says %s (%d)", c, names(got), total, names(got2), total2, names(want), wantTotal)
		}
	}
}

func names(list []store.Action) string {
	var b bytes.Buffer
	for _, a := range list {
		fmt.Fprintf(&b, "%s/%s ", a.Namespace, a.Name)
	}
	return b.String()
}

// TestActionsSweepCode: parts left by a writer that died before its
// document are swept; code an action uses stays.
func TestActionsSweepCode(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv.endpoint)
	a := startActions(t, cli, "c1", ActionsOptions{})
	used, orphan := bigCode(1<<20+1, 10), bigCode(2<<20, 11)
	mustPut(t, a, "guest", "x", create("guest", "x", used))
	if err := a.ensureCode(refOf(orphan), orphan); err != nil { // the crash: parts, no document
		t.Fatal(err)
	}
	if err := a.writeParts(refOf("half written"), "half written"); err != nil { // no meta either
		t.Fatal(err)
	}
	n, err := a.SweepCode(testCtx(t, 5*time.Second))
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d codes, %v; want 2", n, err)
	}
	if ks := keys(t, cli, a.root+"code/"); len(ks) != 3 || !strings.HasPrefix(ks[0], a.codePrefix(refOf(used).Digest)) {
		t.Fatalf("code keys after the sweep: %v, want the used code's 2 parts and meta", ks)
	}
}

func TestCodeCacheBoundInBytes(t *testing.T) {
	c := newCodeCache(10)
	c.add("a", "1234")
	c.add("b", "5678")
	if _, ok := c.get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.add("c", "90ab") // 12 bytes: b, the least recently used, goes
	if _, ok := c.get("b"); ok {
		t.Fatal("b kept past the bound")
	}
	c.add("huge", "12345678901") // larger than the bound: not kept, nothing evicted
	if _, ok := c.get("huge"); ok {
		t.Fatal("a code larger than the cache was kept")
	}
	if n, bytes := c.size(); n != 2 || bytes != 8 {
		t.Fatalf("cache holds %d codes, %d bytes; want 2, 8", n, bytes)
	}
}
