package prewarm

import (
	"context"
	"sort"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
)

// healthTick starts a round of TCP checks of the idle stem cells, unless the
// previous round is still running, and arms the next tick.
func (s *scheduler) healthTick(ctx actor.Context) {
	hc := s.opts.Config.ContainerProxy.ActionHealthCheck
	s.timers.Arm(ctx, timerHealth, hc.CheckPeriod)
	if s.healthBusy {
		return
	}
	var targets []healthTarget
	for ref, r := range s.idle {
		if r.removing == "" && r.container != nil {
			targets = append(targets, healthTarget{ref: ref, addr: r.container.Addr()})
		}
	}
	if len(targets) == 0 {
		return
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].ref < targets[j].ref })
	s.healthGen++
	s.healthBusy = true
	hctx, cancel := context.WithCancel(context.Background())
	s.healthCancel = cancel
	gen, dial, self, root := s.healthGen, s.opts.Dial, ctx.Self(), ctx.ActorSystem().Root
	go func() {
		defer cancel()
		res := probeAll(hctx, dial, targets, hc.CheckPeriod)
		root.Send(self, &healthRound{gen: gen, results: res})
	}()
}

// onHealth applies a round's results: a stem cell that failed max-fails
// checks in a row is removed, and replaced once the pool confirms.
func (s *scheduler) onHealth(ctx actor.Context, msg *healthRound) {
	if msg.gen != s.healthGen {
		return
	}
	s.healthBusy = false
	s.healthCancel = nil
	s.healthDone++
	if s.stopped {
		return
	}
	maxFails := s.opts.Config.ContainerProxy.ActionHealthCheck.MaxFails
	for _, res := range msg.results {
		r, ok := s.idle[res.ref]
		if !ok || r.removing != "" {
			continue // taken or removed while the check ran
		}
		var remove bool
		r.healthFail, remove = HealthVerdict(r.healthFail, res.err, maxFails)
		if !remove {
			continue
		}
		r.removing = reasonUnhealthy
		s.m.forKey(s.m.unhealthy, r.key).Inc()
		s.opts.Log.Warn().Err(res.err).Uint64("ref", res.ref).Str("container", r.container.ID()).
			Int("fails", r.healthFail).Msg("stem cell failed its health checks; removing it")
		ctx.Send(s.pool, &actors.RemoveStemCell{Ref: res.ref, Reason: reasonUnhealthy})
	}
}
