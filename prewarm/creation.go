package prewarm

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// orphanDestroyTimeout bounds the removal of a container whose creation
// this scheduler no longer tracks (it was restarted meanwhile).
const orphanDestroyTimeout = time.Minute

// spec describes the container of a stem cell of k.
func (s *scheduler) spec(ref uint64, k Key) factory.ContainerSpec {
	cfg := s.opts.Config
	c := s.byKey[k]
	sp := factory.ContainerSpec{
		TransactionID: "invokerWarmup",
		Name:          factory.ContainerName(factory.ContainerNamePrefix(cfg.Invoker.Name), ref, "prewarm", k.Kind),
		Image:         c.Image,
		UserProvided:  false,
		Kind:          k.Kind,
		Memory:        k.Memory,
		CPUShares:     cfg.ContainerPool.CPUShare(k.Memory),
	}
	if limit, ok := cfg.ContainerPool.CPULimit(k.Memory); ok {
		sp.CPULimit = limit
	}
	return sp
}

func (s *scheduler) onReserved(ctx actor.Context, msg *actors.ReserveMemoryReply) {
	c, ok := s.inFlight[msg.Ref]
	if !ok || c.granted {
		// Not ours (any more): give the memory back rather than leak it.
		if !ok && msg.Granted {
			ctx.Send(s.pool, &actors.ReleaseMemory{Ref: msg.Ref})
		}
		return
	}
	if s.stopped {
		delete(s.inFlight, msg.Ref)
		if msg.Granted {
			ctx.Send(s.pool, &actors.ReleaseMemory{Ref: msg.Ref})
		}
		return
	}
	if !msg.Granted {
		delete(s.inFlight, msg.Ref)
		// Back to the head of the queue: it keeps its place and still counts
		// as stock, so the next round retries it first.
		s.queue = append([]Key{c.key}, s.queue...)
		s.memRefused = true
		s.m.forKey(s.m.refusals, c.key).Inc()
		if s.refusedLogged != c.round {
			s.refusedLogged = c.round
			s.opts.Log.Warn().Str("kind", c.key.Kind).Int64("memory_mb", int64(c.key.Memory/config.MB)).
				Int("queued", len(s.queue)).
				Msg("cannot create stem cell: the pool refused the memory; retrying on the next round or capacity change")
		}
		s.pump(ctx) // arms the next round when throttled
		return
	}
	c.granted = true
	s.m.forKey(s.m.creations, c.key).Inc()
	ctx.Request(s.opts.Factory, &actors.CreateContainer{Ref: msg.Ref, Spec: s.spec(msg.Ref, c.key)})
}

func (s *scheduler) onCreated(ctx actor.Context, msg *actors.ContainerCreated) {
	c, ok := s.inFlight[msg.Ref]
	if !ok || !c.granted {
		s.orphan(ctx, msg)
		return
	}
	delete(s.inFlight, msg.Ref)
	if msg.Err != nil || msg.Container == nil {
		ctx.Send(s.pool, &actors.ReleaseMemory{Ref: msg.Ref})
		s.failures++
		s.m.forKey(s.m.failures, c.key).Inc()
		ev := s.opts.Log.Warn().Err(msg.Err).Str("kind", c.key.Kind).
			Int64("memory_mb", int64(c.key.Memory/config.MB)).Int("consecutive_failures", s.failures)
		if s.retryStopped() {
			ev.Int("retry_limit", s.opts.Config.ContainerPool.PrewarmMaxRetryLimit).
				Msg("stem cell creation failed; retry limit reached, backfill stops until the next check")
		} else {
			ev.Msg("stem cell creation failed")
		}
		s.reconcile(TriggerBackfill)
		s.pump(ctx)
		return
	}
	now := s.opts.Clock.Now()
	r := &ready{key: c.key, container: msg.Container, created: now}
	if cell := s.byKey[c.key]; cell.Reactive != nil && cell.Reactive.TTL > 0 {
		r.expires = now.Add(cell.Reactive.TTL)
	}
	s.failures = 0
	s.idle[msg.Ref] = r
	ctx.Send(s.pool, &actors.StemCellReady{
		Ref: msg.Ref, Kind: c.key.Kind, Memory: c.key.Memory,
		Container: msg.Container, Created: r.created, Expires: r.expires,
	})
	s.pump(ctx)
}

// orphan disposes of a creation this instance does not know (started by a
// previous incarnation before a restart): destroy the container off the
// actor and return the reservation, so nothing leaks.
func (s *scheduler) orphan(ctx actor.Context, msg *actors.ContainerCreated) {
	ctx.Send(s.pool, &actors.ReleaseMemory{Ref: msg.Ref})
	if msg.Err != nil || msg.Container == nil {
		return
	}
	s.opts.Log.Warn().Uint64("ref", msg.Ref).Str("container", msg.Container.ID()).
		Msg("destroying a stem cell whose creation is no longer tracked")
	log := s.opts.Log
	go func(c factory.Container) {
		dctx, cancel := context.WithTimeout(context.Background(), orphanDestroyTimeout)
		defer cancel()
		if err := c.Destroy(dctx); err != nil {
			log.Error().Err(err).Str("container", c.ID()).Msg("destroying an untracked stem cell")
		}
	}(msg.Container)
}
