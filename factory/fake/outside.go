package fake

import (
	"context"
	"errors"
	"fmt"

	"github.com/stemcell-io/stemcell/factory"
)

// ErrRemovedOutside is returned by suspend, resume and logs on a container
// that RemoveOutside took away.
var ErrRemovedOutside = errors.New("fake container was removed outside the pool")

var _ factory.Watcher = (*Factory)(nil)

// Watch reports what RemoveOutside, KillOutside and PauseOutside do, as
// the Docker factory reports the engine's events, until ctx ends. The
// fake's own operations (the pool's pauses and destroys) are not reported:
// the engine's reports of those are only echoes. The fake has no orphans.
func (f *Factory) Watch(ctx context.Context, emit func(factory.EngineEvent)) {
	f.mu.Lock()
	f.watchers++
	id := f.watchers
	if f.watching == nil {
		f.watching = map[uint64]func(factory.EngineEvent){}
	}
	f.watching[id] = emit
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	delete(f.watching, id)
	f.mu.Unlock()
}

// RemoveOutside plays `docker rm -f`: the container dies and the engine
// forgets it (and its memory) at once. A Destroy afterwards succeeds, as a
// forced remove of an absent container does.
func (f *Factory) RemoveOutside(id string) error {
	c, err := f.outside(id, "remove")
	if err != nil {
		return err
	}
	f.mu.Lock()
	if _, live := f.live[id]; live {
		delete(f.live, id)
		f.memLive.Add(-int64(c.spec.Memory))
	}
	f.mu.Unlock()
	c.setFlag(stDead | stRemovedOutside)
	f.emit(factory.EngineEvent{ID: id, Kind: factory.EventGone, Detail: "destroy"})
	return nil
}

// KillOutside plays `docker kill`: the runtime is gone (runs answer as a
// broken connection) but the container exists until destroyed.
func (f *Factory) KillOutside(id string) error {
	c, err := f.outside(id, "kill")
	if err != nil {
		return err
	}
	c.setFlag(stDead)
	f.emit(factory.EngineEvent{ID: id, Kind: factory.EventDied, Detail: "die"})
	return nil
}

// PauseOutside plays `docker pause`: a run on the container is then a
// violation (it would hang until its time limit), so the pool must resume
// or replace it before using it again.
func (f *Factory) PauseOutside(id string) error {
	c, err := f.outside(id, "pause")
	if err != nil {
		return err
	}
	c.setFlag(stPaused)
	f.emit(factory.EngineEvent{ID: id, Kind: factory.EventPaused, Detail: "pause"})
	return nil
}

// outside finds a live container for an outside operation.
func (f *Factory) outside(id, op string) (*Container, error) {
	f.mu.Lock()
	c := f.live[id]
	f.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("fake %s outside: container %q is not alive", op, id)
	}
	return c, nil
}

func (f *Factory) emit(ev factory.EngineEvent) {
	f.mu.Lock()
	sinks := make([]func(factory.EngineEvent), 0, len(f.watching))
	for _, s := range f.watching {
		sinks = append(sinks, s)
	}
	f.mu.Unlock()
	for _, s := range sinks {
		s(ev)
	}
}
