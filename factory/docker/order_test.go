package docker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
)

// Cold starts sent to the factory actor one after another reach the engine
// in that order: with docker.parallel-runs 1 the engine creates a, then b,
// then c, as its containers' creation times show.
func TestCreateOrderKeptThroughTheFactoryActor(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	cfg.Docker.ParallelRuns = 1
	f := newTestFactory(t, cfg)

	create, answers := factoryActor(t, f)

	specs := make([]factory.ContainerSpec, 3)
	for i := range specs {
		specs[i] = specFor(f, testEnv.fakeImage, false, nil)
		create(&actors.CreateContainer{Ref: uint64(i), Spec: specs[i]})
	}

	created := make([]time.Time, len(specs))
	deadline := time.After(2 * time.Minute)
	for range specs {
		var m *actors.ContainerCreated
		select {
		case m = <-answers:
		case <-deadline:
			t.Fatal("the factory actor did not answer every create within 2 minutes")
		}
		if m.Err != nil {
			t.Fatalf("create %s: %v", specs[m.Ref].Name, m.Err)
		}
		defer m.Container.Destroy(context.Background())
		info, err := testEnv.eng.cli.ContainerInspect(testCtx(t), m.Container.ID())
		if err != nil {
			t.Fatal(err)
		}
		if created[m.Ref], err = time.Parse(time.RFC3339Nano, info.Created); err != nil {
			t.Fatalf("container %s: creation time %q: %v", info.Name, info.Created, err)
		}
	}
	byCreation := make([]int, len(specs))
	for i := range byCreation {
		byCreation[i] = i
	}
	slices.SortFunc(byCreation, func(a, b int) int { return created[a].Compare(created[b]) })
	if !slices.Equal(byCreation, []int{0, 1, 2}) {
		t.Fatalf("the engine created the containers in the order %v of the requests, want [0 1 2] (creation times %v)", byCreation, created)
	}
}

// orderEngine records the order in which container creates reach the
// engine and holds image pulls until the test lets them fail.
type orderEngine struct {
	engine
	pulling  chan<- string
	pullGate <-chan struct{}

	mu      sync.Mutex
	created []string
}

func (e *orderEngine) ImagePull(ctx context.Context, ref, auth string, _ func(pullProgress)) error {
	e.pulling <- ref
	<-e.pullGate
	return errors.New("registry unreachable (test)")
}

func (e *orderEngine) Create(ctx context.Context, s createSpec) (string, error) {
	e.mu.Lock()
	e.created = append(e.created, s.Name)
	e.mu.Unlock()
	return e.engine.Create(ctx, s)
}

// A creation that pulls its image first keeps its place without holding
// back the ones reserved after it: while a's pull hangs, b and c get the
// only start slot in their order, and a follows once its pull ends.
func TestPullingCreationDoesNotHoldBackLaterOnes(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	cfg.Docker.ParallelRuns = 1
	f := newTestFactory(t, cfg)
	pulling, pullGate := make(chan string, 1), make(chan struct{})
	var openGate sync.Once
	defer openGate.Do(func() { close(pullGate) })
	oe := &orderEngine{engine: f.eng, pulling: pulling, pullGate: pullGate}
	f.eng = oe

	// a: a user image with a pinned tag, so its failed pull falls back to
	// the local image; b, c: runtime images, never pulled.
	specs := []factory.ContainerSpec{
		specFor(f, testEnv.fakeImage, true, nil),
		specFor(f, testEnv.fakeImage, false, nil),
		specFor(f, testEnv.fakeImage, false, nil),
	}
	creations := make([]func(context.Context) (factory.Container, error), len(specs))
	for i, spec := range specs {
		creations[i] = f.ReserveCreate(spec)
	}
	errs := make([]chan error, len(specs))
	for i, create := range creations {
		errs[i] = make(chan error, 1)
		go func() {
			c, err := create(testCtx(t))
			if err == nil {
				err = c.Destroy(context.Background())
			}
			errs[i] <- err
		}()
	}
	deadline := time.After(2 * time.Minute)
	select {
	case <-pulling:
	case <-deadline:
		t.Fatal("a never started its pull")
	}
	for _, i := range []int{1, 2, 0} {
		if i == 0 {
			openGate.Do(func() { close(pullGate) })
		}
		select {
		case err := <-errs[i]:
			if err != nil {
				t.Fatalf("create %s: %v", specs[i].Name, err)
			}
		case <-deadline:
			t.Fatalf("create %s did not finish within 2 minutes (a's pull still hangs: %v)", specs[i].Name, i != 0)
		}
	}
	oe.mu.Lock()
	defer oe.mu.Unlock()
	want := []string{specs[1].Name, specs[2].Name, specs[0].Name}
	if !slices.Equal(oe.created, want) {
		t.Fatalf("the engine got creates for %v, want %v", oe.created, want)
	}
}
