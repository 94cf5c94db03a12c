package fake_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// heldCreates starts a create of each name and waits (in a synctest
// bubble) until all of them wait at the create gate.
func heldCreates(t *testing.T, f *fake.Factory, names ...string) (*fake.Gate, map[string]chan error) {
	t.Helper()
	g := f.Gate(fake.OpCreate)
	done := map[string]chan error{}
	for _, n := range names {
		done[n] = make(chan error, 1)
		go func() {
			c, err := f.CreateContainer(context.Background(), spec(n))
			if err == nil {
				err = c.Destroy(context.Background())
			}
			done[n] <- err
		}()
	}
	synctest.Wait()
	return g, done
}

func finished(done map[string]chan error) []string {
	var out []string
	for n, ch := range done {
		select {
		case err := <-ch:
			if err != nil {
				n += " failed: " + err.Error()
			}
			out = append(out, n)
		default:
		}
	}
	slices.Sort(out)
	return out
}

func TestGatePendingAndReleaseCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New(fake.Options{})
		g, done := heldCreates(t, f, "c", "a", "b")
		var keys []string
		for _, c := range g.Pending() {
			keys = append(keys, c.Key())
		}
		if want := []string{"a create ", "b create ", "c create "}; !slices.Equal(keys, want) {
			t.Fatalf("Pending keys %q, want %q (sorted by container name)", keys, want)
		}
		b := g.Pending()[1]
		if !g.ReleaseCall(b) {
			t.Fatal("ReleaseCall of a waiting call = false")
		}
		synctest.Wait()
		if got := finished(done); !slices.Equal(got, []string{"b"}) {
			t.Fatalf("after releasing b, finished %q, want only b", got)
		}
		if g.ReleaseCall(b) {
			t.Fatal("ReleaseCall of a call already let through = true")
		}
		if n := len(g.Pending()); n != 2 {
			t.Fatalf("%d calls pending after one of three was let through", n)
		}
		g.Open()
		synctest.Wait()
		if got := finished(done); !slices.Equal(got, []string{"a", "c"}) {
			t.Fatalf("after Open, finished %q, want a and c", got)
		}
		if len(g.Pending()) != 0 {
			t.Fatalf("calls still pending after Open: %v", g.Pending())
		}
		if err := f.Verify(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestGateReleaseOrderAndCredits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New(fake.Options{})
		g, done := heldCreates(t, f, "first")
		// Two releases, one call waiting: the spare lets the next call
		// pass without waiting.
		g.Release(2)
		synctest.Wait()
		if got := finished(done); !slices.Equal(got, []string{"first"}) {
			t.Fatalf("finished %q, want first", got)
		}
		c, err := f.CreateContainer(context.Background(), spec("later"))
		if err != nil {
			t.Fatalf("a create after a spare release: %v", err)
		}
		if err := c.Destroy(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, done = heldCreates(t, f, "held")
		if len(g.Pending()) != 1 {
			t.Fatalf("with the spare release spent, %d calls pending, want 1", len(g.Pending()))
		}
		g.Release(1)
		synctest.Wait()
		if got := finished(done); !slices.Equal(got, []string{"held"}) {
			t.Fatalf("finished %q, want held", got)
		}
	})
}

func TestGateCancelledCallLeavesPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New(fake.Options{})
		c := mustCreate(t, f, "x")
		g := f.Gate(fake.OpDestroy)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Destroy(ctx) }()
		synctest.Wait()
		call := g.Pending()[0]
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled destroy = %v", err)
		}
		if len(g.Pending()) != 0 || g.ReleaseCall(call) {
			t.Fatal("a call given up on is still pending")
		}
		f.Ungate(fake.OpDestroy)
		if err := c.Destroy(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCallKey(t *testing.T) {
	f := fake.New(fake.Options{})
	c := mustCreate(t, f, "wsk0_1")
	defer c.Destroy(context.Background())
	sp := spec("wsk0_2")
	tests := []struct {
		name string
		call fake.Call
		want string
	}{
		{"create names its spec", fake.Call{Op: fake.OpCreate, Spec: &sp}, "wsk0_2 create "},
		{"run names its activation", fake.Call{Op: fake.OpRun, Container: c, Activation: "a7"}, "wsk0_1 run a7"},
		{"destroy", fake.Call{Op: fake.OpDestroy, Container: c}, "wsk0_1 destroy "},
		{"no container", fake.Call{Op: fake.OpLogs}, " logs "},
	}
	for _, tt := range tests {
		if got := tt.call.Key(); got != tt.want {
			t.Errorf("%s: Key() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRunCallCarriesActivation: what a gate and an injector see of a run.
func TestRunCallCarriesActivation(t *testing.T) {
	var seen []string
	f := fake.New(fake.Options{Faults: func(c fake.Call) fake.Fault {
		seen = append(seen, c.Key())
		return fake.FaultNone
	}})
	c := mustCreate(t, f, "box")
	mustInit(t, c, 1)
	req := runReq(`{}`)
	req.ActivationID = "act1"
	if _, err := c.Run(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	_ = c.Destroy(context.Background())
	want := []string{"box create ", "box init ", "box run act1", "box destroy "}
	if !slices.Equal(seen, want) {
		t.Fatalf("injector saw %q, want %q", seen, want)
	}
}

func TestSeededFaultsIgnoreCallOrder(t *testing.T) {
	decide := func(c fake.Call, roll int) fake.Fault {
		if roll < 50 {
			return fake.FaultError
		}
		return fake.FaultNone
	}
	calls := func(names ...string) []fake.Call {
		var out []fake.Call
		for _, n := range names {
			out = append(out, fake.Call{Op: fake.OpRun, Spec: &factory.ContainerSpec{Name: n}, Activation: n})
		}
		return out
	}
	faults := func(seed uint64, cs []fake.Call) map[string][]fake.Fault {
		i := fake.Seeded(seed, decide)
		out := map[string][]fake.Fault{}
		for _, c := range cs {
			out[c.Key()] = append(out[c.Key()], i(c))
		}
		return out
	}
	forward := calls("a", "b", "c", "a", "d", "e", "f", "g", "h")
	backward := slices.Clone(forward)
	slices.Reverse(backward)
	f1, f2 := faults(9, forward), faults(9, backward)
	for k, v := range f1 {
		if !slices.Equal(v, f2[k]) {
			t.Fatalf("call %q: faults %v in one order, %v in the other", k, v, f2[k])
		}
	}
	// A different seed draws differently: the seed is used at all.
	differs := false
	for s := uint64(10); s < 20 && !differs; s++ {
		f3 := faults(s, forward)
		for k, v := range f1 {
			if !slices.Equal(v, f3[k]) {
				differs = true
			}
		}
	}
	if !differs {
		t.Fatal("ten other seeds drew the same faults as seed 9")
	}
}
