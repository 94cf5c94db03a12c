package pool

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/internal/protocol"
)

// The container's side of the pool's keep-alive policy. Without a plan
// from the pool the container keeps OpenWhisk's timers (pause after
// pause-grace, removal idle-container after the pause), which is also the
// pool's default policy: the pool sends a plan only when its policy decides
// otherwise, so the default costs no message.

// keepAlivePlan is a protocol.KeepAlive the container follows until its
// next job starts.
type keepAlivePlan struct {
	set               bool
	pauseAt, removeAt time.Time // zero: never
}

func (a *containerActor) onKeepAlive(ctx actor.Context, m *protocol.KeepAlive) {
	if a.closed() {
		return
	}
	a.plan = keepAlivePlan{set: true, pauseAt: m.PauseAt, removeAt: m.RemoveAt}
	switch a.state {
	case stateReady:
		a.followPlan(ctx)
	case statePaused:
		a.armRemoval(ctx)
	}
	// Running (the plan came before the actor heard its last job end),
	// Pausing: followed on going Ready, on the pause's end.
}

// followPlan arms a Ready container's removal and pause from the plan, or
// does either at once when it is due.
func (a *containerActor) followPlan(ctx actor.Context) {
	if a.armRemoval(ctx) {
		return
	}
	at, ok := a.pauseDue()
	if !ok || (a.idle.armed && !at.Before(a.idle.due)) {
		return // never, or the armed check comes in time
	}
	if left := at.Sub(a.p.Clock.Now()); left > 0 {
		a.armPause(ctx, left)
		return
	}
	a.pause(ctx)
}

// armRemoval arms the plan's removal as the state's timer (a pause moves
// on to Pausing, which cancels it; the pause's end arms it again). It
// removes the container at once, and reports true, when the removal is
// due.
func (a *containerActor) armRemoval(ctx actor.Context) bool {
	if a.plan.removeAt.IsZero() {
		a.cancelStateTimer()
		return false
	}
	left := a.plan.removeAt.Sub(a.p.Clock.Now())
	if left <= 0 {
		a.removeIdle(ctx)
		return true
	}
	a.armTimer(ctx, left, func(gen uint64) any { return &containerIdleTimeout{gen} })
	return false
}

// removeIdle ends an idle container's keep-alive: it goes away on its own.
func (a *containerActor) removeIdle(ctx actor.Context) {
	a.log.Debug().Str("state", a.state.String()).Msg("idle timeout: removing")
	a.leave(ctx, false)
	a.advance(ctx)
}

// pauseDue is when a Ready container pauses, false for never: the plan's
// time, or pause-grace after it last went Ready.
func (a *containerActor) pauseDue() (time.Time, bool) {
	if a.plan.set {
		return a.plan.pauseAt, !a.plan.pauseAt.IsZero()
	}
	return a.idle.since.Add(a.p.Config.ContainerProxy.Timeouts.PauseGrace), true
}
