package docker

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// The watcher reconciles the factory's containers with the engine: it
// follows the engine's events for this invoker's label, and a periodic
// list catches what the stream missed (while it was broken, or before it
// connected) and finds orphans.
const (
	// defaultWatchEvery paces the list: a lost container is known within
	// about this long even when its event was missed, at the cost of one
	// filtered list call per period.
	defaultWatchEvery = time.Second
	// defaultOrphanGrace is how old a container with this invoker's marks
	// must be before it counts as an orphan: a creation in flight has
	// its container in the engine a moment before the factory knows its id.
	defaultOrphanGrace = 30 * time.Second
	// eventsRetry is the pause before reconnecting a broken event stream.
	eventsRetry = time.Second
)

var _ factory.Watcher = (*Factory)(nil)

// Watch reports the die, oom, destroy, pause and unpause of the containers
// this factory created, once per change of state, and removes orphans,
// until ctx ends.
func (f *Factory) Watch(ctx context.Context, emit func(factory.EngineEvent)) {
	w := &watcher{f: f, emit: emit, state: map[string]string{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.follow(ctx)
	}()
	w.poll(ctx)
	wg.Wait()
}

type watcher struct {
	f    *Factory
	emit func(factory.EngineEvent)

	mu    sync.Mutex
	state map[string]string // last state reported per owned container: "running", "paused", "exited", "gone"
}

// follow reads the event stream, reconnecting after it breaks.
func (w *watcher) follow(ctx context.Context) {
	labels := map[string]string{LabelInvoker: w.f.invoker}
	for ctx.Err() == nil {
		evs, errs := w.f.eng.Events(ctx, labels)
		for ev := range evs {
			w.onEvent(ev)
		}
		if err := <-errs; err != nil && ctx.Err() == nil {
			w.f.log.Warn().Err(err).Msg("engine event stream broke; reconnecting (the periodic list covers the gap)")
		}
		t := time.NewTimer(eventsRetry)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

func (w *watcher) onEvent(ev containerEvent) {
	switch ev.Action {
	case "die", "oom":
		w.report(ev.ID, "exited", ev.Action)
	case "destroy":
		w.report(ev.ID, "gone", ev.Action)
	case "pause":
		w.report(ev.ID, "paused", ev.Action)
	case "unpause":
		w.report(ev.ID, "running", ev.Action)
	}
}

// poll lists this invoker's containers every watchEvery.
func (w *watcher) poll(ctx context.Context) {
	t := time.NewTicker(w.f.watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.reconcile(ctx)
	}
}

// reconcile compares one list with the owned containers: an owned one
// missing from the list is gone (if it was known before the list began),
// one listed in another state than last reported is reported, and a
// listed one that is not owned and older than the grace is removed.
func (w *watcher) reconcile(ctx context.Context) {
	f := w.f
	began := time.Now()
	lctx, cancel := withTimeout(ctx, f.timeouts.Ps)
	list, err := f.eng.List(lctx, map[string]string{LabelInvoker: f.invoker}, f.namePrefix)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn().Err(err).Msg("listing this invoker's containers for reconciliation failed")
		}
		return
	}
	owned := f.owned.snapshot()
	listed := make(map[string]bool, len(list))
	for _, c := range list {
		listed[c.ID] = true
		if _, ok := owned[c.ID]; ok {
			w.report(c.ID, listState(c.State), "list: "+c.State)
			continue
		}
		if c.Labels[LabelInvoker] == f.invoker && strings.HasPrefix(c.Name, f.namePrefix) && began.Sub(c.Created) > f.orphanGrace {
			w.removeOrphan(ctx, c)
		}
	}
	for id, since := range owned {
		if !listed[id] && since.Before(began) {
			// Known before the list began and not in it: removed.
			if _, still := f.owned.knownSince(id); still {
				w.report(id, "gone", "list: absent")
			}
		}
	}
	w.forgetUnowned(owned)
}

// listState maps the engine's state to the watcher's.
func listState(s string) string {
	switch s {
	case "paused":
		return "paused"
	case "exited", "dead", "removing":
		return "exited"
	}
	return "running"
}

// report emits an event when id is owned and its state changed.
func (w *watcher) report(id, state, detail string) {
	if _, ok := w.f.owned.knownSince(id); !ok {
		return // not ours, or removed by us: the pool knows
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.state[id]
	if prev == state || prev == "gone" {
		return
	}
	w.state[id] = state
	var kind factory.EngineEventKind
	switch state {
	case "exited":
		kind = factory.EventDied
	case "gone":
		kind = factory.EventGone
	case "paused":
		kind = factory.EventPaused
	case "running":
		if prev != "paused" {
			return // first sight of a running container: nothing changed
		}
		kind = factory.EventUnpaused
	}
	// Under the lock, so that the stream and the list report in order.
	w.emit(factory.EngineEvent{ID: id, Kind: kind, Detail: detail})
}

// forgetUnowned drops the states of containers the factory removed.
func (w *watcher) forgetUnowned(owned map[string]time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.state {
		if _, ok := owned[id]; !ok {
			delete(w.state, id)
		}
	}
}

func (w *watcher) removeOrphan(ctx context.Context, c containerSummary) {
	f := w.f
	if c.State == "paused" {
		uctx, cancel := withTimeout(ctx, f.timeouts.Unpause)
		_ = f.eng.Unpause(uctx, c.ID) // the forced remove kills a paused container too
		cancel()
	}
	rctx, cancel := withTimeout(ctx, f.timeouts.Rm)
	defer cancel()
	if err := f.eng.Remove(rctx, c.ID); err != nil {
		f.log.Warn().Err(err).Str("container", c.Name).Msg("removing an orphan container failed; the next list tries again")
		return
	}
	f.log.Warn().Str("container", c.Name).Str("id", c.ID).Msg("removed an orphan container: it carries this invoker's marks but this invoker did not create it")
}
