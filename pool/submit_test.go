package pool

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// A result waits on its channel for a reader that comes late, and every
// submitted activation gets its own.
func TestSubmitKeepsResultsForLateReaders(t *testing.T) {
	p, _, ctx := lateLogsPool(t, fake.Options{})
	first := p.Submit(act("a1", "ns", "sub", 128))
	second := p.Submit(act("a2", "ns", "sub", 128))
	// Invoke in between: the two answers above are not read yet.
	if _, err := p.Invoke(ctx, act("a3", "ns", "sub", 128)); err != nil {
		t.Fatal(err)
	}
	for id, ch := range map[string]<-chan *actors.RunResult{"a1": first, "a2": second} {
		select {
		case rr := <-ch:
			if rr.Err != nil || rr.Result.ActivationID != id {
				t.Fatalf("%s: %+v", id, rr)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no answer", id)
		}
	}
}

// A pool actor that stopped still answers: the activation was not run.
func TestSubmitToStoppedPool(t *testing.T) {
	cfg := testConfig(256)
	sys := actors.NewSystem(zerolog.Nop())
	defer sys.Shutdown()
	p, err := Spawn(sys.Root, Options{Config: cfg, Factory: fake.New(fake.Options{}), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case rr := <-p.Submit(act("late", "ns", "sub", 128)):
		if !errors.Is(rr.Err, ErrPoolStopped) || rr.Result.ActivationID != "late" {
			t.Fatalf("answer from a stopped pool: %+v", rr)
		}
	case <-ctx.Done():
		t.Fatal("no answer from a stopped pool")
	}
	if _, err := p.Invoke(ctx, act("late2", "ns", "sub", 128)); !errors.Is(err, ErrPoolStopped) {
		t.Fatalf("Invoke on a stopped pool: %v, want ErrPoolStopped", err)
	}
}
