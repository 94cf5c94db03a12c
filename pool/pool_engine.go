package pool

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/factory"
)

// The pool's part in reconciling with the engine: the factory actor
// forwards what the engine reports about a container (removed, died,
// paused from outside), and the pool hands it to the container's actor,
// which alone knows what the container is doing (container_engine.go).
// The ledger moves only through the actor's usual reports.

// knowContainer records e's engine container id so that engine events
// find its actor. A cold container's id is known from ContainerReady on:
// before that its first /init notices a dead container by itself.
func (p *poolActor) knowContainer(e *entry, id string) {
	if id == "" || e.cid == id {
		return
	}
	if p.byContainer == nil {
		p.byContainer = map[string]*entry{}
	}
	e.cid = id
	p.byContainer[id] = e
}

func (p *poolActor) forgetContainer(e *entry) {
	if e.cid != "" && p.byContainer[e.cid] == e {
		delete(p.byContainer, e.cid)
	}
}

// onEngineEvent forwards an engine event to the container's actor. Events
// about containers the pool does not hold (its own removals finishing,
// creations that failed) are expected and dropped.
func (p *poolActor) onEngineEvent(ctx actor.Context, m *factory.EngineEvent) {
	e := p.byContainer[m.ID]
	if e == nil {
		return
	}
	p.log.Debug().Str("container", e.pid.Id).Str("id", m.ID).Stringer("event", m.Kind).Str("detail", m.Detail).Msg("engine event")
	ctx.Send(e.pid, m)
}
