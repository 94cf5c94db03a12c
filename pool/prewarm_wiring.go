package pool

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/prewarm"
)

// prewarmHook builds the prewarm scheduler, the pool's child. Its props are
// made once, so a restarted pool does not register its metrics twice.
func prewarmHook(opts Options) func(self, factoryPID *actor.PID) *actor.Props {
	var props *actor.Props
	return func(self, factoryPID *actor.PID) *actor.Props {
		if props == nil {
			props = prewarm.Props(prewarm.Options{
				Config:     opts.Config,
				Pool:       self,
				Factory:    factoryPID,
				Clock:      opts.Clock,
				Log:        opts.Log,
				Registerer: opts.Registerer,
			})
		}
		return props
	}
}
