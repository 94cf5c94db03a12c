package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Dead letters are normal during shutdown and removal races (a timer or an
// I/O result reaching an actor that just stopped), so only a few per
// interval are logged.
const (
	deadLetterThrottleCount    = 3
	deadLetterThrottleInterval = time.Second
)

// NewSystem returns an actor system that logs through log (protoactor's
// slog output is routed into zerolog with component=protoactor), throttles
// dead-letter logging, and logs every supervision decision at warn level,
// because protoactor itself reports a crashed actor only at info. Extra
// options are applied after these defaults and may override them.
func NewSystem(log zerolog.Logger, opts ...actor.ConfigOption) *actor.ActorSystem {
	base := []actor.ConfigOption{
		actor.WithLoggerFactory(func(s *actor.ActorSystem) *slog.Logger {
			return slog.New(zerolog.NewSlogHandler(log.With().Str("component", "protoactor").Logger())).
				With("system", s.ID)
		}),
		actor.WithDeadLetterThrottleCount(deadLetterThrottleCount),
		actor.WithDeadLetterThrottleInterval(deadLetterThrottleInterval),
		actor.WithDeadLetterRequestLogging(false),
	}
	sys := actor.NewActorSystem(append(base, opts...)...)
	supLog := log.With().Str("component", "supervisor").Logger()
	sys.EventStream.Subscribe(func(evt any) {
		if e, ok := evt.(*actor.SupervisorEvent); ok {
			supLog.Warn().Str("child", e.Child.String()).Interface("reason", e.Reason).
				Str("directive", e.Directive.String()).Msg("actor crashed")
		}
	})
	return sys
}
